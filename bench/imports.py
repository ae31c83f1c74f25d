"""A repayment file imported on a synthetic PostgreSQL book, beside django-import-export's plain
configuration (issue 12's benchmark).

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/lending_bench_imports \\
        .venv/bin/python -m bench.imports --rows 100000

1. the book: bench/book.py's synthetic book (one active loan per borrower with its schedule,
   half of them late with their penalty, collections cases for the late ones, the night of
   D − 1 closed; D is today) plus the ledger behind its balances (bench/imports_book.py), so
   `reconcile` agrees with it; VACUUM ANALYZE; kept as a template database
   `<name>_tpl_<loans>_<overdue>`;
2. the file: one repayment per loan valued on D (bench/imports_book.py), written as CSV and XLSX;
3. the project: a fresh copy of the template, then `imports.services.import_file` (what
   `manage.py import_data` and the API run: one transaction, every row through the engine and
   `repayment_post`) in a separate process with production settings (DEBUG off), which reports
   its wall time, its own peak RSS and the statements it ran; once for the CSV and once for the
   XLSX, each from its own fresh copy, then `reconcile` over the whole book;
4. plain: another fresh copy; the first --plain-rows rows of the same CSV through
   django-import-export's default row-by-row import (bench/imports_plain.py);
5. the writes are compared: the CSV and XLSX imports must have written the same, and the plain
   import the same as the project on the rows it imported, to the cent.

The last line printed is one JSON object.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.book import build_book  # noqa: E402
from bench.imports_book import add_ledger, repayment_rows, write_csv, write_xlsx  # noqa: E402
from bench.nightly import (  # noqa: E402
    StatementStats,
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

PLAIN_ROWS = 5_000
BOOK_VERSION = 1  # this file's and bench/imports_book.py's version of the book


# ----------------------------------------------------------------------------- the book


def build_template(*, loans: int, overdue: int, business_date: date, keep: bool) -> str:
    template = f"{work_db()}_tpl_{loans}_{overdue}"
    wanted = {
        "loans": loans,
        "overdue": overdue,
        "date": business_date.isoformat(),
        "schema": schema_fingerprint(),
        "book": 3,  # bench/book.py's version
        "imports_book": BOOK_VERSION,
    }
    if keep and template_params(template) == wanted:
        say(f"book: reusing template database {template} ({loans:,} loans)")
        return template
    say(f"book: {loans:,} loans, {overdue:,} late, business date {business_date}")
    started = time.monotonic()
    drop(work_db())
    admin(f"CREATE DATABASE {quote(work_db())}")
    call_command("migrate", verbosity=0, interactive=False)
    connections.close_all()
    say(f"  migrate ({time.monotonic() - started:.1f} s)")
    with psycopg.connect(**conninfo(work_db())) as conn:
        build_book(conn, loans=loans, overdue=overdue, business_date=business_date, say=say)
        add_ledger(conn, business_date=business_date, say=say)
    with psycopg.connect(**conninfo(work_db()), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    drop(template)
    admin(f"ALTER DATABASE {quote(work_db())} RENAME TO {quote(template)}")
    admin(f"COMMENT ON DATABASE {quote(template)} IS %s".replace("%s", _literal(wanted)))
    say(f"book built in {time.monotonic() - started:.1f} s (template {template})")
    return template


def write_files(directory: Path, *, rows: int, business_date: date, plain_rows: int) -> dict:
    started = time.monotonic()
    paths = {"csv": directory / "repayments.csv", "xlsx": directory / "repayments.xlsx"}
    with psycopg.connect(**conninfo(work_db())) as conn:
        n = write_csv(
            paths["csv"],
            repayment_rows(conn, rows=rows, business_date=business_date),
            business_date,
        )
    if n < rows:
        sys.exit(f"the book has {n:,} active loans; --rows {rows:,} needs as many")
    write_xlsx(paths["csv"], paths["xlsx"])
    if plain_rows:
        paths["plain"] = directory / "repayments-plain.csv"
        with (
            open(paths["csv"], encoding="utf-8-sig") as src,
            open(paths["plain"], "w", encoding="utf-8-sig") as dst,
        ):
            for i, line in enumerate(src):
                if i > plain_rows:
                    break
                dst.write(line)
    say(
        f"files: {rows:,} rows, CSV {paths['csv'].stat().st_size / 2**20:.1f} MB, "
        f"XLSX {paths['xlsx'].stat().st_size / 2**20:.1f} MB ({time.monotonic() - started:.1f} s)"
    )
    return paths


# ----------------------------------------------------------------------------- what an import wrote

DIGEST_SQL = """
WITH loans AS (SELECT id FROM lending_loan WHERE %(refs)s::text[] IS NULL
                                              OR reference = ANY(%(refs)s::text[])),
     txn AS (SELECT t.* FROM lending_transaction t JOIN loans ON loans.id = t.loan_id
             WHERE t.posted_at >= %(since)s)
SELECT
  (SELECT count(*) FROM txn WHERE kind = 'repayment'),
  (SELECT count(*) FROM txn WHERE kind <> 'repayment'),
  (SELECT coalesce(sum(amount), 0) FROM txn),
  (SELECT coalesce(sum(principal), 0) || '/' || coalesce(sum(interest), 0) || '/' ||
          coalesce(sum(penalty), 0) || '/' || coalesce(sum(credit), 0) FROM txn),
  (SELECT count(*) || '/' || coalesce(sum(tl.principal + tl.interest + tl.fee + tl.penalty), 0)
     FROM lending_transactionline tl JOIN txn ON txn.id = tl.transaction_id),
  (SELECT sum(principal_outstanding) || '/' || sum(interest_outstanding) || '/' ||
          sum(penalty_outstanding) || '/' || sum(credit_balance) || '/' || sum(dpd)
     FROM lending_loan l JOIN loans USING (id)),
  (SELECT count(*) FILTER (WHERE status = 'closed') FROM lending_loan l JOIN loans USING (id)),
  (SELECT count(*) FROM lending_bucketchange b JOIN loans ON loans.id = b.loan_id
    WHERE b.recorded_at >= %(since)s),
  (SELECT count(*) FROM lending_auditevent
    WHERE action = 'repayment.post' AND occurred_at >= %(since)s
      AND object_id IN (SELECT id::text FROM loans)),
  (SELECT count(*) FILTER (WHERE status = 'open') FROM collections_case c
     JOIN loans ON loans.id = c.loan_id)
"""
DIGEST_KEYS = (
    "repayments",
    "other_transactions",
    "amount",
    "principal/interest/penalty/credit",
    "lines/sum",
    "loans principal/interest/penalty/credit/dpd",
    "loans_closed",
    "bucket_changes",
    "audit_events",
    "open_cases",
)


def digest(since, references: list[str] | None = None) -> dict:
    with psycopg.connect(**conninfo(work_db())) as conn:
        row = conn.execute(DIGEST_SQL, {"since": since, "refs": references}).fetchone()
    return {k: str(v) for k, v in zip(DIGEST_KEYS, row, strict=True)}


def compare(a_name: str, a: dict, b_name: str, b: dict) -> None:
    differing = [k for k in a if a[k] != b[k]]
    if differing:
        for k in differing:
            say(f"  MISMATCH {k}: {a_name} {a[k]}, {b_name} {b[k]}")
    else:
        say(f"{a_name} and {b_name} wrote the same ({a['repayments']} repayments, {a['amount']})")


def reconcile_clean() -> bool:
    from lending.access import SYSTEM
    from lending.services.reconcile import reconcile_loans

    started = time.monotonic()
    report = reconcile_loans(acting_user=SYSTEM)
    connections.close_all()
    for difference in report.differences[:10]:
        say(f"  reconcile: {difference}")
    say(
        f"  reconcile: {report.loans:,} loans, {len(report.differences)} differences "
        f"({time.monotonic() - started:.1f} s)"
    )
    return report.clean


# ----------------------------------------------------------------------------- the worker


def bench_user():
    from django.contrib.auth.models import Group, User

    from lending import roles

    user, created = User.objects.get_or_create(
        username="bench-importer", defaults={"is_staff": True}
    )
    if created:
        user.groups.add(Group.objects.get(name=roles.FINANCE))
    return User.objects.get(pk=user.pk)


def import_worker(args) -> None:
    """Run one import in this process and print its report (the last line)."""
    user = bench_user()
    data = Path(args.file).read_bytes()
    stats = StatementStats()
    profiler = cProfile.Profile() if args.profile else None
    started, cpu_started = time.monotonic(), time.process_time()
    with connection.execute_wrapper(stats):
        if profiler:
            profiler.enable()
        if args.worker == "plain":
            from bench.imports_plain import plain_import

            result = plain_import(data, user)
            counts = {k: v for k, v in result.totals.items() if v}
            rows = result.total_rows
            errors = [str(e.error) for _n, row_errors in result.row_errors() for e in row_errors]
            if result.has_validation_errors():
                errors.append("validation errors")
        else:
            from imports.services import import_file

            _record, result = import_file(
                kind="repayments", file_name=Path(args.file).name, data=data, acting_user=user
            )
            counts = result.counts()
            rows = result.rows
            errors = [r.sentence() for r in result.errors]
        if profiler:
            profiler.disable()
    seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
    if profiler:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(60)
            print(out.getvalue())
        Path("var").mkdir(exist_ok=True)
        profiler.dump_stats(f"var/bench-imports-{args.worker}.prof")  # for pstats
    queries = sum(c for c, _s in stats.stats.values())
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": round(cpu_seconds, 2),
                "rows": rows,
                "counts": counts,
                "errors": errors[:10],
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "queries": queries,
                "sql_seconds": round(sum(s for _c, s in stats.stats.values()), 3),
                "statements": stats.top(16),
            }
        ),
        flush=True,
    )


def run_worker(
    kind: str, path: Path, *, profile: bool = False, checkout: Path | None = None
) -> dict:
    env = dict(os.environ)
    env["DEBUG"] = "0"
    env.setdefault("SECRET_KEY", "bench-not-a-secret-not-for-production-use-at-all-0123456789")
    env.setdefault("PII_ENCRYPTION_KEYS", ",".join(settings.PII_ENCRYPTION_KEYS))
    env.setdefault("PII_HASH_KEY", settings.PII_HASH_KEY)
    command = [sys.executable, "-m", "bench.imports", "--worker", kind, "--file", str(path)]
    command += ["--profile"] if profile else []
    connections.close_all()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, cwd=checkout)
    last = ""
    for line in proc.stdout:
        last = line.strip()
        if not last.startswith("{"):
            say("  " + line.rstrip())
    if proc.wait() != 0:
        sys.exit(f"the {kind} import worker failed (exit {proc.returncode})")
    return json.loads(last)


def report(name: str, r: dict) -> float:
    rate = r["rows"] / r["seconds"]
    say(
        f"{name}: {r['rows']:,} rows in {r['seconds']:.2f} s = {rate:,.0f} rows/s, "
        f"peak RSS {r['peak_rss_mb']} MB; {r['counts']}"
    )
    say(
        f"  {r['queries']:,} statements ({r['queries'] / max(r['rows'], 1):.1f} per row), "
        f"{r['sql_seconds']} s waiting on them; the importing process used "
        f"{r['cpu_seconds']} s of CPU ({r['cpu_seconds'] * 1000 / max(r['rows'], 1):.2f} ms a row)"
    )
    for row in r["statements"]:
        say(f"  {row['seconds']:8.2f} s {row['count']:8d} × {row['statement']}")
    for error in r["errors"]:
        say(f"  ERROR {error}")
    return rate


# ----------------------------------------------------------------------------- main


def measure(args) -> dict:
    business_date = timezone.localdate()
    loans = args.loans or args.rows
    overdue = max(1, round(loans * args.late_share))
    template = build_template(
        loans=loans, overdue=overdue, business_date=business_date, keep=args.keep
    )
    plain_rows = min(args.plain_rows, args.rows)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        fresh_copy(template)
        paths = write_files(
            Path(tmp), rows=args.rows, business_date=business_date, plain_rows=plain_rows
        )
        with psycopg.connect(**conninfo(work_db())) as conn:
            since = conn.execute("SELECT now()").fetchone()[0]
            sample = [
                r[0]
                for r in conn.execute(
                    "SELECT reference FROM lending_loan WHERE status = 'active' ORDER BY id "
                    "LIMIT %s",
                    [plain_rows],
                )
            ]
        clean = True
        digests = {}
        for kind in args.formats:
            say(f"{kind}: fresh copy in {fresh_copy(template):.1f} s")
            results[kind] = run_worker(kind, paths[kind], profile=args.profile)
            report(kind, results[kind])
            digests[kind] = digest(since)
            if kind == "csv" and plain_rows:
                digests["csv sample"] = digest(since, sample)
            if not args.skip_reconcile:
                clean = reconcile_clean() and clean
            bad = results[kind]["counts"]["errors"] or results[kind]["counts"]["new"] != args.rows
            if bad:
                sys.exit(f"the {kind} import did not post every row: {results[kind]['counts']}")
            if args.rerun and kind == "csv":
                again = run_worker(kind, paths[kind])
                say(f"{kind} again: {again['counts']}")
                if again["counts"]["duplicates"] != args.rows or again["counts"]["new"]:
                    sys.exit(f"the same file again posted something: {again['counts']}")
                compare("csv", digests["csv"], "csv again", digest(since))
        if args.against:
            results["paired"] = paired(template, paths["csv"], Path(args.against), args.rounds)
        if "csv" in digests and "xlsx" in digests:
            compare("csv", digests["csv"], "xlsx", digests["xlsx"])
        if plain_rows:
            say(f"plain: fresh copy in {fresh_copy(template):.1f} s; first {plain_rows:,} rows")
            results["plain"] = run_worker("plain", paths["plain"], profile=args.profile)
            report("plain", results["plain"])
            if results["plain"]["errors"]:
                sys.exit("the plain import failed")
            if "csv sample" in digests:
                compare("csv (sample)", digests["csv sample"], "plain", digest(since, sample))
    if not args.keep_result:
        drop(work_db())
    if not args.keep:
        drop(template)

    def rate(kind):
        return round(results[kind]["rows"] / results[kind]["seconds"]) if kind in results else None

    csv_rate, plain_rate = rate("csv"), rate("plain")
    extra = {"paired": results["paired"]} if "paired" in results else {}
    return {
        "rows": args.rows,
        "csv_rows_per_s": csv_rate,
        "xlsx_rows_per_s": rate("xlsx"),
        "plain_rows_per_s": plain_rate,
        "speedup_vs_plain": round(csv_rate / plain_rate, 1) if csv_rate and plain_rate else None,
        "peak_rss_mb": max(results[k]["peak_rss_mb"] for k in args.formats),
        "reconcile_clean": None if args.skip_reconcile else clean,
        **extra,
    }


def paired(template: str, path: Path, other: Path, rounds: int) -> dict:
    """The CSV imported by this checkout and by another (an older commit's worktree), each
    into a fresh copy of the template, alternately: a machine whose speed drifts by a quarter
    between runs slows both sides of a pair alike. Rows/s and CPU seconds of each run."""
    runs: dict[str, list] = {"this": [], "other": []}
    for n in range(rounds):
        for side in ("this", "other") if n % 2 == 0 else ("other", "this"):
            fresh_copy(template)
            r = run_worker("csv", path, checkout=None if side == "this" else other)
            if r["counts"]["errors"] or r["counts"]["new"] != r["rows"]:
                sys.exit(f"the paired import by {side} did not post every row: {r['counts']}")
            runs[side].append((round(r["rows"] / r["seconds"]), r["cpu_seconds"]))
            say(
                f"paired {n + 1}/{rounds} {side}: {runs[side][-1][0]:,} rows/s, "
                f"{runs[side][-1][1]} s CPU"
            )
    this, that = (sorted(rate for rate, _cpu in runs[k]) for k in ("this", "other"))
    say(f"paired: this checkout {this} rows/s, the other {that} rows/s")
    return runs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.imports", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=100_000, help="repayments in the file")
    parser.add_argument("--loans", type=int, help="book size (default: --rows)")
    parser.add_argument(
        "--late-share", type=float, default=0.5, help="share of the book past due (default 0.5)"
    )
    parser.add_argument(
        "--plain-rows",
        type=int,
        default=PLAIN_ROWS,
        help=f"rows of the file the plain configuration imports (default {PLAIN_ROWS:,}; 0: skip)",
    )
    parser.add_argument(
        "--formats", default="csv,xlsx", type=lambda s: [f for f in s.split(",") if f]
    )
    parser.add_argument("--keep", action="store_true", help="reuse (and keep) the book template")
    parser.add_argument("--keep-result", action="store_true", help="leave the last copy in place")
    parser.add_argument("--skip-reconcile", action="store_true")
    parser.add_argument(
        "--rerun", action="store_true", help="import the CSV a second time: it must post nothing"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile each import")
    parser.add_argument(
        "--against",
        metavar="CHECKOUT",
        help="also import the CSV alternately by this checkout and another one (e.g. a git "
        "worktree of an older commit), --rounds times each: paired figures on a drifting machine",
    )
    parser.add_argument("--rounds", type=int, default=4, help="pairs for --against (default 4)")
    parser.add_argument("--worker", choices=["csv", "xlsx", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.against and not (Path(args.against) / "bench" / "imports.py").is_file():
        parser.error(f"--against: {args.against} is not a checkout of this project")
    if args.rounds < 1:
        parser.error(f"--rounds: at least 1, got {args.rounds}")
    if args.worker:
        import_worker(args)
        return
    if connection.vendor != "postgresql":
        sys.exit(
            "bench.imports needs PostgreSQL: set DATABASE_URL=postgres://…/lending_bench_imports"
        )
    started = time.monotonic()
    say(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} "
        "(other work on the machine slows every figure alike; compare ratios within one run)"
    )
    result = measure(args)
    say(f"total {time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.2f}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
