"""Waivers, settlements and recoveries through lending's services: what the borrower owes
afterwards, what the ledger holds, and that the caches still reconcile."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending import roles
from lending.access import SYSTEM
from lending.allocation import InstallmentState, Parts
from lending.close_of_business.runner import close_business_days
from lending.errors import LendingError
from lending.models import AuditEvent, Loan, LoanStatus, Transaction, TransactionKind
from lending.services.concessions import loan_settle, recovery_post, waiver_post
from lending.services.loans import loan_write_off
from lending.services.repayments import repayment_post, repayment_reverse
from lending.waivers import waivable, waiver_lines
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import assert_reconciles

pytestmark = pytest.mark.django_db

START = date(2026, 8, 15)  # first installment due 15 September


def nights_until(day: date) -> None:
    close_business_days(until=day, acting_user=SYSTEM)


@pytest.fixture
def late_loan():
    """Ten nights late on its first installment: penalty owed on installment 1."""
    loan = active_loan(start=START)
    nights_until(date(2026, 9, 25))
    loan.refresh_from_db()
    assert loan.penalty_outstanding > 0 and loan.dpd == 10
    return loan


def counts():
    return Transaction.objects.count(), AuditEvent.objects.count()


def test_waiver_reduces_the_penalty_owed_and_reconciles(late_loan):
    penalty = late_loan.penalty_outstanding
    waiver = waiver_post(
        loan_id=late_loan.pk, penalty=penalty, reason="hardship", acting_user=SYSTEM
    )
    late_loan.refresh_from_db()
    assert late_loan.penalty_outstanding == 0
    assert waiver.kind == TransactionKind.WAIVER and waiver.penalty == penalty
    assert waiver.value_date == date(2026, 9, 26)  # the day after the last night
    assert AuditEvent.objects.filter(action="loan.waiver", object_id=str(late_loan.pk)).exists()
    assert_reconciles()
    # The next night charges penalty again on the principal still overdue: the waiver forgave
    # what was owed, not what is to come.
    nights_until(date(2026, 9, 26))
    late_loan.refresh_from_db()
    assert 0 < late_loan.penalty_outstanding < penalty
    assert_reconciles()


def test_interest_waived_only_where_due_oldest_first(late_loan):
    first = late_loan.installments.get(seq=1)
    owed = first.interest_due - first.interest_settled
    with pytest.raises(LendingError) as exc:
        waiver_post(
            loan_id=late_loan.pk, interest=owed + Decimal("0.01"), reason="r", acting_user=SYSTEM
        )
    assert exc.value.field == "interest" and exc.value.code == "out_of_range"
    waiver_post(loan_id=late_loan.pk, interest=owed, reason="r", acting_user=SYSTEM)
    first.refresh_from_db()
    assert first.interest_settled == first.interest_due
    assert late_loan.installments.get(seq=2).interest_settled == 0
    assert_reconciles()


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"penalty": "-1"}, "penalty"),
        ({"penalty": "NaN"}, "penalty"),
        ({"penalty": "1e30"}, "penalty"),
        ({"penalty": "0.001"}, "penalty"),
        ({"penalty": "abc"}, "penalty"),
        ({"penalty": ""}, "penalty"),  # nothing to waive at all
        ({"penalty": "0", "interest": "0"}, "penalty"),
        ({"penalty": "99999.00"}, "penalty"),  # more than owed
        ({"interest": "Infinity"}, "interest"),
        ({"penalty": "1.00", "reason": ""}, "reason"),
        ({"penalty": "1.00", "reason": "x" * 256}, "reason"),
    ],
)
def test_bad_waivers_are_refused_naming_the_field_and_change_nothing(late_loan, fields, field):
    before = counts()
    kwargs = {"reason": "hardship", **fields}
    with pytest.raises(LendingError) as exc:
        waiver_post(loan_id=late_loan.pk, acting_user=SYSTEM, **kwargs)
    assert exc.value.field == field
    assert counts() == before


def test_waiver_refused_on_a_loan_not_active(late_loan):
    loan_write_off(
        loan_id=late_loan.pk, reason="lost", value_date=date(2026, 9, 26), acting_user=SYSTEM
    )
    with pytest.raises(LendingError) as exc:
        waiver_post(loan_id=late_loan.pk, penalty="1.00", reason="r", acting_user=SYSTEM)
    assert exc.value.code == "loan_not_active"
    with pytest.raises(LendingError) as exc:
        waiver_post(loan_id=10**9, penalty="1.00", reason="r", acting_user=SYSTEM)
    assert exc.value.code == "not_found"


@pytest.mark.parametrize(
    "role, allowed",
    [
        (roles.COLLECTOR, False),
        (roles.COLLECTIONS_MANAGER, True),
        (roles.FINANCE, False),
        (roles.AUDITOR, False),
        (roles.CREDIT_OFFICER, False),
    ],
)
def test_who_may_waive(late_loan, role_user, role, allowed):
    user = role_user(role)
    before = counts()
    if allowed:
        waiver_post(loan_id=late_loan.pk, penalty="1.00", reason="r", acting_user=user)
        return
    with pytest.raises(LendingError) as exc:
        waiver_post(loan_id=late_loan.pk, penalty="1.00", reason="r", acting_user=user)
    assert exc.value.code == "permission_denied" and counts() == before


def test_a_payment_valued_before_the_waiver_reaching_later_still_posts():
    """The statement arrives after the waiver: re-lived, the payment pays the penalty first
    and the waiver forgives only what is left — never more than owed, never refused."""
    late_loan = active_loan(start=START)
    nights_until(date(2026, 9, 15))  # the first night ever, then each night to the 25th
    nights_until(date(2026, 9, 25))
    late_loan.refresh_from_db()
    penalty = late_loan.penalty_outstanding
    waiver_post(loan_id=late_loan.pk, penalty=penalty, reason="r", acting_user=SYSTEM)
    payment = repayment_post(
        loan_id=late_loan.pk, amount="50.00", value_date=date(2026, 9, 20), acting_user=SYSTEM
    ).transaction
    late_loan.refresh_from_db()
    # The 20 September payment pays the penalty owed through the 19th before anything else...
    assert payment.penalty > 0 and payment.principal + payment.interest < Decimal("50.00")
    # ...and the waiver, landing after it, forgives only what is left: nothing owed, nothing
    # settled twice.
    assert late_loan.penalty_outstanding == 0
    settled = sum(t.penalty for t in late_loan.transactions.filter(effect="settle"))
    charged = sum(t.penalty for t in late_loan.transactions.filter(effect="charge"))
    assert settled == charged
    assert_reconciles()


def _settle_world():
    loan = active_loan(start=START)
    nights_until(date(2026, 9, 20))
    loan.refresh_from_db()
    return loan


def test_settlement_paid_by_its_date_closes_the_loan_as_settled():
    loan = _settle_world()
    agreed, due_by = date(2026, 9, 21), date(2026, 9, 30)
    repayment_post(
        loan_id=loan.pk, amount="3000.00", value_date=date(2026, 9, 21), acting_user=SYSTEM
    )
    nights_until(date(2026, 9, 24))
    repayment_post(
        loan_id=loan.pk, amount="2000.00", value_date=date(2026, 9, 25), acting_user=SYSTEM
    )
    discount = loan_settle(
        loan_id=loan.pk, amount="5000.00", agreed_on=agreed, due_by=due_by, acting_user=SYSTEM
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED and loan.status_reason == "settled"
    assert loan.total_outstanding == 0 and loan.credit_balance == 0 and loan.dpd == 0
    assert discount.kind == TransactionKind.SETTLEMENT_DISCOUNT and discount.amount == 0
    assert_reconciles()


def test_settlement_short_of_the_amount_is_refused_and_changes_nothing():
    loan = _settle_world()
    repayment_post(
        loan_id=loan.pk, amount="4999.99", value_date=date(2026, 9, 21), acting_user=SYSTEM
    )
    before = counts()
    with pytest.raises(LendingError) as exc:
        loan_settle(
            loan_id=loan.pk,
            amount="5000.00",
            agreed_on=date(2026, 9, 21),
            due_by=date(2026, 9, 30),
            acting_user=SYSTEM,
        )
    assert exc.value.code == "settlement_not_paid" and exc.value.field == "amount"
    # A payment before the agreement does not count; nor does one reversed.
    with pytest.raises(LendingError):
        loan_settle(
            loan_id=loan.pk,
            amount="1.00",
            agreed_on=date(2026, 9, 22),
            due_by=date(2026, 9, 30),
            acting_user=SYSTEM,
        )
    with pytest.raises(LendingError) as exc:
        loan_settle(
            loan_id=loan.pk,
            amount="1.00",
            agreed_on=date(2026, 9, 22),
            due_by=date(2026, 9, 21),
            acting_user=SYSTEM,
        )
    assert exc.value.field == "due_by"
    assert counts() == before
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.ACTIVE


def test_settlement_needs_its_permission(role_user):
    loan = _settle_world()
    for role in (roles.COLLECTOR, roles.FINANCE, roles.AUDITOR):
        with pytest.raises(LendingError) as exc:
            loan_settle(
                loan_id=loan.pk,
                amount="1.00",
                agreed_on=date(2026, 9, 21),
                due_by=date(2026, 9, 30),
                acting_user=role_user(role),
            )
        assert exc.value.code == "permission_denied"


@pytest.fixture
def written_off(late_loan):
    loan_write_off(
        loan_id=late_loan.pk,
        reason="uncollectable",
        value_date=date(2026, 9, 26),
        acting_user=SYSTEM,
    )
    late_loan.refresh_from_db()
    return late_loan


def test_recovery_after_write_off_posts_and_reconciles(written_off):
    on = date(2026, 10, 5)
    recovery = recovery_post(
        loan_id=written_off.pk,
        amount="1200.00",
        value_date=on,
        acting_user=SYSTEM,
        idempotency_key="bank-1",
    )
    assert recovery.kind == TransactionKind.RECOVERY and recovery.effect == "none"
    assert recovery.amount == Decimal("1200.00") and not recovery.lines.exists()
    again = recovery_post(
        loan_id=written_off.pk,
        amount="1200.00",
        value_date=on,
        acting_user=SYSTEM,
        idempotency_key="bank-1",
    )
    assert again.pk == recovery.pk
    written_off.refresh_from_db()
    assert written_off.status == LoanStatus.WRITTEN_OFF and written_off.total_outstanding == 0
    assert AuditEvent.objects.filter(action="loan.recovery").count() == 1
    assert_reconciles()


@pytest.mark.parametrize(
    "fields, field, code",
    [
        ({"amount": "-5"}, "amount", "invalid"),
        ({"amount": "NaN"}, "amount", "invalid"),
        ({"amount": "99999999.00"}, "amount", "out_of_range"),  # more than written off
        ({"value_date": date(2026, 9, 1)}, "value_date", "out_of_range"),  # before write-off
        ({"value_date": date(2199, 1, 1)}, "value_date", "invalid"),  # far future
        ({"idempotency_key": "k" * 101}, "idempotency_key", "invalid"),
    ],
)
def test_bad_recoveries_are_refused(written_off, fields, field, code):
    before = counts()
    kwargs = {"amount": "10.00", "value_date": date(2026, 10, 5), **fields}
    with pytest.raises(LendingError) as exc:
        recovery_post(loan_id=written_off.pk, acting_user=SYSTEM, **kwargs)
    assert (exc.value.field, exc.value.code) == (field, code)
    assert counts() == before


def test_recovery_refused_on_an_active_loan_and_without_permission(late_loan, role_user):
    with pytest.raises(LendingError) as exc:
        recovery_post(
            loan_id=late_loan.pk, amount="10.00", value_date=date(2026, 9, 26), acting_user=SYSTEM
        )
    assert exc.value.code == "loan_not_written_off"
    for role in (roles.COLLECTOR, roles.COLLECTIONS_MANAGER, roles.AUDITOR):
        with pytest.raises(LendingError) as exc:
            recovery_post(
                loan_id=late_loan.pk,
                amount="10.00",
                value_date=date(2026, 9, 26),
                acting_user=role_user(role),
            )
        assert exc.value.code == "permission_denied"


def test_recovery_cannot_exceed_what_was_written_off(written_off):
    lost = sum(
        (t.principal + t.interest + t.fee + t.penalty)
        for t in written_off.transactions.filter(kind="write_off")
    )
    recovery_post(
        loan_id=written_off.pk, amount=lost, value_date=date(2026, 10, 5), acting_user=SYSTEM
    )
    with pytest.raises(LendingError) as exc:
        recovery_post(
            loan_id=written_off.pk, amount="0.01", value_date=date(2026, 10, 5), acting_user=SYSTEM
        )
    assert exc.value.field == "amount"
    assert_reconciles()


# --- the money computation, as a property ---------------------------------------------

money = st.decimals(min_value=0, max_value=5000, places=2)


@st.composite
def installments(draw):
    n = draw(st.integers(1, 6))
    first = date(2026, 1, 15)
    rows = []
    for seq in range(1, n + 1):
        due = Parts(principal=draw(money), interest=draw(money), penalty=draw(money))
        paid = Parts(
            interest=draw(st.decimals(0, due.interest, places=2)),
            penalty=draw(st.decimals(0, due.penalty, places=2)),
        )
        start = first + timedelta(days=30 * (seq - 1))
        rows.append(InstallmentState(seq, start + timedelta(days=30), start, due, paid))
    return rows


@settings(max_examples=200, deadline=None)
@given(rows=installments(), as_of_days=st.integers(0, 240), share=st.fractions(0, 1))
def test_a_waiver_never_settles_more_than_owed_and_balances(rows, as_of_days, share):
    as_of = date(2026, 1, 15) + timedelta(days=as_of_days)
    owed = waivable(rows, as_of)
    penalty = (owed.penalty * share.numerator / share.denominator).quantize(
        Decimal("0.01"), rounding="ROUND_DOWN"
    )
    interest = owed.interest
    lines = waiver_lines(rows, as_of, penalty=penalty, interest=interest)
    total = Parts.sum(lines.values())
    # Exactly what was asked, nothing of principal or fees: the waiver's row balances.
    assert (total.penalty, total.interest, total.principal, total.fee) == (penalty, interest, 0, 0)
    by_seq = {r.seq: r for r in rows}
    for seq, parts in lines.items():
        left = by_seq[seq].outstanding
        assert 0 <= parts.penalty <= left.penalty and 0 <= parts.interest <= left.interest
        if parts.interest:
            assert by_seq[seq].due_date <= as_of  # interest only where it fell due
    with pytest.raises(ValueError):
        waiver_lines(rows, as_of, penalty=owed.penalty + Decimal("0.01"))


def test_reversing_a_payment_on_a_waived_loan_reconciles(late_loan):
    pay = repayment_post(
        loan_id=late_loan.pk, amount="100.00", value_date=date(2026, 9, 25), acting_user=SYSTEM
    )
    waiver_post(loan_id=late_loan.pk, penalty=Decimal("0.01"), reason="r", acting_user=SYSTEM)
    repayment_reverse(transaction_id=pay.transaction.pk, reason="bounced", acting_user=SYSTEM)
    assert_reconciles()
