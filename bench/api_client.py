"""A small HTTP/1.1 load client on asyncio streams (stdlib only) for bench/api.py.

Each client is one task with one connection at a time: it keeps the connection when the server
offers keep-alive and reconnects when the server closes it (gunicorn's sync workers answer
`Connection: close`, so there each request pays its connect, as behind a proxy that does not
pool). A request's latency runs from before its connect (if it needs one) to the last byte of
the body. Bounded: every client sends a fixed list of requests, each with a timeout.
"""

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field

TIMEOUT_S = 30.0


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    expect: int = 200


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self):
        return json.loads(self.body)


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def send(self, request: Request) -> Answer:
        started = time.perf_counter()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in request.headers.items()]
        if request.body or request.method != "GET":
            head.append(f"Content-Length: {len(request.body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + request.body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection without an answer")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        else:  # no length: the body runs to the end of the connection
            body = await self.reader.read()
            headers["connection"] = "close"
        seconds = time.perf_counter() - started
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, headers, body, seconds)


async def _client(host: str, port: int, requests: list[Request], on_answer) -> None:
    connection = Connection(host, port)
    try:
        for request in requests:
            try:
                answer = await asyncio.wait_for(connection.send(request), TIMEOUT_S)
            except (TimeoutError, OSError, ConnectionError, ValueError, IndexError) as exc:
                await connection.close()
                on_answer(request, None, exc)
                continue
            on_answer(request, answer, None)
    finally:
        await connection.close()


@dataclass
class PhaseResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    answers: list[tuple[Request, Answer]] = field(default_factory=list)
    first_errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000


def run_phase(
    host: str, port: int, per_client: list[list[Request]], *, keep_answers: bool = False
) -> PhaseResult:
    """Every client's list of requests at once (one task each); wall time and latencies."""
    result = PhaseResult()

    def on_answer(request: Request, answer: Answer | None, exc: Exception | None) -> None:
        result.requests += 1
        if answer is None or answer.status != request.expect:
            result.errors += 1
            if len(result.first_errors) < 5:
                what = repr(exc) if answer is None else f"{answer.status} {answer.body[:300]!r}"
                result.first_errors.append(f"{request.method} {request.path}: {what}")
        if answer is not None:
            result.latencies.append(answer.seconds)
            if keep_answers:
                result.answers.append((request, answer))

    async def main() -> None:
        await asyncio.gather(*(_client(host, port, reqs, on_answer) for reqs in per_client))

    started = time.perf_counter()
    asyncio.run(main())
    result.seconds = time.perf_counter() - started
    return result
