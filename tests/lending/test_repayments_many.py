"""repayments_post_many: the same answers and the same books as repayment_post payment by
payment, in a number of statements that does not grow with the batch."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lending.access import SYSTEM
from lending.errors import LendingError, LendingErrorCode
from lending.models import AuditEvent, BucketChange, Installment, Loan, Transaction
from lending.services import repayments_many
from lending.services.repayments_many import Payment, repayments_post_many
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import SEP_15, assert_reconciles, close_each, rolled_back

pytestmark = pytest.mark.django_db

LAST_NIGHT = date(2026, 10, 20)  # the first installments (due 15 Oct) are 5 days late
MISSING_LOAN = 10**9


def book() -> list[int]:
    """Three loans disbursed on 15 Sep, nights closed to 20 Oct (overdue, penalty accrued)."""
    loans = [
        active_loan(start=SEP_15, principal="10000.00"),
        active_loan(start=SEP_15, principal="3000.00", term=3),
        active_loan(start=SEP_15, principal="800.00", term=2),
    ]
    close_each(date(2026, 9, 16), LAST_NIGHT)
    return [loan.pk for loan in loans]


def answer(result) -> tuple:
    if isinstance(result, LendingError):
        return ("refused", str(result.code), result.field, result.message)
    txn = result.transaction
    return (
        "posted",
        result.duplicate,
        result.closed,
        txn.loan_id,
        txn.kind,
        txn.value_date,
        txn.amount,
        txn.credit,
        (txn.principal, txn.interest, txn.fee, txn.penalty),
    )


def books(loan_ids) -> dict:
    """Everything a borrower's statement, the collections team and the auditor would see."""
    return {
        "loans": list(
            Loan.objects.filter(pk__in=loan_ids)
            .order_by("pk")
            .values_list(
                "status",
                "dpd",
                "bucket",
                "dpd_as_of",
                "principal_outstanding",
                "interest_outstanding",
                "fee_outstanding",
                "penalty_outstanding",
                "credit_balance",
                "next_due_date",
            )
        ),
        "installments": list(
            Installment.objects.filter(loan_id__in=loan_ids)
            .order_by("loan_id", "seq")
            .values_list(
                "principal_settled",
                "interest_settled",
                "fee_settled",
                "penalty_due",
                "penalty_settled",
                "interest_due",
                "settled_on",
            )
        ),
        # In order per loan: a batch writes the payments of loans that go the straight way
        # together, so across loans the order of ids may differ from payment by payment.
        "transactions": list(
            Transaction.objects.filter(loan_id__in=loan_ids)
            .order_by("loan_id", "pk")
            .values_list(
                "loan_id",
                "kind",
                "value_date",
                "amount",
                "principal",
                "interest",
                "fee",
                "penalty",
                "credit",
                "idempotency_key",
                "channel",
                "caused_by__kind",
            )
        ),
        "lines": sorted(
            Transaction.objects.filter(loan_id__in=loan_ids).values_list(
                "lines__installment__seq", "lines__principal", "lines__interest", "kind"
            ),
            key=repr,
        ),
        "bucket_moves": list(
            BucketChange.objects.filter(loan_id__in=loan_ids)
            .order_by("loan_id", "pk")
            .values_list("loan_id", "business_date", "from_bucket", "to_bucket", "dpd")
        ),
        "audit": [
            (action, object_id, summary, posting(data.get("transaction")), data.get("credit_added"))
            for action, object_id, summary, data in AuditEvent.objects.order_by("object_id", "pk")
            .filter(action__startswith="repayment")
            .values_list("action", "object_id", "summary", "data")
        ],
    }


def posting(transaction_id) -> tuple | None:
    """The transaction an audit event names, by what it is (ids differ from run to run)."""
    if transaction_id is None:
        return None
    txn = Transaction.objects.get(pk=transaction_id)
    return (txn.loan_id, txn.kind, txn.value_date, txn.amount, txn.idempotency_key)


def one_by_one(payments) -> list:
    return [payment.post_alone(SYSTEM) for payment in payments]


def in_a_batch(payments) -> list:
    return repayments_post_many(payments=payments, acting_user=SYSTEM)


amounts = st.one_of(
    st.decimals(D("0.01"), D("1500.00"), places=2),  # part of what is due, or a little more
    st.sampled_from([D("20000.00"), D("916.80"), D("0"), D("-5"), "abc", D("1e9")]),
)
payment_specs = st.lists(
    st.tuples(
        st.integers(0, 3),  # 3: a loan that does not exist
        amounts,
        # Days after the last closed night: the next day goes the straight way when the loan
        # holds no credit; on or before the night, or later (nights behind), it is re-lived.
        st.one_of(st.just(1), st.just(1), st.integers(-8, 40)),
        st.sampled_from(["", "K1", "K2", "K3", "K4", "K5", "K6"]),
    ),
    min_size=1,
    max_size=8,
)


@pytest.mark.parametrize("chunk", [repayments_many.CHUNK, 2, 3])
def test_a_batch_answers_and_books_exactly_as_payment_by_payment(chunk, monkeypatch):
    """In chunks of 2 or 3 the batch reads, works out and writes each chunk in turn — on
    PostgreSQL writing one while working out the next when they share no loan."""
    monkeypatch.setattr(repayments_many, "CHUNK", chunk)
    loan_ids = book()

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(payment_specs)
    # Found by this test: a key staged for one loan, reused on a loan whose payments went to
    # repayment_post (re-lived, then closed), is the key's conflict, not "loan closed".
    @example(
        [
            (0, D("0.01"), 1, "K1"),
            (0, D("0.01"), 1, "K2"),
            (2, D("916.80"), 0, ""),
            (2, D("1320.55"), 1, "K2"),
        ]
    )
    def check(specs):
        payments = [
            Payment(
                loan_id=[*loan_ids, MISSING_LOAN][which],
                amount=amount,
                value_date=LAST_NIGHT + timedelta(days=days),
                idempotency_key=key,
                external_reference=key,
                channel="bank",
            )
            for which, amount, days, key in specs
        ]

        def run(post):
            answers = post(payments)  # read the answers before the savepoint is undone
            return [answer(a) for a in answers], books(loan_ids)

        assert rolled_back(lambda: run(in_a_batch)) == rolled_back(lambda: run(one_by_one))

    check()


def test_a_statement_the_size_of_a_bank_file_reconciles():
    loan_ids = book()
    payments = [
        Payment(
            loan_id=loan_ids[n % 3],
            amount=D("10.00") + n,
            value_date=LAST_NIGHT + timedelta(days=1 + n % 5),  # days out of order: re-lived
            idempotency_key=f"STMT-{n}",
        )
        for n in range(60)
    ]
    answers = in_a_batch(payments)
    assert all(not isinstance(a, LendingError) for a in answers), answers
    assert Transaction.objects.filter(idempotency_key__startswith="STMT-").count() == 60
    assert_reconciles()


def statements_for(count: int, loan_ids, tag: str) -> int:
    payments = [
        Payment(
            loan_id=loan_ids[n % len(loan_ids)],
            amount=D("1.00"),
            value_date=date(2026, 9, 21),  # the day after the last night
            idempotency_key=f"{tag}-{n}",
        )
        for n in range(count)
    ]
    with CaptureQueriesContext(connection) as ctx:
        answers = in_a_batch(payments)
    assert all(not a.duplicate for a in answers)
    return len(ctx.captured_queries)


def test_the_statements_do_not_grow_with_the_batch():
    """Small payments on the same day to loans that go the straight way: a batch of 30 costs
    what a batch of 10 does (repayment_post alone costs some fifteen statements each)."""
    loan_ids = [active_loan(start=SEP_15).pk for _ in range(40)]
    close_each(date(2026, 9, 16), date(2026, 9, 20))
    assert statements_for(10, loan_ids[:10], "A") == statements_for(30, loan_ids[10:], "B")


def test_a_user_without_the_permission_is_refused_and_nothing_is_posted(staff_user):
    loan_ids = book()
    clerk = staff_user
    before = books(loan_ids)
    with pytest.raises(LendingError) as refused:
        repayments_post_many(
            payments=[Payment(loan_id=loan_ids[0], amount="10.00", value_date=LAST_NIGHT)],
            acting_user=clerk,
        )
    assert refused.value.code == LendingErrorCode.PERMISSION_DENIED
    assert books(loan_ids) == before
