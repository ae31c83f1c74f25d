"""A batch of repayments writes one chunk behind while it works out the next: the writes run
in a thread on the batch's own connection, inside its transaction, and the batch's thread may
not touch the database until it joins. What a user would see if that broke: payments written
outside the import's transaction (kept when it is rolled back), two statements interleaved on
one connection, or an error of the write lost."""

import threading
from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from lending.access import SYSTEM
from lending.close_of_business import bulk
from lending.close_of_business.bulk import WriteBehind
from lending.errors import LendingErrorCode
from lending.models import AuditEvent, Loan, Transaction
from lending.services import repayments_many
from lending.services.audit import audit_event
from lending.services.repayments import repayment_post
from lending.services.repayments_many import Payment, repayments_post_many
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _on_postgresql(postgres):
    """Writing behind is PostgreSQL's (SQLite batches write in turn)."""


def an_event(summary: str) -> AuditEvent:
    return audit_event(actor=SYSTEM, action="test.write_behind", obj=Loan(pk=1), summary=summary)


def events(summary: str) -> int:
    return AuditEvent.objects.filter(action="test.write_behind", summary=summary).count()


def test_what_is_written_behind_is_in_the_callers_transaction():
    with transaction.atomic():
        writer = WriteBehind(lambda: bulk.bulk_insert([an_event("inside")]))
        writer.join()
        assert events("inside") == 1  # seen by the caller: the same transaction
        transaction.set_rollback(True)
    assert events("inside") == 0  # and undone with it


def test_the_caller_may_not_use_the_connection_before_it_joins():
    started, release = threading.Event(), threading.Event()

    def slow_write():
        started.set()
        release.wait(5)
        bulk.bulk_insert([an_event("slow")])

    with transaction.atomic():
        writer = WriteBehind(slow_write)
        started.wait(5)
        with pytest.raises(RuntimeError, match="join"):
            AuditEvent.objects.count()
        release.set()
        writer.join()
        assert events("slow") == 1  # and may once it has
        transaction.set_rollback(True)


def test_an_error_of_the_write_reaches_the_caller_at_join():
    def failing_write():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1/0")

    with pytest.raises(Exception, match="division by zero"), transaction.atomic():
        WriteBehind(failing_write).join()
    # The connection is the caller's again, and usable.
    assert AuditEvent.objects.filter(action="test.write_behind").count() == 0


def test_a_key_taken_meanwhile_is_refused_for_that_payment_only(monkeypatch):
    """Another posting commits a key while the batch writes it behind: the unique index
    refuses the chunk, the batch's fast part is undone and its payments go one by one, each
    answered as repayment_post would — that key's payment refused, the others posted."""
    monkeypatch.setattr(repayments_many, "CHUNK", 1)
    loans = [active_loan() for _ in range(3)]
    elsewhere = active_loan()  # the other posting's loan: not locked by the batch
    payments = [
        Payment(loan_id=loan.pk, amount="100.00", value_date=date(2026, 2, 10), idempotency_key=k)
        for loan, k in zip(loans, ["W-1", "W-2", "W-3"], strict=True)
    ]
    real_insert, taken = repayments_many.bulk_insert, []

    def another_posting_commits(key):
        try:
            repayment_post(
                loan_id=elsewhere.pk,
                amount="5.00",
                value_date=date(2026, 2, 10),
                idempotency_key=key,
                acting_user=SYSTEM,
            )
        finally:
            connection.close()  # this thread's own connection

    def insert(objects):
        if objects and getattr(objects[0], "idempotency_key", None) == "W-2" and not taken:
            assert threading.current_thread().name == "write-behind"
            other = threading.Thread(target=another_posting_commits, args=("W-2",))
            other.start()
            other.join()
            taken.append(True)
        return real_insert(objects)

    monkeypatch.setattr(repayments_many, "bulk_insert", insert)
    answers = repayments_post_many(payments=payments, acting_user=SYSTEM)
    assert taken
    assert [getattr(a, "code", "posted") for a in answers] == [
        "posted",
        LendingErrorCode.IDEMPOTENCY_CONFLICT,
        "posted",
    ]
    assert {t.loan_id for t in Transaction.objects.filter(idempotency_key__in=["W-1", "W-3"])} == {
        loans[0].pk,
        loans[2].pk,
    }
    assert Transaction.objects.get(idempotency_key="W-2").loan_id == elsewhere.pk


def test_chunks_written_behind_book_what_one_chunk_books(monkeypatch):
    """Twelve payments to twelve loans in chunks of 3 (every chunk written behind) and the
    same in one chunk: the same transactions, amounts and loan balances."""

    def post(chunk: int) -> list:
        monkeypatch.setattr(repayments_many, "CHUNK", chunk)
        loans = [active_loan(principal=f"{1000 + n}.00") for n in range(12)]
        writers = []
        real = repayments_many.WriteBehind

        def counted(write):
            writers.append(1)
            return real(write)

        monkeypatch.setattr(repayments_many, "WriteBehind", counted)
        answers = repayments_post_many(
            payments=[
                Payment(
                    loan_id=loan.pk,
                    amount=D("150.00") + n,
                    value_date=date(2026, 2, 15),
                    idempotency_key=f"C{chunk}-{n}",
                )
                for n, loan in enumerate(loans)
            ],
            acting_user=SYSTEM,
        )
        assert all(a.transaction.pk for a in answers)
        for loan in loans:
            loan.refresh_from_db()
        return (
            len(writers),
            [
                (a.transaction.amount, a.transaction.interest, a.transaction.principal)
                for a in answers
            ],
            [(loan.principal_outstanding, loan.interest_outstanding) for loan in loans],
        )

    behind, *chunked = post(3)
    none, *whole = post(12)
    assert (behind, none) == (3, 0)  # chunks 1-3 written behind, the last in turn
    assert chunked == whole
