"""One night of the close of business on a synthetic book, against its floor and a naive loop.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/lending_bench \\
        .venv/bin/python -m bench.nightly --loans 1000000

1. builds the book (bench/book.py) in the database DATABASE_URL names, migrated from scratch,
   then VACUUM ANALYZE, and keeps it as a template database `<name>_tpl_<loans>_<overdue>`
   for the run (dropped at the end unless --keep);
2. the project's night: a fresh copy of the template (CREATE DATABASE … TEMPLATE), then
   `close_business_days(until=D)` in a separate worker process (production settings, DEBUG off),
   which reports its wall time and its own peak RSS;
3. the floor: another fresh copy, the same night as hand-written SQL (bench/floor.py);
4. naive: another fresh copy, a per-loan ORM loop (bench/naive.py) over a sample of up to 10,000
   due-or-overdue loans, scaled to all of them;
5. the results of 2 and 3 (and of 2 and 4 on the sample) are compared row for row in aggregate,
   so the three nights are known to do the same work.

Every measurement starts from an identical copy of the same vacuumed, analyzed book, so none
benefits from another's writes; the operating system's page cache is shared (24 GiB here, the
book fits), PostgreSQL's shared buffers start cold for each.

The last line printed is one JSON object. `--twice` instead measures the project's night on the
book and on a book twice the size with the same overdue loans, and prints their ratio.
"""

import argparse
import cProfile
import hashlib
import io
import json
import os
import pstats
import re
import resource
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from bench.book import build_book  # noqa: E402
from bench.floor import floor_night  # noqa: E402
from lending.access import SYSTEM  # noqa: E402

DEFAULT_DATE = date(2025, 6, 15)
NAIVE_SAMPLE = 10_000


def say(message: str) -> None:
    print(message, flush=True)


# ----------------------------------------------------------------------------- databases


def db_settings() -> dict:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("bench.nightly needs PostgreSQL: set DATABASE_URL=postgres://…/lending_bench")
    return db


def conninfo(dbname: str) -> dict:
    db = db_settings()
    info = {"dbname": dbname, "host": db.get("HOST") or None, "user": db.get("USER") or None}
    if db.get("PORT"):
        info["port"] = db["PORT"]
    if db.get("PASSWORD"):
        info["password"] = db["PASSWORD"]
    return {k: v for k, v in info.items() if v is not None}


def work_db() -> str:
    return db_settings()["NAME"]


def admin(sql: str, params=None):
    with psycopg.connect(**conninfo("postgres"), autocommit=True) as conn:
        return (
            conn.execute(sql, params).fetchall()
            if sql.lstrip().upper().startswith("SELECT")
            else conn.execute(sql, params)
        )


def quote(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"database name {name!r}: use lower-case letters, digits and underscores")
    return f'"{name}"'


def drop(name: str) -> None:
    connections.close_all()
    admin(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")


def fresh_copy(template: str) -> float:
    """Recreate the work database as a copy of the template; seconds it took."""
    started = time.monotonic()
    drop(work_db())
    admin(f"CREATE DATABASE {quote(work_db())} TEMPLATE {quote(template)} STRATEGY FILE_COPY")
    return time.monotonic() - started


def template_params(template: str) -> dict | None:
    rows = admin(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [template],
    )
    if not rows or not rows[0][0]:
        return None
    try:
        return json.loads(rows[0][0])
    except ValueError:
        return None


def schema_fingerprint() -> str:
    """The migrations on disk: a template built before a new one is stale and is rebuilt."""
    from django.db.migrations.loader import MigrationLoader

    names = sorted(f"{app}.{name}" for app, name in MigrationLoader(None).disk_migrations)
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def template_name(loans: int, overdue: int, fillfactor: int | None) -> str:
    suffix = f"_ff{fillfactor}" if fillfactor is not None else ""
    return f"{work_db()}_tpl_{loans}_{overdue}{suffix}"


def build_template(
    *, loans: int, overdue: int, business_date: date, keep: bool, fillfactor: int | None = None
) -> str:
    template = template_name(loans, overdue, fillfactor)
    wanted = {
        "loans": loans,
        "overdue": overdue,
        "date": business_date.isoformat(),
        "schema": schema_fingerprint(),
        "book": 3,  # bench/book.py's own version: collections cases seeded
    }
    if fillfactor is not None:
        wanted["fillfactor"] = fillfactor
    if keep and template_params(template) == wanted:
        say(f"book: reusing template database {template} ({loans:,} loans)")
        return template
    say(f"book: {loans:,} loans, {overdue:,} overdue, business date {business_date}")
    started = time.monotonic()
    drop(work_db())
    admin(f"CREATE DATABASE {quote(work_db())}")
    call_command("migrate", verbosity=0, interactive=False)
    connections.close_all()
    say(f"  migrate ({time.monotonic() - started:.1f} s)")
    with psycopg.connect(**conninfo(work_db())) as conn:
        build_book(
            conn,
            loans=loans,
            overdue=overdue,
            business_date=business_date,
            say=say,
            fillfactor=fillfactor,
        )
    with psycopg.connect(**conninfo(work_db()), autocommit=True) as conn:
        t0 = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        say(f"  vacuum analyze ({time.monotonic() - t0:.1f} s)")
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        say(f"  database size {size.fetchone()[0]}")
    drop(template)
    admin(f"ALTER DATABASE {quote(work_db())} RENAME TO {quote(template)}")
    admin(f"COMMENT ON DATABASE {quote(template)} IS %s".replace("%s", _literal(wanted)))
    say(f"book built in {time.monotonic() - started:.1f} s (template {template})")
    return template


def _literal(value: dict) -> str:
    return "'" + json.dumps(value).replace("'", "''") + "'"


# ----------------------------------------------------------------------------- what a night did


DIGEST_SQL = """
SELECT
  (SELECT count(*) FROM lending_loan WHERE dpd_as_of = %(d)s {loans}),
  (SELECT count(*) FROM lending_loan WHERE dpd > 0 {loans}),
  (SELECT coalesce(sum(dpd), 0) FROM lending_loan WHERE true {loans}),
  (SELECT coalesce(sum(penalty_outstanding), 0) FROM lending_loan WHERE true {loans}),
  (SELECT count(*) FROM lending_bucketchange WHERE business_date = %(d)s {rows}),
  (SELECT coalesce(sum(overdue_amount), 0) FROM lending_bucketchange
    WHERE business_date = %(d)s {rows}),
  (SELECT count(*) FROM lending_transaction
    WHERE kind = 'penalty_accrual' AND value_date = %(d)s {rows}),
  (SELECT coalesce(sum(penalty), 0) FROM lending_transaction
    WHERE kind = 'penalty_accrual' AND value_date = %(d)s {rows}),
  (SELECT count(*) FROM lending_transactionline tl JOIN lending_transaction t
    ON t.id = tl.transaction_id WHERE t.value_date = %(d)s {txn}),
  (SELECT count(*) FROM lending_installment WHERE penalty_accrued_through = %(d)s {rows}),
  (SELECT coalesce(sum(penalty_due), 0) FROM lending_installment WHERE true {rows}),
  (SELECT round(coalesce(sum(penalty_accrued), 0), 4) FROM lending_installment WHERE true {rows})
"""
DIGEST_KEYS = (
    "loans_dpd_as_of_d",
    "loans_overdue",
    "sum_dpd",
    "penalty_outstanding",
    "bucket_changes",
    "bucket_change_amount",
    "accrual_transactions",
    "accrual_total",
    "accrual_lines",
    "installments_accrued",
    "installment_penalty_due",
    "installment_penalty_accrued",
)


# What the collections step writes, for the whole book (the naive loop does lending only):
# cases by status and close reason, open cases per queue, the figures and priorities of the open
# cases, open cases without a collector, the hand-outs (all, and the night's), the reminders of
# the night by kind (count:amount:penalty rates/cost caps/grace days/penalty-from days/zones) and
# the write-off proposals (count:dpd:outstanding).
COLLECTIONS_DIGEST_SQL = """
SELECT
  (SELECT string_agg(status || '/' || close_reason || ':' || n, ' '
                     ORDER BY status, close_reason)
     FROM (SELECT status, close_reason, count(*) AS n FROM collections_case
           GROUP BY 1, 2) x),
  (SELECT string_agg(coalesce(queue_id::text, '-') || ':' || n, ' ' ORDER BY queue_id)
     FROM (SELECT queue_id, count(*) AS n FROM collections_case WHERE status = 'open'
           GROUP BY 1) x),
  (SELECT coalesce(sum(dpd), 0) FROM collections_case WHERE status = 'open'),
  (SELECT coalesce(sum(overdue_amount), 0) FROM collections_case WHERE status = 'open'),
  (SELECT coalesce(sum(total_outstanding), 0) FROM collections_case WHERE status = 'open'),
  (SELECT coalesce(sum(priority), 0) FROM collections_case WHERE status = 'open'),
  (SELECT coalesce(sum((priority_parts ->> 'amount')::int), 0) FROM collections_case
    WHERE status = 'open'),
  (SELECT count(*) FROM collections_case WHERE status = 'open' AND updated_on = %(d)s),
  (SELECT count(*) FROM collections_case WHERE status = 'open' AND collector_id IS NULL),
  (SELECT count(*) FROM collections_caseassignment),
  (SELECT count(*) FROM collections_caseassignment WHERE business_date = %(d)s),
  (SELECT string_agg(kind || ':' || n || ':' || amount || ':' || rates, ' ' ORDER BY kind)
     FROM (SELECT kind, count(*) AS n, sum(amount_due) AS amount,
                  sum(penalty_rate) || '/' || coalesce(sum(cost_cap_rate), 0) || '/'
                  || sum(grace_until - due_date) || '/' || sum(penalty_from - due_date)
                  || '/' || count(*) FILTER (WHERE time_zone <> '') AS rates
           FROM collections_reminder WHERE business_date = %(d)s AND send_on = %(d)s::date + 1
           GROUP BY kind) x),
  (SELECT count(*) || ':' || coalesce(sum(dpd), 0) || ':' || coalesce(sum(outstanding), 0)
     FROM collections_writeoffproposal WHERE state = 'pending')
"""
COLLECTIONS_DIGEST_KEYS = (
    "cases_by_status",
    "open_cases_by_queue",
    "open_cases_dpd",
    "open_cases_overdue",
    "open_cases_outstanding",
    "open_cases_priority",
    "open_cases_amount_points",
    "open_cases_updated_on_d",
    "open_cases_without_collector",
    "assignments",
    "assignments_on_d",
    "reminders_by_kind",
    "write_off_proposals",
)


def digest(business_date: date, loan_ids: list[int] | None = None) -> dict:
    """Aggregates of everything a night writes (for the whole book, or lending's for some
    loans)."""
    params: dict = {"d": business_date, "ids": loan_ids}
    only = loan_ids is not None
    sql = DIGEST_SQL.format(
        loans="AND id = ANY(%(ids)s)" if only else "",
        rows="AND loan_id = ANY(%(ids)s)" if only else "",
        txn="AND t.loan_id = ANY(%(ids)s)" if only else "",
    )
    with psycopg.connect(**conninfo(work_db())) as conn:
        row = conn.execute(sql, params).fetchone()
        result = {k: str(v) for k, v in zip(DIGEST_KEYS, row, strict=True)}
        if not only:
            row = conn.execute(COLLECTIONS_DIGEST_SQL, params).fetchone()
            result |= {k: str(v) for k, v in zip(COLLECTIONS_DIGEST_KEYS, row, strict=True)}
    return result


def compare(name_a: str, a: dict, name_b: str, b: dict) -> bool:
    differ = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    if differ:
        say(f"  MISMATCH {name_a} vs {name_b}: {differ}")
    else:
        say(f"  {name_a} and {name_b} wrote the same: {a}")
    return not differ


def candidates(business_date: date) -> list[int]:
    with psycopg.connect(**conninfo(work_db())) as conn:
        rows = conn.execute(
            "SELECT id FROM lending_loan WHERE status = 'active' "
            "AND (next_due_date <= %s OR dpd > 0) ORDER BY id",
            [business_date],
        ).fetchall()
    return [r[0] for r in rows]


# ----------------------------------------------------------------------------- the project's night


def night_in_worker(
    business_date: date, *, chunk_size: int, workers: int, profile: bool, debug: bool
) -> dict:
    """Run the project's night in a fresh process (production settings) and return its report."""
    env = dict(os.environ)
    env["DEBUG"] = "1" if debug else "0"
    env.setdefault("SECRET_KEY", "bench-not-a-secret-not-for-production-use-at-all-0123456789")
    # The worker runs with DEBUG off like production, so it needs the keys this process has.
    env.setdefault("PII_ENCRYPTION_KEYS", ",".join(settings.PII_ENCRYPTION_KEYS))
    env.setdefault("PII_HASH_KEY", settings.PII_HASH_KEY)
    command = [
        sys.executable,
        "-m",
        "bench.nightly",
        "--night-worker",
        business_date.isoformat(),
        "--chunk-size",
        str(chunk_size),
        "--workers",
        str(workers),
    ]
    command += ["--profile"] if profile else []
    connections.close_all()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    last = ""
    for line in proc.stdout:
        last = line.strip()
        if not last.startswith("{"):
            say("  " + line.rstrip())
    if proc.wait() != 0:
        sys.exit(f"the night worker failed (exit {proc.returncode})")
    return json.loads(last)


def _statement_shape(sql: str) -> str:
    verb = re.match(r"\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|SAVEPOINT|RELEASE|ROLLBACK)", sql)
    table = re.search(r'"(lending_\w+|auth_\w+|django_\w+|risk_\w+|collections_\w+)"', sql)
    shape = f"{verb.group(1) if verb else sql[:20]} {table.group(1) if table else ''}".strip()
    if " FOR UPDATE" in sql:
        shape += " FOR UPDATE"
    if sql.startswith("SELECT") and " GROUP BY " in sql:
        shape += " GROUP BY"
    return shape


class StatementStats:
    def __init__(self):
        self.stats = defaultdict(lambda: [0, 0.0])

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = self.stats[_statement_shape(sql)]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    def top(self, n: int = 12) -> list[dict]:
        rows = sorted(self.stats.items(), key=lambda kv: -kv[1][1])[:n]
        return [{"statement": k, "count": c, "seconds": round(s, 3)} for k, (c, s) in rows]


def _timed_steps() -> dict:
    """Wrap every registered step so the worker can say where the night's time goes."""
    from lending.close_of_business import registry

    spent: dict = defaultdict(float)
    for name, step in list(registry._steps.items()):

        def timed(*args, _func=step.func, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _func(*args, **kwargs)
            finally:
                spent[_name] += time.perf_counter() - started

        registry._steps[name] = registry.Step(step.name, step.position, timed, step.chunked)
    return spent


def _timed_bulk_methods() -> dict:
    """Time the ORM's bulk_update/bulk_create (Python and SQL together), per model."""
    from django.db.models.query import QuerySet

    spent: dict = defaultdict(lambda: [0, 0, 0.0])
    for method in ("bulk_update", "bulk_create"):
        original = getattr(QuerySet, method)

        def timed(self, objs, *args, _original=original, _method=method, **kwargs):
            objs = list(objs)
            started = time.perf_counter()
            try:
                return _original(self, objs, *args, **kwargs)
            finally:
                entry = spent[f"{self.model.__name__}.{_method}"]
                entry[0] += 1
                entry[1] += len(objs)
                entry[2] += time.perf_counter() - started

        setattr(QuerySet, method, timed)
    from lending.close_of_business import lending_steps

    if hasattr(lending_steps, "bulk_set"):  # the steps' own bulk writer, where they have one
        original_set = lending_steps.bulk_set

        def timed_set(model, rows, fields, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original_set(model, rows, fields, *args, **kwargs)
            finally:
                entry = spent[f"{model.__name__}.bulk_set"]
                entry[0] += 1
                entry[1] += len(rows)
                entry[2] += time.perf_counter() - started

        lending_steps.bulk_set = timed_set
    return spent


def _chunk_in_pool(chunk_id: int) -> tuple[int, float]:
    from lending.close_of_business.runner import business_day_run_chunk

    business_day_run_chunk(chunk_id=chunk_id)
    return chunk_id, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _close_with_pool(business_date: date, chunk_size: int, workers: int) -> tuple[list, float]:
    """What a Celery chord does: begin, chunks on `workers` processes, finish."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from lending.close_of_business.runner import business_day_begin, business_day_finish
    from lending.models import ChunkStatus

    run = business_day_begin(business_date=business_date, acting_user=SYSTEM, chunk_size=chunk_size)
    ids = list(
        run.chunks.exclude(status=ChunkStatus.DONE).order_by("number").values_list("pk", flat=True)
    )
    connections.close_all()
    peak = 0.0
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        for _, rss in pool.map(_chunk_in_pool, ids, chunksize=1):
            peak = max(peak, rss)
    return [business_day_finish(run_id=run.pk)], peak


def night_worker(args) -> None:
    from lending.close_of_business.runner import close_business_days, run_summary

    business_date = date.fromisoformat(args.night_worker)
    spent = _timed_steps()
    bulk = _timed_bulk_methods()
    stats = StatementStats()
    profiler = cProfile.Profile() if args.profile else None
    pool_peak = 0.0
    started = time.monotonic()
    with connection.execute_wrapper(stats):
        if profiler:
            profiler.enable()
        if args.workers > 1:
            runs, pool_peak = _close_with_pool(business_date, args.chunk_size, args.workers)
        else:
            runs = close_business_days(
                until=business_date, acting_user=SYSTEM, chunk_size=args.chunk_size
            )
        if profiler:
            profiler.disable()
    seconds = time.monotonic() - started
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())
    summary = run_summary(runs[-1])
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, pool_peak)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": round(peak, 1),
                "run": {k: v for k, v in summary.items() if k != "failed_loan_ids"},
                "step_seconds": {k: round(v, 3) for k, v in spent.items()},
                "bulk_calls": {
                    k: {"calls": c, "rows": n, "seconds": round(t, 3)}
                    for k, (c, n, t) in sorted(bulk.items(), key=lambda kv: -kv[1][2])
                },
                "sql_seconds": round(sum(s for _, s in stats.stats.values()), 3),
                "statements": stats.top(),
            }
        ),
        flush=True,
    )


def wal_position() -> tuple:
    """The cluster's WAL position and checkpoint counters (cluster-wide: other databases'
    writes count too, so the difference is an upper bound on what one night wrote)."""
    rows = admin(
        "SELECT pg_current_wal_lsn(), checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
    )
    return rows[0]


def wal_since(before: tuple) -> str:
    rows = admin(
        "SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), %s)), "
        "checkpoints_timed + checkpoints_req - %s FROM pg_stat_bgwriter",
        list(before),
    )
    return f"WAL written {rows[0][0]}, checkpoints {rows[0][1]}"


def project_night(template: str, business_date: date, args) -> dict:
    copy = fresh_copy(template)
    say(f"project: fresh copy in {copy:.1f} s; close_business_days(until={business_date})")
    wal = wal_position()
    report = night_in_worker(
        business_date,
        chunk_size=args.chunk_size,
        workers=args.workers,
        profile=args.profile,
        debug=args.worker_debug,
    )
    run = report["run"]
    say(
        f"project: {report['seconds']:.2f} s, peak RSS {report['peak_rss_mb']} MB, "
        f"status {run['status']}, examined {run['loans_examined']:,}, "
        f"bucket moves {run['bucket_moves']:,}, accruals {run['accruals_posted']:,} "
        f"({run['accrual_total']})"
    )
    say(f"  {wal_since(wal)}")
    say(f"  step seconds: {report['step_seconds']}")
    say(f"  time inside SQL statements (client-side wait included): {report['sql_seconds']} s")
    for name, entry in report["bulk_calls"].items():
        say(f"  {name}: {entry['calls']} calls, {entry['rows']:,} rows, {entry['seconds']} s")
    with psycopg.connect(**conninfo(work_db())) as conn:
        chunks = conn.execute(
            "SELECT count(*), min(seconds), percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds),"
            " max(seconds), sum(seconds) FROM lending_businessdaychunk"
        ).fetchone()
        say(
            f"  chunks: {chunks[0]}, seconds min {chunks[1]} median {chunks[2]:.3f} "
            f"max {chunks[3]} sum {chunks[4]}"
        )
        for table, upd, hot in conn.execute(
            "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname IN ('lending_loan', 'lending_installment') ORDER BY relname"
        ):
            say(f"  {table}: {upd:,} row updates, {hot:,} of them HOT")
    for row in report["statements"]:
        say(f"  {row['seconds']:8.2f} s {row['count']:7d} × {row['statement']}")
    if run["status"] != "done":
        sys.exit(f"the project's night did not finish: {run}")
    return report


# ----------------------------------------------------------------------------- main


def measure(args) -> dict:
    business_date = args.date
    overdue = args.overdue or max(1, round(args.loans * 0.10))
    template = build_template(
        loans=args.loans,
        overdue=overdue,
        business_date=business_date,
        keep=args.keep,
        fillfactor=args.fillfactor,
    )
    fresh_copy(template)
    due = candidates(business_date)
    say(f"due or overdue on {business_date}: {len(due):,} of {args.loans:,} loans")
    step = max(1, -(-len(due) // args.naive_sample))
    sample = due[::step][: args.naive_sample]

    project = project_night(template, business_date, args)
    project_digest = digest(business_date)
    project_sample = digest(business_date, sample)

    floor_seconds = None
    if not args.skip_floor:
        say(f"floor: fresh copy in {fresh_copy(template):.1f} s")
        wal = wal_position()
        with psycopg.connect(**conninfo(work_db())) as conn:
            floor = floor_night(conn, business_date, say)
        floor_seconds = floor["seconds"]
        say(f"floor: {floor_seconds:.2f} s; {wal_since(wal)}")
        compare("project", project_digest, "floor", digest(business_date))

    naive_extrapolated = None
    if not args.skip_naive:
        from bench.naive import naive_night

        say(f"naive: fresh copy in {fresh_copy(template):.1f} s; {len(sample):,}-loan sample")
        naive_seconds = naive_night(sample, business_date)
        naive_extrapolated = naive_seconds * len(due) / len(sample)
        say(
            f"naive: {naive_seconds:.2f} s for {len(sample):,} loans "
            f"({len(sample) / naive_seconds:.0f} loans/s) → {naive_extrapolated:.1f} s "
            f"for {len(due):,}"
        )
        compare("project (sample)", project_sample, "naive", digest(business_date, sample))
    if not args.keep_result:
        drop(work_db())
    if not args.keep:
        drop(template)

    seconds = project["seconds"]
    result = {
        "loans": args.loans,
        "overdue_loans": overdue,
        "seconds": round(seconds, 2),
        "loans_per_second": round(args.loans / seconds),
        "peak_rss_mb": project["peak_rss_mb"],
        "floor_seconds": round(floor_seconds, 2) if floor_seconds else None,
        "ratio_to_floor": round(seconds / floor_seconds, 2) if floor_seconds else None,
        "naive_seconds_extrapolated": round(naive_extrapolated, 1) if naive_extrapolated else None,
        "speedup_vs_naive": round(naive_extrapolated / seconds, 1) if naive_extrapolated else None,
    }
    return result


def measure_twice(args) -> dict:
    business_date = args.date
    overdue = args.overdue or max(1, round(args.loans * 0.10))
    results = []
    for loans in (args.loans, 2 * args.loans):
        template = build_template(
            loans=loans,
            overdue=overdue,
            business_date=business_date,
            keep=args.keep,
            fillfactor=args.fillfactor,
        )
        fresh_copy(template)
        due = len(candidates(business_date))
        say(f"due or overdue on {business_date}: {due:,} of {loans:,} loans")
        report = project_night(template, business_date, args)
        if not args.skip_floor:
            say(f"floor: fresh copy in {fresh_copy(template):.1f} s")
            with psycopg.connect(**conninfo(work_db())) as conn:
                report["floor_seconds"] = floor_night(conn, business_date, say)["seconds"]
            say(f"floor: {report['floor_seconds']:.2f} s")
        results.append((loans, due, report))
        if not args.keep:
            drop(template)
    drop(work_db())
    (n1, due1, r1), (n2, due2, r2) = results
    return {
        "loans": n1,
        "loans_twice": n2,
        "overdue_loans": overdue,
        "due_or_overdue": due1,
        "due_or_overdue_twice": due2,
        "seconds": round(r1["seconds"], 2),
        "seconds_twice": round(r2["seconds"], 2),
        "ratio_twice": round(r2["seconds"] / r1["seconds"], 2),
        "floor_ratio_twice": round(r2["floor_seconds"] / r1["floor_seconds"], 2)
        if "floor_seconds" in r1
        else None,
        "peak_rss_mb": max(r1["peak_rss_mb"], r2["peak_rss_mb"]),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.nightly", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=int, help="overdue loans (default: 10 %% of --loans)")
    parser.add_argument("--date", type=date.fromisoformat, default=DEFAULT_DATE)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse a template built by a "
        "previous run with the same parameters (and keep the templates)",
    )
    parser.add_argument(
        "--keep-result",
        action="store_true",
        help="leave the last measured copy in place for inspection",
    )
    parser.add_argument(
        "--twice",
        action="store_true",
        help="compare the night on N and 2N loans with the same overdue loans",
    )
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="chunk processes (what a Celery chord spreads over workers)",
    )
    parser.add_argument("--naive-sample", type=int, default=NAIVE_SAMPLE)
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the project's night")
    parser.add_argument(
        "--worker-debug",
        action="store_true",
        help="run the night with DEBUG on (query log kept in memory)",
    )
    parser.add_argument(
        "--fillfactor",
        type=int,
        default=None,
        help="fillfactor of the loan and installment tables in the book (what-if; default: "
        "what the migrations set, 80 for loans and 90 for installments)",
    )
    parser.add_argument("--night-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.chunk_size is None:
        args.chunk_size = settings.CLOSE_OF_BUSINESS_CHUNK_SIZE
    if args.night_worker:
        night_worker(args)
        return
    if args.date >= date.today() - timedelta(days=1):
        sys.exit("--date must be a date that has ended (the runner refuses later ones)")
    started = time.monotonic()
    say(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} "
        "(other work on the machine slows every figure alike; compare ratios within one run)"
    )
    result = measure_twice(args) if args.twice else measure(args)
    say(f"total {time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.2f}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
