"""Real threads posting to the same loans at once, against PostgreSQL (skipped on SQLite).

Each thread has its own database connection and closes it when done; the data is committed
(transaction=True), so what one thread sees is what the others really committed.
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from lending.access import SYSTEM
from lending.models import AuditEvent, Loan, Transaction, TransactionKind
from lending.services.ledger import lock_loan
from lending.services.reconcile import reconcile_loans
from lending.services.repayments import repayment_post
from tests.factories import BorrowerFactory, ProductFactory
from tests.lending.loan_helpers import active_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
FEB_15 = date(2026, 2, 15)


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


def assert_reconciles():
    report = reconcile_loans(acting_user=SYSTEM)
    assert report.clean, [str(d) for d in report.differences]


def test_twenty_simultaneous_repayments_all_count(postgres):
    loan = active_loan()
    results, errors = run_at_once(
        20,
        lambda i: repayment_post(
            loan_id=loan.pk,
            amount="10.00",
            value_date=FEB_15,
            acting_user=SYSTEM,
            external_reference=f"batch-{i}",
        ),
    )
    assert errors == [None] * 20
    assert all(not r.duplicate for r in results)

    repayments = Transaction.objects.filter(loan=loan, kind=TransactionKind.REPAYMENT)
    assert repayments.count() == 20
    assert sum(t.amount for t in repayments) == D("200.00")
    loan.refresh_from_db()
    first = loan.installments.get(seq=1)
    # 200.00 went to installment 1: its 150.00 interest, then 50.00 of principal. No update lost.
    assert (first.interest_settled, first.principal_settled) == (D("150.00"), D("50.00"))
    assert loan.principal_outstanding == D("9950.00")
    assert loan.interest_outstanding == D("851.61")
    assert loan.credit_balance == 0
    assert AuditEvent.objects.filter(action="repayment.post", object_id=str(loan.pk)).count() == 20
    assert_reconciles()


def test_simultaneous_repayments_past_the_installment_end_up_as_credit(postgres):
    loan = active_loan()
    _, errors = run_at_once(
        20,
        lambda i: repayment_post(
            loan_id=loan.pk, amount="50.00", value_date=FEB_15, acting_user=SYSTEM
        ),
    )
    assert errors == [None] * 20
    loan.refresh_from_db()
    # 1,000.00 in: installment 1 (916.80) settled, 83.20 held as credit — never lost.
    assert loan.installments.get(seq=1).outstanding == 0
    assert loan.credit_balance == D("83.20")
    assert sum(t.credit for t in loan.transactions.filter(kind=TransactionKind.REPAYMENT)) == D(
        "83.20"
    )
    assert loan.next_due_date == date(2026, 3, 15)
    assert_reconciles()


def test_the_same_idempotency_key_from_five_threads_posts_once(postgres):
    loan = active_loan()
    results, errors = run_at_once(
        5,
        lambda i: repayment_post(
            loan_id=loan.pk,
            amount="300.00",
            value_date=FEB_15,
            acting_user=SYSTEM,
            idempotency_key="gateway-retry-42",
        ),
    )
    assert errors == [None] * 5
    assert Transaction.objects.filter(idempotency_key="gateway-retry-42").count() == 1
    posted = Transaction.objects.get(idempotency_key="gateway-retry-42")
    assert {r.transaction.pk for r in results} == {posted.pk}
    assert sorted(r.duplicate for r in results) == [False, True, True, True, True]
    loan.refresh_from_db()
    assert loan.principal_outstanding == D("9850.00")  # one 300.00 payment: 150 + 150
    assert AuditEvent.objects.filter(action="repayment.post").count() == 1
    assert_reconciles()


@pytest.mark.parametrize("shared", ["product", "borrower"])
def test_repayments_on_different_loans_do_not_wait_for_each_other(postgres, shared):
    product, borrower = ProductFactory(), BorrowerFactory()
    if shared == "product":
        held = active_loan(product=product)
        other = active_loan(product=product)
    else:
        held = active_loan(borrower=borrower)
        other = active_loan(borrower=borrower)
    holding, release = threading.Event(), threading.Event()

    def hold_first_loan():
        try:
            with transaction.atomic():
                lock_loan(held.pk)  # e.g. a slow repayment or the nightly run on this loan
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_first_loan)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            result = repayment_post(
                loan_id=other.pk, amount="10.00", value_date=FEB_15, acting_user=SYSTEM
            )
        assert result.transaction.loan_id == other.pk
        assert Loan.objects.get(pk=other.pk).principal_outstanding == D("10000.00")
    finally:
        release.set()
        thread.join(timeout=30)
