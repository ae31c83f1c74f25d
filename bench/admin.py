"""Every admin page each role opens, on a synthetic book at production scale (issue 13).

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/lending_bench_admin \\
        .venv/bin/python -m bench.admin --loans 1000000

1. the book: bench/book.py's synthetic book (one active loan per borrower with its schedule,
   10 % late with their collections cases, the night of D − 1 closed; D is today) and the rest
   of the back office at the same scale (bench/admin_book.py: risk profiles, decisions,
   applications, credit limits, closed cases, contacts, promises, proposals, reminders, audit
   events, the ledger), the last night's portfolio snapshot and roll counts written by the
   night's own steps; VACUUM ANALYZE; kept as a template database `<name>_tpl_<loans>`;
2. a fresh copy of it, one staff user per role (lending/roles.py; the collector is the bench
   collector with the most open cases);
3. per role, in this process through django.test.Client (force_login), DEBUG off: the admin
   index, and for every model the index offers the role: its list (first page), the list with
   one filter (the first choice of its first filter), a search (a value of its first search
   field, taken from the first row), and the change page of the first row. Each page is loaded
   `--repeat` times and the last load is reported (the first warms templates and caches);
   every query it ran is captured (connection.execute_wrapper) with its time;
4. per list, its first page again at list_per_page 25 and 100: the query counts must be equal
   (a count that grows with the page is an N+1);
5. every COUNT(*) on a big table (more than 5 % of the loans' rows) without a WHERE is reported:
   what a paginator or "show full result count" runs on every list load.

The last line printed is one JSON object.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402

from bench.admin_book import add_back_office  # noqa: E402
from bench.book import build_book  # noqa: E402
from bench.nightly import (  # noqa: E402
    _literal,
    admin,
    conninfo,
    drop,
    fresh_copy,
    quote,
    say,
    schema_fingerprint,
    template_params,
    work_db,
)

BOOK_VERSION = 4  # bench/admin_book.py's version of the book (4: the last night's stored curves)
SLOW_MS = 1000
PAGE_SIZES = (25, 100)


# ----------------------------------------------------------------------------- the book


def last_night(night: date) -> None:
    """What the book's last closed night (bench/book.py marks it done) leaves for the pages:
    its portfolio snapshot and roll counts, written by the night's own steps."""
    from debt_collection.services.roll_counts import roll_counts_store
    from portfolio.services import portfolio_snapshot

    t0 = time.monotonic()
    with transaction.atomic():
        counts = portfolio_snapshot(business_date=night) | roll_counts_store(business_date=night)
    connections.close_all()
    say(f"  last night's snapshot and roll counts {counts} ({time.monotonic() - t0:.1f} s)")


def build_template(*, loans: int, business_date: date, keep: bool) -> str:
    template = f"{work_db()}_tpl_{loans}"
    wanted = {
        "loans": loans,
        "date": business_date.isoformat(),
        "schema": schema_fingerprint(),
        "book": 3,  # bench/book.py's version
        "admin_book": BOOK_VERSION,
    }
    if keep and template_params(template) == wanted:
        say(f"book: reusing template database {template} ({loans:,} loans)")
        return template
    overdue = max(1, loans // 10)
    say(f"book: {loans:,} loans, {overdue:,} late, business date {business_date}")
    started = time.monotonic()
    drop(work_db())
    admin(f"CREATE DATABASE {quote(work_db())}")
    call_command("migrate", verbosity=0, interactive=False)
    connections.close_all()
    say(f"  migrate ({time.monotonic() - started:.1f} s)")
    with psycopg.connect(**conninfo(work_db())) as conn:
        build_book(conn, loans=loans, overdue=overdue, business_date=business_date, say=say)
        counts = add_back_office(conn, business_date=business_date, say=say)
    say("  " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items()))
    last_night(business_date - timedelta(days=1))
    with psycopg.connect(**conninfo(work_db()), autocommit=True) as conn:
        t0 = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        say(f"  vacuum analyze ({time.monotonic() - t0:.1f} s), size {size.fetchone()[0]}")
    drop(template)
    admin(f"ALTER DATABASE {quote(work_db())} RENAME TO {quote(template)}")
    admin(f"COMMENT ON DATABASE {quote(template)} IS %s".replace("%s", _literal(wanted)))
    say(f"book built in {time.monotonic() - started:.1f} s (template {template})")
    return template


def role_users() -> dict:
    """One staff user per role; the collector is the bench collector with the most cases."""
    from django.contrib.auth.models import Group, User
    from django.db.models import Count, Q

    from lending import roles

    users = {}
    for role in roles.ROLES:
        if role == roles.COLLECTOR:
            user = (
                User.objects.filter(username__startswith="bench-collector-")
                .annotate(n=Count("collection_cases", filter=Q(collection_cases__status="open")))
                .order_by("-n", "id")
                .first()
            )
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        else:
            user = User.objects.create_user(
                username="bench-" + role.replace(" ", "-"), is_staff=True
            )
        user.groups.add(Group.objects.get(name=role))
        users[role] = user
    return users


def big_tables(loans: int) -> set[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %s"
            " AND relnamespace = 'public'::regnamespace",
            [max(1000, loans // 20)],
        )
        return {row[0] for row in cur.fetchall()}


# ----------------------------------------------------------------------------- one page


@dataclass
class Query:
    sql: str
    ms: float
    params: tuple | list | dict | None = None


@dataclass
class Page:
    role: str
    model: str
    kind: str
    url: str
    ms: float = 0.0
    cpu_ms: float = 0.0  # this process's CPU (Python: views, templates): steadier under load
    first_ms: float = 0.0
    status: int = 0
    error: str = ""
    queries: list = field(default_factory=list)
    rows: int | None = None

    @property
    def label(self) -> str:
        return f"{self.role} | {self.model} | {self.kind}"

    @property
    def db_ms(self) -> float:
        return sum(q.ms for q in self.queries)


class Recorder:
    """connection.execute_wrapper: every statement's SQL and time."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(Query(sql, (time.perf_counter() - started) * 1000, params))


def load(client, page: Page, repeat: int):
    """GET the page `repeat` times; keep the last load's figures. Returns the response."""
    response = None
    for i in range(repeat):
        recorder = Recorder()
        cpu = time.process_time()
        started = time.perf_counter()
        try:
            with connection.execute_wrapper(recorder):
                response = client.get(page.url)
        except Exception as exc:
            page.error = f"{type(exc).__name__}: {exc}"[:300]
            page.queries = recorder.queries
            return None
        ms = (time.perf_counter() - started) * 1000
        if i == 0:
            page.first_ms = ms
        page.ms, page.queries, page.status = ms, recorder.queries, response.status_code
        page.cpu_ms = (time.process_time() - cpu) * 1000
    if page.status != 200:
        page.error = f"HTTP {page.status}"
        location = response.get("Location") if response is not None else None
        if location:
            page.error += f" → {location}"
    return response


COUNT_FROM = re.compile(r'COUNT\(\*\).*?\bFROM\s+"(\w+)"', re.S | re.I)


def full_counts(page: Page, big: set[str]) -> list[Query]:
    """COUNT(*) over a big table with no WHERE and no LIMIT anywhere in the statement: a count
    of the whole table (a count of a LIMITed subquery stops early, so is bounded)."""
    found = []
    for q in page.queries:
        m = COUNT_FROM.search(q.sql)
        upper = q.sql.upper()
        if m and m.group(1) in big and " WHERE " not in upper and " LIMIT " not in upper:
            found.append(q)
    return found


# ----------------------------------------------------------------------------- the pages


def _value(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def search_term(cl) -> str | None:
    """A value of the first search field from the first row (a search that finds something);
    a fixed word when the list is empty; None when the list has no search box."""
    if not cl.search_fields:
        return None
    if not cl.result_list:
        return "bench"
    value = _value(cl.result_list[0], cl.search_fields[0].lstrip("^=@"))
    return "bench" if value in (None, "") else str(value)


def filter_query(cl) -> str | None:
    """The first choice, other than the one shown, of the first filter that offers one."""
    for spec in cl.filter_specs:
        for choice in spec.choices(cl):
            if not choice.get("selected") and choice.get("query_string") not in (None, "?"):
                return choice["query_string"]
    return None


def role_pages(client, role: str, args, big: set[str], say_page) -> tuple[list, list]:
    """Every page of one role; and each list's query counts at each page size."""
    from django.contrib import admin as django_admin
    from django.urls import reverse

    pages, sizes = [], []
    index = Page(role, "admin", "index", reverse("admin:index"))
    response = load(client, index, args.repeat)
    pages.append(index)
    say_page(index)
    if response is None or index.error:
        return pages, sizes
    models = [
        m for app in response.context_data["app_list"] for m in app["models"] if m.get("admin_url")
    ]
    for entry in models:
        model = entry["model"]
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        if args.models and not any(label.endswith(m) for m in args.models):
            continue
        model_admin = django_admin.site._registry[model]
        base = entry["admin_url"]
        listing = Page(role, label, "list", base)
        response = load(client, listing, args.repeat)
        pages.append(listing)
        cl = response.context_data.get("cl") if response is not None and not listing.error else None
        if cl is not None:
            listing.rows = len(cl.result_list)
        say_page(listing)
        if cl is None:
            continue
        query = filter_query(cl)
        if query:
            page = Page(role, label, "filter", base + query)
            load(client, page, args.repeat)
            pages.append(page)
            say_page(page)
        term = search_term(cl)
        if term:
            page = Page(role, label, "search", base + "?" + urlencode({"q": term}))
            load(client, page, args.repeat)
            pages.append(page)
            say_page(page)
        url = None
        if cl.result_list:
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
                args=[cl.result_list[0].pk],
            )
        # The page a row opens; a list whose rows open nothing (linking elsewhere) has none.
        if url and url.encode() in response.content:
            page = Page(role, label, "detail", url)
            load(client, page, args.repeat)
            pages.append(page)
            say_page(page)
        # The same first page at each page size: the query count must not grow with it.
        own = model_admin.list_per_page
        counts = {}
        if own in PAGE_SIZES:  # the list above was that size already
            counts[own] = (len(listing.queries), listing.rows, listing.error)
        try:
            for size in PAGE_SIZES:
                if size in counts:
                    continue
                model_admin.list_per_page = size
                page = Page(role, label, f"list@{size}", base)
                response = load(client, page, 1)
                rows = len(response.context_data["cl"].result_list) if not page.error else None
                counts[size] = (len(page.queries), rows, page.error)
        finally:
            model_admin.list_per_page = own
        sizes.append((role, label, counts))
    return pages, sizes


# ----------------------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def shape(sql: str, width: int = 160) -> str:
    sql = re.sub(r"\s+", " ", sql)
    return sql if len(sql) <= width else sql[: width - 1] + "…"


def report(pages: list[Page], sizes: list, big: set[str], args) -> dict:
    ok = [p for p in pages if not p.error]
    errors = [p for p in pages if p.error]
    times = [p.ms for p in ok]
    say("")
    say(f"pages: {len(pages)}, errors: {len(errors)}")
    for p in errors:
        say(f"  ERROR {p.label}: {p.error}  {p.url}")
    say("")
    say("slowest pages (ms, first load ms, queries, db ms, cpu ms):")
    for p in sorted(ok, key=lambda p: -p.ms)[: args.top]:
        say(
            f"  {p.ms:8.1f} {p.first_ms:8.1f} {len(p.queries):4d} {p.db_ms:8.1f} "
            f"{p.cpu_ms:8.1f}  {p.label}"
        )
    say("")
    say("most queries:")
    for p in sorted(ok, key=lambda p: -len(p.queries))[: min(10, args.top)]:
        say(f"  {len(p.queries):4d}  {p.label}")
    growing = []
    say("")
    say(f"query count at list_per_page {PAGE_SIZES[0]} and {PAGE_SIZES[1]}:")
    for role, label, counts in sizes:
        (a, rows_a, err_a), (b, rows_b, err_b) = counts[PAGE_SIZES[0]], counts[PAGE_SIZES[1]]
        if err_a or err_b:
            say(f"  ERROR {role} | {label}: {err_a or err_b}")
            continue
        if a != b:
            growing.append(f"{role} | {label}")
            say(f"  N+1? {role} | {label}: {a} queries for {rows_a} rows, {b} for {rows_b}")
    if not growing:
        say("  the same on every list")
    untested = sorted(
        {label for role, label, counts in sizes if (counts[PAGE_SIZES[1]][1] or 0) <= 25}
    )
    if untested:
        say(f"  (25 rows or fewer, so not compared: {', '.join(untested)})")
    counted = []
    for p in pages:
        for q in full_counts(p, big):
            counted.append((p, q))
    by_table = defaultdict(list)
    for p, q in counted:
        by_table[COUNT_FROM.search(q.sql).group(1)].append((p, q))
    say("")
    say(f"whole-table COUNT(*) on big tables ({', '.join(sorted(big))}):")
    for table, found in sorted(by_table.items()):
        kinds = sorted({f"{p.model} {p.kind}" for p, _ in found})
        slowest = max(q.ms for _, q in found)
        say(f"  {table}: {len(found)} counts, slowest {slowest:.1f} ms; on {', '.join(kinds)}")
    if not counted:
        say("  none")
    say("")
    say("slowest statements:")
    statements = sorted(((q, p) for p in ok for q in p.queries), key=lambda x: -x[0].ms)
    for q, p in statements[: args.top]:
        say(f"  {q.ms:8.1f} ms  {p.label}: {shape(q.sql)}")
    if args.explain:
        explain(statements, args.explain)
    slowest = max(ok, key=lambda p: p.ms) if ok else None
    most = max(ok, key=lambda p: len(p.queries)) if ok else None
    return {
        "loans": args.loans,
        "repeat": args.repeat,
        "what_if": args.what_if,
        "pages": len(pages),
        "errors": len(errors),
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p95_ms": round(percentile(times, 0.95), 1),
        "p95_db_ms": round(percentile([p.db_ms for p in ok], 0.95), 1),
        "p95_cpu_ms": round(percentile([p.cpu_ms for p in ok], 0.95), 1),
        "max_ms": round(slowest.ms, 1) if slowest else None,
        "slowest_page": slowest.label if slowest else None,
        "pages_over_1s": sum(1 for t in times if t > SLOW_MS),
        "max_queries": len(most.queries) if most else None,
        "max_queries_page": most.label if most else None,
        "query_count_grows_with_page": growing,
        "pages_with_whole_table_count": len({p.label for p, _ in counted}),
        "whole_table_counts": {t: len(found) for t, found in sorted(by_table.items())},
    }


def explain(statements: list, n: int) -> None:
    """EXPLAIN ANALYZE the n slowest SELECT shapes again (read-only): where each one's time goes."""
    seen = set()
    for q, p in statements:
        key = re.sub(r"\s+", " ", q.sql)
        if key in seen or not key.lstrip().upper().startswith("SELECT"):
            continue
        seen.add(key)
        say("")
        say(f"EXPLAIN {q.ms:.1f} ms  {p.label}: {shape(q.sql, 400)}")
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q.sql, q.params)
            for (line,) in cur.fetchall():
                say("    " + line)
        if len(seen) >= n:
            break


# ----------------------------------------------------------------------------- main


def measure(args) -> dict:
    from django.test import Client

    template = build_template(loans=args.loans, business_date=args.date, keep=args.keep)
    seconds = fresh_copy(template)
    say(f"copy of the book ({seconds:.1f} s)")
    users = role_users()
    big = big_tables(args.loans)
    if args.what_if:
        from bench import admin_whatif

        admin_whatif.apply(say)
    # Production rendering: DEBUG off (templates without debug info); the test client's host.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    def say_page(p: Page) -> None:
        flag = f"  ERROR {p.error}" if p.error else ""
        say(
            f"{p.ms:8.1f} ms {len(p.queries):4d} q {p.db_ms:8.1f} db {p.cpu_ms:7.1f} cpu  "
            f"{p.label}  {p.url}{flag}"
        )

    pages, sizes = [], []
    started = time.monotonic()
    for role, user in users.items():
        if args.roles and role not in args.roles:
            continue
        client = Client()
        client.force_login(user)
        say(f"--- {role} ({user.username})")
        role_p, role_s = role_pages(client, role, args, big, say_page)
        pages += role_p
        sizes += role_s
    say(f"pages loaded in {time.monotonic() - started:.0f} s")
    result = report(pages, sizes, big, args)
    connections.close_all()
    if not args.keep_result:
        drop(work_db())
    if not args.keep:
        drop(template)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.admin", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument(
        "--date", type=date.fromisoformat, default=None, help="the book's business date (today)"
    )
    parser.add_argument("--repeat", type=int, default=2, help="loads per page; the last counts")
    parser.add_argument(
        "--roles", nargs="*", help="only these roles (names as in lending/roles.py)"
    )
    parser.add_argument("--models", nargs="*", help="only these models (app.model or model)")
    parser.add_argument(
        "--explain", type=int, default=0, help="EXPLAIN ANALYZE the N slowest statements"
    )
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="apply the proposed fixes to the copy and this process first (bench/admin_whatif.py)",
    )
    parser.add_argument("--top", type=int, default=20, help="rows in each table of the report")
    parser.add_argument(
        "--keep", action="store_true", help="reuse (and keep) a template built by a previous --keep"
    )
    parser.add_argument(
        "--keep-result", action="store_true", help="leave the measured copy in place"
    )
    args = parser.parse_args(argv)
    if args.date is None:
        from django.utils import timezone

        args.date = timezone.localdate()
    if args.repeat < 1:
        sys.exit("--repeat must be at least 1")
    started = time.monotonic()
    load_start = os.getloadavg()[0]
    say(f"machine: {os.cpu_count()} CPUs, load average {load_start:.2f}")
    result = measure(args)
    load_end = os.getloadavg()[0]
    say(f"total {time.monotonic() - started:.0f} s; load average {load_end:.2f}")
    result |= {"load_start": round(load_start, 2), "load_end": round(load_end, 2)}
    print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
