"""A close of business whose process was killed (issue 9): `close_business_day --abandon-stuck`
marks it failed so it can be retried — but not while a worker is still on it — and `--json`
reports each date the moment it is closed, so a run stopped later has said what it finished."""

import contextlib
import json
import threading
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from lending.access import SYSTEM
from lending.close_of_business import registry, runner
from lending.close_of_business.registry import register_step
from lending.close_of_business.runner import (
    business_day_abandon,
    business_day_begin,
    business_day_run_chunk,
    close_business_days,
    working_on,
)
from lending.errors import LendingError, LendingErrorCode
from lending.models import AuditEvent, BusinessDayChunk, BusinessDayRun, RunStatus, Transaction
from tests.lending.loan_helpers import active_loan

SEP_15 = date(2026, 9, 15)  # first installment due 2026-10-15


def oct_(day: int) -> date:
    return date(2026, 10, day)


def command(*args, stdout=None) -> str:
    out = stdout or StringIO()
    call_command("close_business_day", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def statuses() -> dict[date, str]:
    return dict(BusinessDayRun.objects.values_list("business_date", "status"))


# --- --abandon-stuck, no worker left -------------------------------------------------------------


@pytest.mark.django_db
def test_abandon_stuck_marks_the_killed_close_failed_and_the_retry_finishes_it():
    active_loan(start=SEP_15)
    close_business_days(until=oct_(15), acting_user=SYSTEM)
    business_day_begin(business_date=oct_(16), acting_user=SYSTEM)  # its process was killed
    with pytest.raises(CommandError, match="is already running"):
        command("--date", "2026-10-17")

    out = command("--abandon-stuck")

    assert "The close of 2026-10-16 is marked failed" in out
    assert "close_business_day --date 2026-10-16" in out
    run = BusinessDayRun.objects.get(business_date=oct_(16))
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("abandoned: ")
    assert AuditEvent.objects.filter(action="close.abandon").count() == 1
    command("--date", "2026-10-17")
    assert statuses() == {oct_(15): "done", oct_(16): "done", oct_(17): "done"}


@pytest.mark.django_db
def test_abandon_stuck_prints_json_when_asked():
    active_loan(start=SEP_15)
    business_day_begin(business_date=oct_(16), acting_user=SYSTEM)
    summary = json.loads(command("--abandon-stuck", "--json"))
    assert (summary["business_date"], summary["status"], summary["abandoned"]) == (
        "2026-10-16",
        "failed",
        True,
    )


@pytest.mark.django_db
def test_abandon_stuck_with_nothing_running_is_refused():
    active_loan(start=SEP_15)
    close_business_days(until=oct_(16), acting_user=SYSTEM)
    with pytest.raises(CommandError, match=r"^--abandon-stuck: no close of business is running"):
        command("--abandon-stuck")
    assert statuses() == {oct_(16): "done"}


@pytest.mark.django_db
@pytest.mark.parametrize("other", [["--date", "2026-10-16"], ["--until", "2026-10-16"]])
def test_abandon_stuck_closes_nothing_and_takes_no_date(other):
    with pytest.raises(CommandError, match="not allowed with argument"):
        command("--abandon-stuck", *other)
    with pytest.raises(CommandError, match=r"^--chunk-size: "):
        command("--abandon-stuck", "--chunk-size", "5")
    assert not BusinessDayRun.objects.exists()


# --- --json as it goes ----------------------------------------------------------------------------


class Recording(StringIO):
    """A stdout that remembers how many complete lines had been written at each flush."""

    def __init__(self):
        super().__init__()
        self.flushed_at: list[int] = []

    def flush(self):
        super().flush()
        self.flushed_at.append(self.getvalue().count("\n"))


@pytest.mark.django_db
def test_json_prints_and_flushes_each_date_as_it_closes():
    active_loan(start=SEP_15)
    close_business_days(until=oct_(14), acting_user=SYSTEM)
    out = Recording()
    command("--until", "2026-10-17", "--json", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(s["business_date"], s["status"]) for s in lines] == [
        ("2026-10-15", "done"),
        ("2026-10-16", "done"),
        ("2026-10-17", "done"),
    ]
    assert out.flushed_at == [1, 2, 3]


@pytest.mark.django_db
def test_a_run_stopped_mid_catch_up_has_reported_every_date_it_closed(monkeypatch):
    active_loan(start=SEP_15)
    close_business_days(until=oct_(14), acting_user=SYSTEM)
    finish = runner.business_day_finish

    def killed_on_the_third(*, run_id):
        run = BusinessDayRun.objects.get(pk=run_id)
        if run.business_date == oct_(17):
            raise KeyboardInterrupt  # the operator's Ctrl-C, or the process being killed
        return finish(run_id=run_id)

    monkeypatch.setattr(runner, "business_day_finish", killed_on_the_third)
    out = Recording()
    with pytest.raises(KeyboardInterrupt):
        command("--until", "2026-10-18", "--json", stdout=out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(s["business_date"], s["status"]) for s in lines] == [
        ("2026-10-15", "done"),
        ("2026-10-16", "done"),
    ]
    assert out.flushed_at == [1, 2]  # each line left the process as soon as it was written
    assert statuses()[oct_(17)] == "running"
    command("--abandon-stuck")
    assert statuses()[oct_(17)] == "failed"


# --- a worker still on it (PostgreSQL) ---------------------------------------------------------


def in_another_session(hold, ready: threading.Event, release: threading.Event, errors: list):
    """Run `hold()` (a context manager) in a thread with its own connection until released."""

    def worker():
        try:
            with hold():
                ready.set()
                release.wait(timeout=60)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
            ready.set()
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert ready.wait(timeout=60)
    return thread


@pytest.fixture
def stuck_run(transactional_db):
    active_loan(start=SEP_15)
    close_business_days(until=oct_(15), acting_user=SYSTEM)
    return business_day_begin(business_date=oct_(16), acting_user=SYSTEM)


def assert_refused_while_held(run, hold, expected: str):
    ready, release, errors = threading.Event(), threading.Event(), []
    thread = in_another_session(hold, ready, release, errors)
    try:
        assert not errors, errors
        with pytest.raises(CommandError, match=rf"^--abandon-stuck: .*is not stuck: {expected}"):
            command("--abandon-stuck")
        with pytest.raises(LendingError) as raised:
            business_day_abandon(run_id=run.pk, reason="from the admin", acting_user=SYSTEM)
        assert raised.value.code == LendingErrorCode.RUN_IN_PROGRESS
        assert BusinessDayRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
    finally:
        release.set()
        thread.join(timeout=60)
    assert not errors, errors
    command("--abandon-stuck")  # the worker is gone: now it is stuck
    assert BusinessDayRun.objects.get(pk=run.pk).status == RunStatus.FAILED


@pytest.mark.postgres
def test_abandon_is_refused_while_a_worker_holds_a_chunk(postgres, stuck_run):
    @contextlib.contextmanager
    def a_chunk_in_progress():
        # What business_day_run_chunk holds for the whole of a chunk's transaction.
        with transaction.atomic():
            chunks = BusinessDayChunk.objects.select_for_update(of=("self",))
            list(chunks.filter(run=stuck_run).order_by())
            yield

    assert_refused_while_held(stuck_run, a_chunk_in_progress, "a worker holds one of its chunks")


@pytest.mark.postgres
def test_abandon_is_refused_while_the_command_is_between_chunks(postgres, stuck_run):
    assert_refused_while_held(
        stuck_run, lambda: working_on(stuck_run), r"the process of database session \d+"
    )


@pytest.mark.postgres
def test_abandon_is_refused_while_a_real_chunk_runs(postgres, stuck_run):
    """The chunk itself, blocked inside a step, as a worker killed mid-chunk would be."""
    entered, release = threading.Event(), threading.Event()

    def slow_step(*, business_date, loan_ids):
        entered.set()
        release.wait(timeout=60)
        return {}

    register_step("test_slow", slow_step, position=9_999)
    errors: list = []

    def worker():
        try:
            business_day_run_chunk(chunk_id=stuck_run.chunks.get().pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    try:
        thread.start()
        assert entered.wait(timeout=60)
        with pytest.raises(CommandError, match="a worker holds one of its chunks"):
            command("--abandon-stuck")
    finally:
        release.set()
        thread.join(timeout=60)
        registry._steps.pop("test_slow", None)
    assert not errors, errors
    assert Transaction.objects.filter(value_date=oct_(16)).exists()  # the chunk committed
    command("--abandon-stuck")
    assert BusinessDayRun.objects.get(pk=stuck_run.pk).status == RunStatus.FAILED
