"""The nightly close under real concurrency, against PostgreSQL (skipped on SQLite).

Threads each use their own database connection and close it when done; data is committed
(transaction=True), so each thread sees what the others really committed.
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from lending.access import SYSTEM
from lending.close_of_business.runner import (
    business_day_begin,
    business_day_finish,
    business_day_run_chunk,
    close_business_days,
)
from lending.errors import LendingError, LendingErrorCode
from lending.models import (
    BusinessDayRun,
    ChunkStatus,
    RunStatus,
    Transaction,
    TransactionKind,
)
from lending.models.transactions import Effect
from lending.services.reconcile import reconcile_loans
from tests.lending.loan_helpers import active_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
SEP_15 = date(2026, 9, 15)  # first installment due 2026-10-15: 766.80 principal + 150.00


def oct_(day: int) -> date:
    return date(2026, 10, day)


def run_at_once(count: int, work):
    """Start `count` threads together on `work(index)`; return (results, errors) by index."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results, errors


def accruals_by_loan(business_date: date) -> dict[int, list[Decimal]]:
    found: dict[int, list[Decimal]] = {}
    for loan_id, penalty in Transaction.objects.filter(
        kind=TransactionKind.PENALTY_ACCRUAL, value_date=business_date
    ).values_list("loan_id", "penalty"):
        found.setdefault(loan_id, []).append(penalty)
    return found


def test_two_simultaneous_starts_of_a_date_one_wins(postgres):
    active_loan(start=SEP_15)
    for business_date in (oct_(15), oct_(16), oct_(17)):
        results, errors = run_at_once(
            2, lambda _, d=business_date: business_day_begin(business_date=d, acting_user=SYSTEM)
        )
        started = [run for run in results if run is not None]
        refused = [exc for exc in errors if exc is not None]
        assert len(started) == 1, errors
        assert len(refused) == 1
        assert isinstance(refused[0], LendingError), repr(refused[0])
        assert refused[0].code == LendingErrorCode.RUN_IN_PROGRESS
        assert refused[0].field == "business_date"
        assert BusinessDayRun.objects.filter(business_date=business_date).count() == 1
        run = started[0]
        for chunk in run.chunks.order_by("number"):
            business_day_run_chunk(chunk_id=chunk.pk)
        assert business_day_finish(run_id=run.pk).status == RunStatus.DONE
    assert BusinessDayRun.objects.count() == 3
    assert list(accruals_by_loan(oct_(16)).values()) == [[D("0.58")]]
    assert list(accruals_by_loan(oct_(17)).values()) == [[D("0.57")]]


def test_a_second_penalty_accrual_for_a_loan_and_day_is_refused_by_the_database(postgres):
    loan = active_loan(start=SEP_15)
    close_business_days(until=oct_(15), acting_user=SYSTEM)
    close_business_days(until=oct_(16), acting_user=SYSTEM)
    assert accruals_by_loan(oct_(16)) == {loan.pk: [D("0.58")]}

    def accrual(value_date, kind=TransactionKind.PENALTY_ACCRUAL):
        return Transaction.objects.create(
            loan=loan,
            kind=kind,
            effect=Effect.CHARGE,
            value_date=value_date,
            penalty=D("0.01"),
            note="test",
        )

    with (
        pytest.raises(IntegrityError, match="penalty_accrual_once_per_loan_day"),
        transaction.atomic(),
    ):
        accrual(oct_(16))
    assert accruals_by_loan(oct_(16)) == {loan.pk: [D("0.58")]}
    # The constraint is per loan, day and kind only: another day or another kind is accepted
    # (rolled back: the ledger refuses deletes).
    with transaction.atomic():
        accrual(oct_(20))
        accrual(oct_(16), kind=TransactionKind.FEE)
        transaction.set_rollback(True)


def test_the_same_chunk_run_twice_at_once_posts_once(postgres):
    loans = [active_loan(start=SEP_15) for _ in range(3)]
    close_business_days(until=oct_(15), acting_user=SYSTEM)
    run = business_day_begin(business_date=oct_(16), acting_user=SYSTEM)
    chunk = run.chunks.get()
    assert sorted(chunk.loan_ids) == sorted(loan.pk for loan in loans)

    results, errors = run_at_once(2, lambda _: business_day_run_chunk(chunk_id=chunk.pk))
    assert errors == [None, None]
    assert all(result.status == ChunkStatus.DONE for result in results)

    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == (ChunkStatus.DONE, 1)
    assert accruals_by_loan(oct_(16)) == {loan.pk: [D("0.58")] for loan in loans}
    for loan in loans:
        loan.refresh_from_db()
        assert (loan.dpd, loan.bucket, loan.penalty_outstanding) == (1, "M1", D("0.58"))
        assert loan.bucket_changes.count() == 1
    run = business_day_finish(run_id=run.pk)
    assert (run.status, run.chunks_done, run.accruals_posted) == (RunStatus.DONE, 1, 3)
    assert run.accrual_total == D("1.74")
    assert not (
        Transaction.objects.filter(kind=TransactionKind.PENALTY_ACCRUAL)
        .values("loan_id", "value_date")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exists()
    )
    report = reconcile_loans(acting_user=SYSTEM)
    assert report.clean, [str(d) for d in report.differences]
