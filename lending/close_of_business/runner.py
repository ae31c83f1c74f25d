"""Running a close of business: begin a date, run its chunks, finish it; catch up in order.

The same functions serve `manage.py close_business_day` (synchronously, with a progress bar) and
the Celery tasks (chunks as a chord across workers). Each chunk runs every chunked step in one
transaction and records its counts there, so a crashed or repeated chunk posts nothing twice.
"""

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lending.access import Perm, require, stored_user
from lending.close_of_business.registry import book_steps, chunked_steps
from lending.errors import LendingError, LendingErrorCode
from lending.models import (
    BusinessDayChunk,
    BusinessDayRun,
    BusinessDayStep,
    ChunkStatus,
    Loan,
    LoanStatus,
    RunStatus,
)
from lending.money import money_str, quantize_money
from lending.services.audit import audit_log
from lending.services.delinquency import may_be_late
from lending.validation import check_count, check_date, clean_text

# Run columns filled from the steps' counts (the rest stay in the per-step rows).
RUN_COUNTS = (
    "loans_examined",
    "installments_newly_overdue",
    "loans_newly_overdue",
    "loans_cured",
    "bucket_moves",
    "accruals_posted",
    "accrual_total",
    "loans_capped",
)


class AlreadyClosed(LendingError):
    def __init__(self, run: BusinessDayRun):
        super().__init__(
            LendingErrorCode.OUT_OF_ORDER,
            f"{run.business_date} is already closed; nothing was posted",
            field="business_date",
        )
        self.run = run


def last_closed_date() -> date | None:
    return BusinessDayRun.objects.last_closed_date()


def dates_to_close(until: date) -> list[date]:
    """Every date after the last closed one up to `until`, oldest first (catch-up)."""
    last = last_closed_date()
    if last is None:
        return [until]
    return [last + timedelta(days=n) for n in range(1, (until - last).days + 1)]


def candidate_loan_ids(business_date: date) -> list[int]:
    """Only loans that are due or overdue: the night's cost follows them, not the book."""
    return list(
        Loan.objects.filter(status=LoanStatus.ACTIVE)
        .filter(Q(next_due_date=business_date) | may_be_late(business_date))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _check_order(business_date: date) -> None:
    if business_date >= timezone.localdate():
        raise LendingError(
            LendingErrorCode.OUT_OF_ORDER,
            _("%(date)s has not ended yet; the latest date that can close is %(latest)s")
            % {"date": business_date, "latest": timezone.localdate() - timedelta(days=1)},
            field="business_date",
        )
    running = BusinessDayRun.objects.filter(status=RunStatus.RUNNING).first()
    if running:
        raise LendingError(
            LendingErrorCode.RUN_IN_PROGRESS,
            _(
                "the close of %(date)s is in progress (started %(started)s); only one close "
                "runs at a time"
            )
            % {"date": running.business_date, "started": f"{running.started_at:%Y-%m-%d %H:%M}"},
            field="business_date",
        )
    last = last_closed_date()
    if last is not None and business_date <= last:
        raise LendingError(
            LendingErrorCode.OUT_OF_ORDER,
            _("%(date)s is before the last closed date %(last)s; dates close in order")
            % {"date": business_date, "last": last},
            field="business_date",
        )
    if last is not None and business_date > last + timedelta(days=1):
        raise LendingError(
            LendingErrorCode.OUT_OF_ORDER,
            _("close %(date)s first: dates close in order, one at a time")
            % {"date": last + timedelta(days=1)},
            field="business_date",
        )


@transaction.atomic
def business_day_begin(
    *, business_date: date, acting_user, chunk_size: int | None = None
) -> BusinessDayRun:
    """Open the run for a date (or reopen a failed one) and cut its loans into chunks."""
    require(acting_user, Perm.RUN_CLOSE_OF_BUSINESS, to=_("run the close of business"))
    if chunk_size is not None:
        check_count(chunk_size, field="chunk_size")
    check_date(business_date, field="business_date")
    existing = BusinessDayRun.objects.select_for_update().filter(business_date=business_date)
    run = existing.first()
    if run and run.status == RunStatus.DONE:
        raise AlreadyClosed(run)
    if run and run.status == RunStatus.RUNNING:
        raise LendingError(
            LendingErrorCode.RUN_IN_PROGRESS,
            _("the close of %(date)s is already running; a second start is refused")
            % {"date": business_date},
            field="business_date",
        )
    if run:  # a failed date: retry only what did not finish
        run.status, run.attempts, run.error, run.failed_loan_ids = (
            RunStatus.RUNNING,
            run.attempts + 1,
            "",
            [],
        )
        run.finished_at = None
        run.save()
        run.chunks.exclude(status=ChunkStatus.DONE).update(status=ChunkStatus.PENDING, error="")
        audit_log(actor=acting_user, action="close.retry", obj=run, summary=str(business_date))
        return run
    _check_order(business_date)
    try:
        with transaction.atomic():
            run = BusinessDayRun.objects.create(
                business_date=business_date,
                started_at=timezone.now(),
                started_by=stored_user(acting_user),
            )
    except IntegrityError:
        raise LendingError(
            LendingErrorCode.RUN_IN_PROGRESS,
            _("the close of %(date)s was started by someone else just now")
            % {"date": business_date},
            field="business_date",
        ) from None
    chunk_size = chunk_size or settings.CLOSE_OF_BUSINESS_CHUNK_SIZE
    ids = candidate_loan_ids(business_date)
    BusinessDayChunk.objects.bulk_create(
        BusinessDayChunk(run=run, number=n, loan_ids=ids[start : start + chunk_size])
        for n, start in enumerate(range(0, len(ids), chunk_size), start=1)
    )
    run.chunks_total = run.chunks.count()
    run.save(update_fields=["chunks_total"])
    audit_log(actor=acting_user, action="close.begin", obj=run, summary=str(business_date))
    return run


def _jsonable(counts: dict) -> dict:
    """Counts as JSON: Decimal counts are money, shown with their two places ("0.00")."""
    return {
        k: money_str(quantize_money(v)) if isinstance(v, Decimal) else v for k, v in counts.items()
    }


def business_day_run_chunk(*, chunk_id: int) -> BusinessDayChunk:
    """Every chunked step for one chunk, in one transaction. A done chunk is skipped."""
    with transaction.atomic():
        chunk = (
            BusinessDayChunk.objects.select_for_update(of=("self",))
            .select_related("run")
            .get(pk=chunk_id)
        )
        if chunk.status == ChunkStatus.DONE:
            return chunk
        started = time.monotonic()
        counts = {}
        for step in chunked_steps():
            counts[step.name] = _jsonable(
                step.func(business_date=chunk.run.business_date, loan_ids=chunk.loan_ids)
            )
        chunk.counts = counts
        chunk.status = ChunkStatus.DONE
        chunk.attempts += 1
        chunk.error = ""
        chunk.seconds = Decimal(f"{time.monotonic() - started:.3f}")
        chunk.save()
    BusinessDayRun.objects.filter(pk=chunk.run_id).update(
        chunks_done=BusinessDayChunk.objects.filter(
            run_id=chunk.run_id, status=ChunkStatus.DONE
        ).count()
    )
    return chunk


def business_day_fail_chunk(*, chunk_id: int, error: str, final: bool = True) -> None:
    """Record a failed attempt (its transaction was rolled back: nothing posted). A final one
    marks the chunk failed; otherwise it stays pending for the retry."""
    chunk = BusinessDayChunk.objects.get(pk=chunk_id)
    if final:
        chunk.status = ChunkStatus.FAILED
    chunk.attempts += 1
    chunk.error = error[:2000]
    chunk.save(update_fields=["status", "attempts", "error"])


def _sum_counts(rows: list[dict]) -> dict:
    total: dict = defaultdict(int)
    for counts in rows:
        for key, value in counts.items():
            total[key] += Decimal(value) if isinstance(value, str) else value
    return dict(total)


@transaction.atomic
def business_day_finish(*, run_id: int) -> BusinessDayRun:
    """Close the run: failed if any chunk failed (with its loan ids), else run the book-level
    steps, add up every step's counts and mark the date done."""
    run = BusinessDayRun.objects.select_for_update().get(pk=run_id)
    chunks = list(run.chunks.all())
    unfinished = [c for c in chunks if c.status != ChunkStatus.DONE]
    per_step: dict[str, list[dict]] = defaultdict(list)
    for chunk in chunks:
        for name, counts in chunk.counts.items():
            per_step[name].append(counts)
    if unfinished:
        run.status = RunStatus.FAILED
        run.failed_loan_ids = sorted(i for c in unfinished for i in c.loan_ids)
        run.error = "\n".join(f"chunk {c.number}: {c.error or c.status}" for c in unfinished)
    else:
        for step in book_steps():
            try:
                with transaction.atomic():
                    per_step[step.name].append(
                        _jsonable(step.func(business_date=run.business_date))
                    )
            except Exception as exc:  # a step of another app failed: the date is not closed
                run.status = RunStatus.FAILED
                run.error = f"step {step.name}: {exc!r}"
                break
        else:
            run.status = RunStatus.DONE
    totals = {name: _sum_counts(rows) for name, rows in per_step.items()}
    for position, (name, counts) in enumerate(totals.items(), start=1):
        BusinessDayStep.objects.update_or_create(
            run=run,
            name=name,
            defaults={
                "position": position,
                "status": RunStatus.DONE,
                "counts": _jsonable(counts),
            },
        )
    merged = _sum_counts([counts for counts in totals.values()])
    for field in RUN_COUNTS:
        setattr(run, field, merged.get(field, 0))
    run.chunks_done = sum(c.status == ChunkStatus.DONE for c in chunks)
    run.finished_at = timezone.now()
    run.seconds = Decimal(f"{(run.finished_at - run.started_at).total_seconds():.3f}")
    run.save()
    audit_log(
        actor=None,
        action=f"close.{run.status}",
        obj=run,
        summary=f"{run.business_date}: {run.status}",
        data={"failed_loan_ids": run.failed_loan_ids[:100]},
    )
    return run


def run_summary(run: BusinessDayRun) -> dict:
    """The JSON shape of `close_business_day --json` (one object per date)."""
    summary = {"business_date": run.business_date.isoformat(), "status": run.status}
    for field in RUN_COUNTS:
        summary[field] = getattr(run, field)
    summary = _jsonable(summary)
    summary["accrual_total"] = money_str(quantize_money(run.accrual_total))
    summary["steps"] = {step.name: step.counts for step in run.steps.order_by("position")}
    summary["failed_loan_ids"] = run.failed_loan_ids
    summary["seconds"] = float(run.seconds or 0)
    return summary


def close_business_days(
    *,
    until: date,
    acting_user,
    chunk_size: int | None = None,
    on_chunk: Callable[[BusinessDayRun, BusinessDayChunk], None] | None = None,
    on_date: Callable[[BusinessDayRun], None] | None = None,
    retries: int = 1,
) -> list[BusinessDayRun]:
    """Close every date up to `until` in order, synchronously; stop at the first failure.
    `on_date` hears of each date as soon as it is finished (done or failed), so a caller that
    is stopped later has still reported what was closed."""
    require(acting_user, Perm.RUN_CLOSE_OF_BUSINESS, to=_("run the close of business"))
    if chunk_size is not None:
        check_count(chunk_size, field="chunk_size")
    check_date(until, field="business_date")
    if until >= timezone.localdate():
        # Refused before anything runs: otherwise the missed dates before it would be closed
        # first and the request refused only on reaching today.
        raise LendingError(
            LendingErrorCode.OUT_OF_ORDER,
            _("%(date)s has not ended yet; the latest date that can close is %(latest)s")
            % {"date": until, "latest": timezone.localdate() - timedelta(days=1)},
            field="business_date",
        )
    runs = []
    last = last_closed_date()
    if last is not None and until <= last:
        run = BusinessDayRun.objects.filter(business_date=until).first()
        if run is None:
            raise LendingError(
                LendingErrorCode.OUT_OF_ORDER,
                _("%(date)s is before the last closed date %(last)s; dates close in order")
                % {"date": until, "last": last},
                field="business_date",
            )
        raise AlreadyClosed(run)
    for business_date in dates_to_close(until):
        run = business_day_begin(
            business_date=business_date, acting_user=acting_user, chunk_size=chunk_size
        )
        with working_on(run):
            for chunk in run.chunks.exclude(status=ChunkStatus.DONE).order_by("number"):
                for attempt in range(retries + 1):
                    try:
                        business_day_run_chunk(chunk_id=chunk.pk)
                        break
                    except Exception as exc:
                        business_day_fail_chunk(
                            chunk_id=chunk.pk, error=repr(exc), final=attempt == retries
                        )
                if on_chunk:
                    on_chunk(run, chunk)
            run = business_day_finish(run_id=run.pk)
        runs.append(run)
        if on_date:
            on_date(run)
        if run.status != RunStatus.DONE:
            break
    return runs


# --------------------------------------------------------------------------- stuck runs
#
# A run stays "running" if the process working on it dies. Before it is marked failed (and so
# may be retried), `business_day_abandon` makes sure nobody is still on it (PostgreSQL):
# - a chunk being worked on is locked FOR UPDATE by `business_day_run_chunk` for the whole of
#   its transaction (Celery workers and the command alike): the run's unfinished chunks are
#   locked here with NOWAIT, which fails at once if a worker holds one;
# - between chunks the command holds no row lock, so `close_business_days` also holds a
#   session advisory lock on (RUN_LOCK_CLASS, run id) while it works on a run, released when
#   it is done or when its process dies and its connection with it; it is looked up in pg_locks.
# A lost Celery chord holds neither. On SQLite (the single-machine demo) a live close keeps the
# database write-locked, so the abandon fails with "database is locked" instead.

RUN_LOCK_CLASS = 0x434F42  # "COB": the first key of the two-key advisory lock


@contextlib.contextmanager
def working_on(run: BusinessDayRun):
    """Hold the run's advisory lock for the duration (PostgreSQL; a no-op elsewhere)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_CLASS, run.pk])
        taken = cursor.fetchone()[0]
    try:
        yield
    finally:
        if taken:
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_CLASS, run.pk])


def running_business_day() -> BusinessDayRun | None:
    """The run in progress, if any (at most one: dates close one at a time)."""
    return BusinessDayRun.objects.filter(status=RunStatus.RUNNING).first()


def business_day_worker(run: BusinessDayRun) -> str | None:
    """Who is still working on `run`, in words, or None when nobody is (see above)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = %s AND objid = %s AND objsubid = 2 AND pid <> pg_backend_pid()",
                [RUN_LOCK_CLASS, run.pk],
            )
            row = cursor.fetchone()
        if row:
            return _("the process of database session %(pid)s is closing it") % {"pid": row[0]}
    try:
        with transaction.atomic():
            list(
                BusinessDayChunk.objects.select_for_update(nowait=True, of=("self",))
                .filter(run_id=run.pk)
                .exclude(status=ChunkStatus.DONE)
                .order_by()
                .values_list("pk", flat=True)
            )
    except DatabaseError:  # PostgreSQL: lock not available
        return _("a worker holds one of its chunks")
    return None


@transaction.atomic
def business_day_abandon(*, run_id: int, reason: str, acting_user) -> BusinessDayRun:
    """Mark a run stuck in 'running' (its worker died) as failed, so it can be retried.
    Committed chunks stay done; the retry runs only the rest. Refused while a worker is still
    on it (business_day_worker)."""
    require(acting_user, Perm.RUN_CLOSE_OF_BUSINESS, to=_("run the close of business"))
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    run = BusinessDayRun.objects.select_for_update().get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _("the close of %(date)s is %(status)s, not running")
            % {"date": run.business_date, "status": run.get_status_display().lower()},
            field="status",
        )
    worker = business_day_worker(run)
    if worker:
        raise LendingError(
            LendingErrorCode.RUN_IN_PROGRESS,
            _(
                "the close of %(date)s is not stuck: %(worker)s. Wait for it to finish, or stop "
                "that process first"
            )
            % {"date": run.business_date, "worker": worker},
            field="status",
        )
    run.status = RunStatus.FAILED
    run.error = f"abandoned: {reason}"
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    audit_log(actor=acting_user, action="close.abandon", obj=run, summary=reason)
    return run
