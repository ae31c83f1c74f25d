"""What a repayment reads before it writes, read cheaply: the loan locked by its reference,
the key, the loan's latest money and the last closed night in one statement, and a batch's
ids as one array. Each answer must be the one the ORM's own queries give."""

from datetime import date
from decimal import Decimal
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.access import SYSTEM
from lending.allocation import COMPONENTS
from lending.close_of_business.bulk import fetch_instances
from lending.errors import LendingError, LendingErrorCode
from lending.models import (
    BusinessDayRun,
    Installment,
    Loan,
    RunStatus,
    Transaction,
    TransactionKind,
)
from lending.services.ledger import loan_balances, lock_loan
from lending.services.repayments import repayment_post
from lending.services.repayments_many import Payment, repayments_post_many
from lending.services.reprocess import MONEY_KINDS, posting_state
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db


def pay(loan, amount, value_date, **kwargs):
    return repayment_post(
        loan_id=loan.pk, amount=amount, value_date=value_date, acting_user=SYSTEM, **kwargs
    )


def orm_state(loan, key):
    """The same three answers as three ORM queries (what repayment_post asked before)."""
    keyed = (
        Transaction.objects.filter(kind=TransactionKind.REPAYMENT, idempotency_key=key)
        .exclude(idempotency_key="")
        .values_list("pk", flat=True)
        .first()
    )
    latest = (
        Transaction.objects.filter(loan=loan, kind__in=MONEY_KINDS)
        .order_by("-value_date")
        .values_list("value_date", flat=True)
        .first()
    )
    return keyed, latest, BusinessDayRun.objects.last_closed_date()


def test_the_posting_state_is_the_orms_three_answers_in_one_statement():
    loan, other = active_loan(), active_loan()
    assert tuple(vars(posting_state(loan, kind=TransactionKind.REPAYMENT, key="k-1")).values()) == (
        None,
        date(2026, 1, 15),  # the disbursement is money too
        None,
    )
    first = pay(loan, "100.00", date(2026, 2, 10), idempotency_key="k-1").transaction
    pay(other, "50.00", date(2026, 3, 1), idempotency_key="k-2")
    BusinessDayRun.objects.create(
        business_date=date(2026, 2, 20), status=RunStatus.DONE, started_at=timezone.now()
    )
    BusinessDayRun.objects.create(
        business_date=date(2026, 2, 21), status=RunStatus.FAILED, started_at=timezone.now()
    )
    for key in ("k-1", "k-2", "k-3", ""):
        with CaptureQueriesContext(connection) as queries:
            state = posting_state(loan, kind=TransactionKind.REPAYMENT, key=key)
        assert len(queries) == 1
        assert (state.keyed_id, state.latest_money, state.last_closed) == orm_state(loan, key)
    assert posting_state(loan, kind=TransactionKind.REPAYMENT, key="k-1").keyed_id == first.pk
    # A key is per kind: a recovery's key is not a repayment's.
    assert posting_state(loan, kind=TransactionKind.RECOVERY, key="k-1").keyed_id is None


def test_a_repayment_by_reference_posts_to_that_loan_and_an_unknown_one_is_not_found():
    loan = active_loan()
    result = repayment_post(
        loan_reference=loan.reference,
        amount="100.00",
        value_date=date(2026, 2, 10),
        acting_user=SYSTEM,
    )
    assert result.transaction.loan_id == loan.pk
    before = Transaction.objects.count()
    with pytest.raises(LendingError) as refused:
        repayment_post(
            loan_reference="LN-NO-SUCH",
            amount="100.00",
            value_date=date(2026, 2, 10),
            acting_user=SYSTEM,
        )
    assert refused.value.code == LendingErrorCode.NOT_FOUND
    assert "LN-NO-SUCH" in str(refused.value)
    # A reference no loan could have (5,000 characters from a URL) is not echoed whole.
    with pytest.raises(LendingError) as refused:
        repayment_post(
            loan_reference="LN" + "9" * 5000,
            amount="100.00",
            value_date=date(2026, 2, 10),
            acting_user=SYSTEM,
        )
    assert refused.value.code == LendingErrorCode.NOT_FOUND
    assert len(str(refused.value)) < 120
    assert Transaction.objects.count() == before


def test_a_locked_loan_reads_its_borrower_only_when_asked():
    loan = active_loan()
    locked = lock_loan(reference=loan.reference)
    assert locked.pk == loan.pk
    assert locked.product.pk == loan.product_id  # with the loan: no second query
    with CaptureQueriesContext(connection) as queries:
        assert locked.borrower.pk == loan.borrower_id
    assert len(queries) == 1


def test_in_array_finds_what_in_finds_for_ids_and_references():
    loans = [active_loan() for _ in range(3)]
    ids = [loan.pk for loan in loans[:2]] + [10**12]  # one id that is no loan
    assert sorted(Loan.objects.filter(pk__in_array=ids).values_list("pk", flat=True)) == sorted(
        Loan.objects.filter(pk__in=ids).values_list("pk", flat=True)
    )
    references = [loans[2].reference, "LN-NONE"]
    assert list(Loan.objects.filter(reference__in_array=references)) == [loans[2]]
    # Whatever a reference holds — quotes, commas, braces, a backslash, the separator the
    # strings are sent joined by — it is found as itself and matches nothing else.
    odd = ["O'Brien,{1}", 'a"b\\c', "x\x1fy", loans[0].reference, "\x1f"]
    Loan.objects.filter(pk=loans[1].pk).update(reference=odd[0])
    Loan.objects.filter(pk=loans[2].pk).update(reference=odd[2])
    assert sorted(Loan.objects.filter(reference__in_array=odd).values_list("pk", flat=True)) == [
        loan.pk for loan in loans
    ]
    assert list(Loan.objects.filter(reference__in_array=odd[:2]).values_list("pk", flat=True)) == [
        loans[1].pk
    ]
    assert [loan.pk for loan in Loan.objects.filter(reference__in_array=["O'Brien", "{1}"])] == []
    by_loan = fetch_instances(
        Installment.objects.filter(loan_id__in_array=ids).order_by("loan_id", "seq")
    )
    assert [(i.loan_id, i.seq) for i in by_loan] == list(
        Installment.objects.filter(loan_id__in=ids)
        .order_by("loan_id", "seq")
        .values_list("loan_id", "seq")
    )
    assert not Loan.objects.filter(pk__in_array=[]).exists()
    assert Loan.objects.exclude(pk__in_array=[]).count() == 3


def test_a_batch_writes_text_dates_and_amounts_exactly_as_given():
    """Decimals go to PostgreSQL as text, ids, dates and strings as binary arrays: what the
    batch wrote reads back as given, quotes, backslashes and Chinese included."""
    loans = [active_loan(), active_loan()]
    notes = ['对账 "第1批" \\ O\'Brien', "{braces, and commas}"]
    answers = repayments_post_many(
        payments=[
            Payment(
                loan_id=loan.pk,
                amount=amount,
                value_date=date(2026, 2, 15),
                idempotency_key=f"exact-{n}",
                channel="支付宝",
                note=note,
            )
            for n, (loan, amount, note) in enumerate(
                zip(loans, ["1234.56", "0.01"], notes, strict=True)
            )
        ],
        acting_user=SYSTEM,
    )
    assert all(not isinstance(answer, LendingError) for answer in answers)
    stored = Transaction.objects.filter(idempotency_key__startswith="exact-").order_by("loan_id")
    assert [(t.loan_id, t.amount, t.value_date, t.channel, t.note) for t in stored] == [
        (loans[0].pk, Decimal("1234.56"), date(2026, 2, 15), "支付宝", notes[0]),
        (loans[1].pk, Decimal("0.01"), date(2026, 2, 15), "支付宝", notes[1]),
    ]


money = st.decimals(D("0"), D("99999.99"), places=2)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(money, money, money, money, st.integers(0, 100), st.dates()),
        max_size=14,
    )
)
def test_loan_balances_are_each_components_outstanding_summed(rows):
    """The loan's caches after any posting: every component's due less settled, summed over
    the installments, and the earliest due date of one still owing something."""
    installments = [
        Installment(
            seq=n,
            due_date=due_date,
            principal_due=principal + part,
            principal_settled=principal,
            interest_due=interest,
            interest_settled=interest,
            fee_due=fee,
            fee_settled=D("0") if share % 3 else fee,
            penalty_due=D(share),
            penalty_settled=D(share) if share % 2 else D("0"),
        )
        for n, (principal, interest, fee, part, share, due_date) in enumerate(rows)
    ]
    loan = Loan()
    loan_balances(loan, installments)
    assert (
        loan.principal_outstanding,
        loan.interest_outstanding,
        loan.fee_outstanding,
        loan.penalty_outstanding,
    ) == tuple(sum((i.outstanding_of(c) for i in installments), D("0")) for c in COMPONENTS)
    owing = [i.due_date for i in installments if i.outstanding > 0]
    assert loan.next_due_date == (min(owing) if owing else None)
