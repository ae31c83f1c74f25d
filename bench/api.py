"""The API under load (issue 11): repayments through gunicorn on PostgreSQL, beside a ceiling.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/lending_bench_api \\
        .venv/bin/python -m bench.api --loans 4000 --clients 16

1. book: the database DATABASE_URL names is dropped, recreated and migrated; one product, a
   pool of borrowers and `--loans` active loans (plus a few for the warm-up), each booked and
   disbursed through the services (`loan_book_approved`, `loan_disburse`) a month ago, so the
   first installment falls due about today; one payment-gateway user (the finance role) and
   its token;
2. gunicorn, the production WSGI server, serves `config.wsgi` with production settings (DEBUG
   off) plus bench/api_settings.py (a ping view, throttle rates no run reaches), sync workers,
   2 × cores + 1 of them (gunicorn's advice), persistent database connections (CONN_MAX_AGE);
3. this process, a second one on loopback, drives it with `--clients` concurrent clients
   (bench/api_client.py: asyncio, raw HTTP/1.1):
   - warm-up: pings and a few repayments on loans of their own, unmeasured;
   - ceiling: `GET /bench/ping/`, the cheapest authenticated DRF request (token lookup,
     permission, throttles, rendering; no work), `--pings` per client;
   - repayments: `POST /api/v1/loans/{ref}/repayments/` with an `Idempotency-Key`, one per
     loan, every client on loans of its own (no two clients wait for one loan's lock);
   - replays: each client posts `--replays` of its repayments again, same key and body: the
     answer must be the first one (`Idempotent-Replayed: true`, the same transaction);
4. gunicorn stops; the book is checked: one repayment transaction per key (nothing posted
   twice) and `reconcile` (every loan's cached balances rebuilt from its transactions) clean.

The last line printed is one JSON object: `repayments_per_s`, `ceiling_per_s`,
`ratio_to_ceiling`, `p50_ms`, `p99_ms` (of the repayments), `errors` (any answer other than the
expected one, in any phase, or a replay that was not the first answer) and more.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from bench.api_client import PhaseResult, Request, run_phase  # noqa: E402
from bench.nightly import (  # noqa: E402
    _literal,
    admin,
    db_settings,
    drop,
    fresh_copy,
    quote,
    say,
    schema_fingerprint,
    template_params,
    work_db,
)
from lending import roles  # noqa: E402
from lending.access import SYSTEM  # noqa: E402
from lending.identity import generate_national_id  # noqa: E402
from lending.models import Loan, LoanProduct, Transaction, TransactionKind  # noqa: E402
from lending.models.borrowers import KycStatus  # noqa: E402
from lending.models.loans import LoanOrigin  # noqa: E402
from lending.services.borrowers import borrower_create  # noqa: E402
from lending.services.loans import loan_book_approved, loan_disburse  # noqa: E402
from lending.services.products import product_save  # noqa: E402
from lending.services.reconcile import reconcile_loans  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
WARMUP_PINGS = 20
WARMUP_REPAYMENTS = 3
LOANS_PER_BORROWER = 10
REPAYMENT = "100.00"
GATEWAY = "payment-gateway"
SECRET = "bench-not-a-secret-not-for-production-use-at-all-0123456789"


# ----------------------------------------------------------------------------- the book


def fresh_database() -> None:
    db_settings()  # PostgreSQL or exit
    drop(work_db())
    admin(f"CREATE DATABASE {quote(work_db())}")
    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    say(f"  migrate ({time.monotonic() - started:.1f} s)")


def seed(loans: int) -> None:
    """`loans` active loans through the services, and the payment gateway's user and token."""
    today = timezone.localdate()
    started = time.monotonic()
    product = product_save(
        product=LoanProduct(
            code="bench",
            name="Bench 12 months",
            min_rate=Decimal("0.05"),
            max_rate=Decimal("0.18"),
            min_term_months=1,
            max_term_months=36,
            min_amount=Decimal("100.00"),
            max_amount=Decimal("200000.00"),
        ),
        acting_user=SYSTEM,
    )
    borrowers = []
    for n in range(-(-loans // LOANS_PER_BORROWER)):
        born = date(1996 - n // 100 % 30, 6, 1 + n // 3000 % 28)  # unique with the sequence
        borrowers.append(
            borrower_create(
                full_name=f"借款人{n}",
                national_id=generate_national_id(date_of_birth=born, sex="M", sequence=n % 100),
                date_of_birth=born,
                sex="M",
                mobile=f"139{n:08d}",
                monthly_income=Decimal("12000.00"),
                kyc_status=KycStatus.VERIFIED,
                acting_user=SYSTEM,
            )
        )
    say(f"  {len(borrowers):,} borrowers ({time.monotonic() - started:.1f} s)")
    for n in range(loans):
        loan = loan_book_approved(
            borrower=borrowers[n // LOANS_PER_BORROWER],
            product=product,
            principal=Decimal("10000.00"),
            annual_rate=Decimal("0.18"),
            term_months=12,
            origin=LoanOrigin.MIGRATED,
            acting_user=SYSTEM,
        )
        loan_disburse(
            loan_id=loan.pk, disbursement_date=today - timedelta(days=30), acting_user=SYSTEM
        )
        if (n + 1) % 1000 == 0 or n + 1 == loans:
            say(f"  {n + 1:,} loans ({time.monotonic() - started:.0f} s)")
    gateway = User.objects.create_user(username=GATEWAY, is_staff=False)
    gateway.groups.add(Group.objects.get(name=roles.FINANCE))
    Token.objects.create(user=gateway)
    connections.close_all()


def book(loans: int, *, keep: bool) -> tuple[list[str], str]:
    """A fresh book of `loans` loans in the work database; with `keep`, built once a day per
    size and schema and copied from a template database (the run consumes its copy)."""
    template = f"{work_db()}_tpl_{loans}"
    wanted = {
        "loans": loans,
        "date": timezone.localdate().isoformat(),  # the loans' dates are relative to today
        "schema": schema_fingerprint(),
        "book": 1,
    }
    if keep and template_params(template) == wanted:
        say(f"  copy of template database {template} ({fresh_copy(template):.1f} s)")
    else:
        fresh_database()
        seed(loans)
        if keep:
            drop(template)
            admin(f"CREATE DATABASE {quote(template)} TEMPLATE {quote(work_db())}")
            admin(f"COMMENT ON DATABASE {quote(template)} IS {_literal(wanted)}")
            say(f"  kept as template database {template}")
    references = list(Loan.objects.order_by("pk").values_list("reference", flat=True))
    token = Token.objects.get(user__username=GATEWAY).key
    connections.close_all()
    return references, token


# ----------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, *, workers: int, worker_class: str, threads: int):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.api_settings",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or SECRET,
        # DEBUG off needs the keys this process has (from the environment or var/).
        "PII_ENCRYPTION_KEYS": ",".join(settings.PII_ENCRYPTION_KEYS),
        "PII_HASH_KEY": settings.PII_HASH_KEY,
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback (TLS ends at the proxy)
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "600"),
        "LOG_LEVEL": "WARNING",
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--no-control-socket",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def wait_until_up(port: int, token: str, server) -> None:
    deadline = time.monotonic() + 60
    ping = Request("GET", "/bench/ping/", {"Authorization": f"Token {token}"})
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited ({server.returncode})")
        if run_phase(HOST, port, [[ping]]).errors == 0:
            return
        time.sleep(0.2)
    sys.exit("gunicorn did not answer within 60 s")


# CPU seconds each side spent in a phase (Linux /proc): unlike wall time, barely moved by other
# work on the machine, so the ratio of CPU per request is the steadier comparison.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def cpu_snapshot(server) -> dict[str, dict[int, float]]:
    """CPU seconds so far of gunicorn's workers, of the database's server processes serving
    the work database, and of this process (the client)."""
    try:
        with open(f"/proc/{server.pid}/task/{server.pid}/children") as children:
            workers = [int(pid) for pid in children.read().split()]
    except OSError:
        workers = []
    backends = [
        row[0] for row in admin("SELECT pid FROM pg_stat_activity WHERE datname = %s", [work_db()])
    ]
    return {
        "gunicorn": {pid: _cpu_of(pid) for pid in workers},
        "postgres": {pid: _cpu_of(pid) for pid in backends},
        "client": {os.getpid(): _cpu_of(os.getpid())},
    }


def cpu_ms_per_request(before: dict, after: dict, requests: int) -> dict[str, float]:
    return {
        side: round(
            sum(cpu - before[side].get(pid, 0.0) for pid, cpu in after[side].items())
            * 1000
            / max(requests, 1),
            2,
        )
        for side in after
    }


def stop(server) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# ----------------------------------------------------------------------------- the load


def repayment(reference: str, token: str, key: str, value_date: str) -> Request:
    body = {"amount": REPAYMENT, "value_date": value_date, "channel": "bench", "external_id": key}
    return Request(
        "POST",
        f"/api/v1/loans/{reference}/repayments/",
        {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
        json.dumps(body).encode(),
        expect=201,
    )


def split(items: list, parts: int) -> list[list]:
    return [items[i::parts] for i in range(parts)]


def report_errors(name: str, result: PhaseResult) -> None:
    if result.errors:
        say(f"  {name}: {result.errors} error(s), first: {result.first_errors}")


def replays_of(result: PhaseResult, clients: int, per_client: int) -> tuple[list, dict]:
    """The first `per_client` repayments each client posted, to be posted again."""
    firsts: dict[str, int] = {}
    for request, answer in result.answers:
        if answer.status == 201:
            firsts[request.headers["Idempotency-Key"]] = answer.json()["id"]
    chosen: list[list[Request]] = [[] for _ in range(clients)]
    by_key = {r.headers["Idempotency-Key"]: r for r, _ in result.answers}
    for n, key in enumerate(firsts):
        client = n % clients
        if len(chosen[client]) < per_client:
            chosen[client].append(by_key[key])
    return chosen, firsts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--loans", type=int, default=4000, help="repayments measured (one per loan)"
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pings", type=int, default=300, help="ceiling requests per client")
    parser.add_argument("--replays", type=int, default=5, help="replayed keys per client")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--keep", action="store_true", help="build the book once (a template database) and copy it"
    )
    args = parser.parse_args(argv)

    load_start = os.getloadavg()[0]
    say(f"load average {load_start:.2f}")
    say(f"book: {args.loans:,} loans (+ {args.clients * WARMUP_REPAYMENTS} for the warm-up)")
    started = time.monotonic()
    references, token = book(args.loans + args.clients * WARMUP_REPAYMENTS, keep=args.keep)
    say(f"book ready in {time.monotonic() - started:.1f} s")
    warm_loans, loans = (
        references[: args.clients * WARMUP_REPAYMENTS],
        references[args.clients * WARMUP_REPAYMENTS :],
    )
    value_date = timezone.localdate().isoformat()
    run = uuid.uuid4().hex[:8]
    auth = {"Authorization": f"Token {token}"}
    ping = Request("GET", "/bench/ping/", auth)

    port = free_port()
    say(
        f"gunicorn: {args.workers} {args.worker_class} worker(s)"
        f"{f' x {args.threads} threads' if args.threads > 1 else ''} on {HOST}:{port}"
    )
    server = start_gunicorn(
        port, workers=args.workers, worker_class=args.worker_class, threads=args.threads
    )
    try:
        wait_until_up(port, token, server)
        warm = run_phase(
            HOST,
            port,
            [
                [ping] * WARMUP_PINGS
                + [repayment(r, token, f"warm-{run}-{r}", value_date) for r in own]
                for own in split(warm_loans, args.clients)
            ],
        )
        report_errors("warm-up", warm)
        before = cpu_snapshot(server)
        ceiling = run_phase(HOST, port, [[ping] * args.pings for _ in range(args.clients)])
        ceiling_cpu = cpu_ms_per_request(before, cpu_snapshot(server), ceiling.requests)
        report_errors("ceiling", ceiling)
        say(
            f"ceiling: {ceiling.requests} pings in {ceiling.seconds:.2f} s, "
            f"{ceiling.per_second:.0f}/s, p50 {ceiling.percentile_ms(50):.1f} ms, "
            f"p99 {ceiling.percentile_ms(99):.1f} ms; CPU ms per ping {ceiling_cpu}"
        )
        before = cpu_snapshot(server)
        paid = run_phase(
            HOST,
            port,
            [
                [repayment(r, token, f"bench-{run}-{r}", value_date) for r in own]
                for own in split(loans, args.clients)
            ],
            keep_answers=True,
        )
        paid_cpu = cpu_ms_per_request(before, cpu_snapshot(server), paid.requests)
        report_errors("repayments", paid)
        say(
            f"repayments: {paid.requests} in {paid.seconds:.2f} s, {paid.per_second:.0f}/s, "
            f"p50 {paid.percentile_ms(50):.1f} ms, p99 {paid.percentile_ms(99):.1f} ms; "
            f"CPU ms per repayment {paid_cpu}"
        )
        chosen, firsts = replays_of(paid, args.clients, args.replays)
        replayed = run_phase(HOST, port, chosen, keep_answers=True)
        replay_errors = replayed.errors + sum(
            1
            for request, answer in replayed.answers
            if answer.status == 201
            and (
                answer.headers.get("idempotent-replayed") != "true"
                or answer.json()["id"] != firsts[request.headers["Idempotency-Key"]]
            )
        )
        say(f"replays: {replayed.requests} keys posted again, {replay_errors} not the first answer")
    finally:
        stop(server)
    load_end = os.getloadavg()[0]
    say(f"load average {load_end:.2f}")

    connections.close_all()
    posted = Transaction.objects.filter(
        kind=TransactionKind.REPAYMENT, idempotency_key__startswith=f"bench-{run}-"
    ).count()
    posted_twice = posted - len(firsts)
    say(f"book: {posted} repayments posted for {len(firsts)} keys answered 201")
    report = reconcile_loans(acting_user=SYSTEM)
    say(
        f"reconcile: {report.loans} loans, {len(report.differences)} difference(s)"
        + ("" if report.clean else f": {[str(d) for d in report.differences[:5]]}")
    )
    errors = warm.errors + ceiling.errors + paid.errors + replay_errors + abs(posted_twice)
    ratio = paid.per_second / ceiling.per_second if ceiling.per_second else 0.0
    print(
        json.dumps(
            {
                "repayments_per_s": round(paid.per_second, 1),
                "ceiling_per_s": round(ceiling.per_second, 1),
                "ratio_to_ceiling": round(ratio, 3),
                "p50_ms": round(paid.percentile_ms(50), 1),
                "p99_ms": round(paid.percentile_ms(99), 1),
                "errors": errors,
                "ceiling_p50_ms": round(ceiling.percentile_ms(50), 1),
                "ceiling_p99_ms": round(ceiling.percentile_ms(99), 1),
                "ceiling_cpu_ms": ceiling_cpu,
                "repayment_cpu_ms": paid_cpu,
                "cpu_ratio": round(sum(ceiling_cpu.values()) / sum(paid_cpu.values()), 3)
                if sum(paid_cpu.values())
                else None,
                "repayments": paid.requests,
                "replays": replayed.requests,
                "replay_errors": replay_errors,
                "posted_twice": posted_twice,
                "reconcile_clean": report.clean,
                "clients": args.clients,
                "workers": args.workers,
                "worker_class": args.worker_class,
                "loans": Loan.objects.count(),
                "load_start": round(load_start, 2),
                "load_end": round(load_end, 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
