"""Repayments through the services: waterfall, payoff, credit balance, idempotency, reversal.

The reference loan (tests/lending/loan_helpers.active_loan): 10,000.00 at 18 % ACT/360 for 12
months from 2026-01-15, equal installments of 916.80 due on the 15th. Installment 1 is
766.80 principal + 150.00 interest, installment 2 is 778.30 + 138.50.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone, translation

from lending.access import SYSTEM
from lending.allocation import Parts, payoff_quote
from lending.errors import LendingError, LendingErrorCode
from lending.models import (
    AuditEvent,
    Installment,
    Loan,
    LoanStatus,
    Transaction,
    TransactionKind,
    TransactionLine,
)
from lending.schedules import DayCount
from lending.services.ledger import (
    installment_states,
    loan_installments,
    lock_loan,
    post_transaction,
)
from lending.services.loans import loan_write_off
from lending.services.reconcile import reconcile_loans
from lending.services.repayments import (
    loan_credit_apply,
    loan_credit_refund,
    repayment_post,
    repayment_reverse,
)
from tests.lending.loan_helpers import active_loan, lines_of
from tests.lending.test_close_of_business import close_each

pytestmark = pytest.mark.django_db

D = Decimal
FEB_15, MAR_1, MAR_15 = date(2026, 2, 15), date(2026, 3, 1), date(2026, 3, 15)


INSTALLMENT_FIELDS = [
    f"{c}_{s}" for c in ("principal", "interest", "fee", "penalty") for s in ("due", "settled")
] + ["settled_on"]
LOAN_FIELDS = [
    "status",
    "principal_outstanding",
    "interest_outstanding",
    "fee_outstanding",
    "penalty_outstanding",
    "credit_balance",
    "next_due_date",
    "closed_at",
]


# --- helpers ------------------------------------------------------------------------------------


def pay(loan, amount, value_date, **kwargs):
    return repayment_post(
        loan_id=loan.pk, amount=amount, value_date=value_date, acting_user=SYSTEM, **kwargs
    )


def snapshot(loan):
    """Every cached balance of the loan and its installments."""
    return {
        "loan": Loan.objects.filter(pk=loan.pk).values(*LOAN_FIELDS).get(),
        "installments": list(
            Installment.objects.filter(loan=loan).order_by("seq").values("seq", *INSTALLMENT_FIELDS)
        ),
    }


def footprint():
    return {
        "transactions": Transaction.objects.count(),
        "lines": TransactionLine.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def add_penalty(loan, amounts: dict[int, str], value_date):
    """Charge penalty interest the way the nightly run does: a locked, posted transaction."""
    with transaction.atomic():
        locked = lock_loan(loan.pk)
        post_transaction(
            loan=locked,
            kind=TransactionKind.PENALTY_ACCRUAL,
            value_date=value_date,
            lines={seq: Parts(penalty=D(amount)) for seq, amount in amounts.items()},
            installments=loan_installments(locked),
            acting_user=SYSTEM,
        )


def quote_for(loan, as_of):
    loan.refresh_from_db()
    return payoff_quote(
        installment_states(loan_installments(loan)),
        as_of=as_of,
        annual_rate=loan.annual_rate,
        day_count=DayCount(loan.day_count),
        credit_balance=loan.credit_balance,
    )


def refused(code, field, call, **kwargs):
    with pytest.raises(LendingError) as excinfo:
        call(**kwargs)
    assert excinfo.value.code == code, excinfo.value
    assert excinfo.value.field == field, excinfo.value
    return excinfo.value


def assert_refused_and_unchanged(code, field, loan, call, **kwargs):
    before, counts = snapshot(loan), footprint()
    error = refused(code, field, call, **kwargs)
    assert snapshot(loan) == before
    assert footprint() == counts
    return error


def assert_reconciles():
    report = reconcile_loans(acting_user=SYSTEM)
    assert report.clean, [str(d) for d in report.differences]


# --- the waterfall ------------------------------------------------------------------------------


@pytest.fixture
def loan_with_fee_and_penalty():
    """Installment 1: 766.80 + 150.00 + fee 50.00 + penalty 12.34; installment 2: 778.30 +
    138.50 + penalty 5.00. Both due by 2026-03-15."""
    loan = active_loan(fee_type="flat", fee_value=D("50"), fee_collection="first_installment")
    add_penalty(loan, {1: "12.34", 2: "5.00"}, MAR_15)
    loan.refresh_from_db()
    assert loan.penalty_outstanding == D("17.34")
    assert loan.fee_outstanding == D("50.00")
    return loan


def test_default_waterfall_pays_penalty_then_fee_then_interest_then_principal(
    loan_with_fee_and_penalty,
):
    loan = loan_with_fee_and_penalty
    small = pay(loan, "40.00", MAR_15).transaction
    assert lines_of(small) == {1: Parts(penalty=D("12.34"), fee=D("27.66"))}

    # 22.34 fee + 150.00 interest + 766.80 principal clear installment 1; installment 2 then
    # gets its penalty, its interest and 100.00 of principal.
    big = pay(loan, "1182.64", MAR_15).transaction
    assert lines_of(big) == {
        1: Parts(principal=D("766.80"), interest=D("150.00"), fee=D("22.34")),
        2: Parts(principal=D("100.00"), interest=D("138.50"), penalty=D("5.00")),
    }
    assert (big.principal, big.interest, big.fee, big.penalty, big.credit) == (
        D("866.80"),
        D("288.50"),
        D("22.34"),
        D("5.00"),
        D("0.00"),
    )
    loan.refresh_from_db()
    first, second = loan.installments.order_by("seq")[:2]
    assert first.outstanding == 0 and first.settled_on == MAR_15
    assert second.outstanding == D("678.30") and second.settled_on is None
    assert loan.next_due_date == MAR_15
    assert loan.principal_outstanding == D("9133.20")
    assert loan.penalty_outstanding == 0
    assert loan.fee_outstanding == 0
    assert_reconciles()


def test_product_order_principal_first_allocates_differently():
    loan = active_loan(
        fee_type="flat",
        fee_value=D("50"),
        fee_collection="first_installment",
        allocation_order="principal,interest,fee,penalty",
    )
    add_penalty(loan, {1: "12.34", 2: "5.00"}, MAR_15)
    small = pay(loan, "40.00", MAR_15).transaction
    assert lines_of(small) == {1: Parts(principal=D("40.00"))}

    big = pay(loan, "1000.00", MAR_15).transaction
    # The rest of installment 1 (726.80 principal, 150.00, 50.00, 12.34 = 939.14), then
    # installment 2's principal.
    assert lines_of(big) == {
        1: Parts(principal=D("726.80"), interest=D("150.00"), fee=D("50.00"), penalty=D("12.34")),
        2: Parts(principal=D("60.86")),
    }
    loan.refresh_from_db()
    assert loan.penalty_outstanding == D("5.00")
    assert loan.interest_outstanding == D("851.61")
    assert_reconciles()


def test_partial_payment_pays_interest_then_part_of_the_principal():
    loan = active_loan()
    result = pay(loan, "500.00", FEB_15)
    assert result.closed is False
    assert result.duplicate is False
    assert lines_of(result.transaction) == {1: Parts(principal=D("350.00"), interest=D("150.00"))}
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert loan.principal_outstanding == D("9650.00")
    assert loan.interest_outstanding == D("851.61")
    assert loan.credit_balance == 0
    assert loan.next_due_date == FEB_15
    first = loan.installments.get(seq=1)
    assert first.outstanding == D("416.80")
    assert first.settled_on is None
    assert_reconciles()


def test_paying_an_installment_exactly_moves_the_next_due_date():
    loan = active_loan()
    pay(loan, "916.80", FEB_15)
    loan.refresh_from_db()
    assert loan.next_due_date == MAR_15
    assert loan.installments.get(seq=1).settled_on == FEB_15
    assert loan.principal_outstanding == D("9233.20")


def test_payment_goes_to_the_oldest_installment_in_arrears_first():
    loan = active_loan()
    # On 2026-04-20 installments 1-3 are due; 1,000.00 clears #1 and pays #2's interest first.
    txn = pay(loan, "1000.00", date(2026, 4, 20)).transaction
    assert lines_of(txn) == {
        1: Parts(principal=D("766.80"), interest=D("150.00")),
        2: Parts(interest=D("83.20")),
    }


# --- payoff -------------------------------------------------------------------------------------


def test_exact_payoff_closes_the_loan_with_interest_only_to_that_date(finance_user):
    loan = active_loan()
    # On 2026-03-01: installment 1 in full (916.80) + 9,233.20 principal + interest for
    # 14 days of installment 2's period: 9,233.20 × 0.18 × 14 / 360 = 64.6324 → 64.63.
    expected = D("916.80") + D("9233.20") + D("64.63")
    assert expected == D("10214.63")
    assert quote_for(loan, MAR_1).amount == expected

    result = repayment_post(
        loan_id=loan.pk, amount=expected, value_date=MAR_1, acting_user=finance_user
    )
    assert result.closed is True
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED
    assert loan.closed_at is not None
    assert (loan.total_outstanding, loan.credit_balance, loan.next_due_date) == (0, 0, None)
    assert result.transaction.principal == D("10000.00")
    assert result.transaction.interest == D("214.63")  # 150.00 + 64.63, nothing more
    assert result.transaction.credit == 0
    assert not loan.installments.filter(settled_on__isnull=True).exists()
    adjustment = loan.transactions.get(kind=TransactionKind.INTEREST_ADJUSTMENT)
    assert adjustment.interest == D("-786.98")  # 1,001.61 − 150.00 − 64.63, not earned
    assert adjustment.caused_by_id == result.transaction.pk
    audit = AuditEvent.objects.filter(action="repayment.post").get()
    assert audit.actor == finance_user
    assert "paid the loan off" in audit.summary
    assert_reconciles()


def test_one_cent_short_of_the_payoff_keeps_the_loan_open():
    loan = active_loan()
    result = pay(loan, "10214.62", MAR_1)
    assert result.closed is False
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    # Only installment 1 is due: the rest is held as credit, not lost.
    assert lines_of(result.transaction) == {1: Parts(principal=D("766.80"), interest=D("150.00"))}
    assert loan.credit_balance == D("9297.82")
    assert not loan.transactions.filter(kind=TransactionKind.INTEREST_ADJUSTMENT).exists()
    assert_reconciles()


@pytest.mark.parametrize(
    "day_count, interest",
    [
        # 9,233.20 × 0.18 × 10 / 360 = 46.166 → 46.17
        ("act360", D("46.17")),
        # 9,233.20 × 0.18 × 10 / 365 = 45.5336… → 45.53
        ("act365f", D("45.53")),
    ],
)
def test_prepayment_mid_period_charges_interest_only_to_that_date(day_count, interest):
    loan = active_loan(day_count=day_count)
    pay(loan, "916.80", FEB_15)
    payoff = D("9233.20") + interest
    assert quote_for(loan, date(2026, 2, 25)).amount == payoff
    result = pay(loan, payoff, date(2026, 2, 25))
    assert result.closed is True
    assert result.transaction.interest == interest
    paid_interest = sum(
        t.interest for t in loan.transactions.filter(kind=TransactionKind.REPAYMENT)
    )
    assert paid_interest == D("150.00") + interest
    assert_reconciles()


def test_payoff_on_a_due_date_owes_that_installment_and_no_later_interest():
    loan = active_loan()
    result = pay(loan, D("916.80") + D("9233.20"), FEB_15)
    assert result.closed is True
    assert result.transaction.interest == D("150.00")


def test_payoff_overpayment_is_kept_as_credit_on_the_closed_loan():
    loan = active_loan()
    result = pay(loan, "10300.00", MAR_1)
    assert result.closed is True
    assert result.transaction.credit == D("85.37")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED
    assert loan.credit_balance == D("85.37")
    refund = loan_credit_refund(loan_id=loan.pk, acting_user=SYSTEM)
    assert refund.amount == D("85.37")
    loan.refresh_from_db()
    assert loan.credit_balance == 0
    assert_reconciles()


def test_a_cent_short_of_the_payoff_is_held_as_credit_and_the_payoff_closes():
    # Between the payoff's floor (the principal left) and the quote: the quote decides.
    loan = active_loan()
    pay(loan, "916.80", FEB_15)
    when = date(2026, 2, 25)
    payoff = quote_for(loan, when).amount
    assert payoff > loan.principal_outstanding
    short = pay(loan, payoff - D("0.01"), when)
    assert short.closed is False
    assert short.transaction.credit == payoff - D("0.01")  # nothing is due until Mar 15
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert quote_for(loan, when).amount == D("0.01")
    assert pay(loan, "0.01", when).closed is True
    assert_reconciles()


def test_a_limit_below_zero_forced_into_the_table_still_refuses_below_the_floor():
    # No product may have one (its form and service refuse it); a payment below the payoff's
    # floor skips the quote, and the overpayment rule must still hold as it is written.
    loan = active_loan()
    type(loan.product).objects.filter(pk=loan.product_id).update(max_overpayment=D("-0.02"))
    start = loan.start_date
    payoff = quote_for(loan, start).amount
    assert payoff == loan.principal_outstanding  # nothing earned yet: the floor is the payoff
    with pytest.raises(LendingError) as refused:
        pay(loan, payoff - D("0.01"), start)
    assert (refused.value.code, refused.value.field) == (LendingErrorCode.OUT_OF_RANGE, "amount")
    assert not loan.transactions.filter(kind=TransactionKind.REPAYMENT).exists()


# --- credit balance -----------------------------------------------------------------------------


def test_overpayment_is_kept_as_credit_and_used_when_the_next_installment_falls_due(finance_user):
    loan = active_loan()
    result = pay(loan, "1000.00", FEB_15)
    assert result.transaction.credit == D("83.20")
    loan.refresh_from_db()
    assert loan.credit_balance == D("83.20")
    assert loan.next_due_date == MAR_15

    # Nothing is due the day before installment 2: the credit stays put.
    assert loan_credit_apply(loan_id=loan.pk, as_of=date(2026, 3, 14), acting_user=SYSTEM) is None
    loan.refresh_from_db()
    assert loan.credit_balance == D("83.20")

    applied = loan_credit_apply(loan_id=loan.pk, as_of=MAR_15, acting_user=finance_user)
    assert applied.kind == TransactionKind.CREDIT_APPLIED
    assert applied.credit == D("-83.20")
    assert applied.amount == 0  # no new cash
    assert lines_of(applied) == {2: Parts(interest=D("83.20"))}
    loan.refresh_from_db()
    assert loan.credit_balance == 0
    assert loan.installments.get(seq=2).outstanding == D("833.60")
    assert AuditEvent.objects.filter(action="credit.apply", actor=finance_user).count() == 1
    assert_reconciles()


def test_credit_apply_on_a_future_date_is_refused():
    loan = active_loan()
    pay(loan, "1000.00", FEB_15)  # 83.20 credit
    assert_refused_and_unchanged(
        LendingErrorCode.INVALID,
        "as_of",
        loan,
        loan_credit_apply,
        loan_id=loan.pk,
        as_of=timezone.localdate() + timedelta(days=400),
        acting_user=SYSTEM,
    )


def test_credit_is_used_before_new_money_on_the_next_payment():
    loan = active_loan()
    pay(loan, "1000.00", FEB_15)  # 83.20 credit
    result = pay(loan, "100.00", MAR_15)
    applied = loan.transactions.get(kind=TransactionKind.CREDIT_APPLIED)
    assert applied.caused_by_id == result.transaction.pk
    assert lines_of(applied) == {2: Parts(interest=D("83.20"))}
    assert lines_of(result.transaction) == {2: Parts(principal=D("44.70"), interest=D("55.30"))}


def test_credit_refund_in_part_then_in_full(finance_user):
    loan = active_loan()
    pay(loan, "1000.00", FEB_15)  # 83.20 credit
    refund = loan_credit_refund(
        loan_id=loan.pk, amount="50.00", acting_user=finance_user, note="by bank transfer"
    )
    assert (refund.kind, refund.amount, refund.credit) == (
        TransactionKind.REFUND,
        D("50.00"),
        D("-50.00"),
    )
    assert refund.lines.count() == 0
    assert refund.value_date == timezone.localdate()
    loan.refresh_from_db()
    assert loan.credit_balance == D("33.20")
    rest = loan_credit_refund(loan_id=loan.pk, acting_user=finance_user)
    assert rest.amount == D("33.20")
    loan.refresh_from_db()
    assert loan.credit_balance == 0
    assert AuditEvent.objects.filter(action="credit.refund").count() == 2
    assert_reconciles()


@pytest.mark.parametrize("amount", ["83.21", None, "0", "-1.00", "1.001"])
def test_refund_beyond_the_credit_or_of_a_bad_amount_is_refused(amount):
    loan = active_loan()
    pay(loan, "1000.00", FEB_15)  # 83.20 credit
    if amount is None:  # nothing left to refund
        loan_credit_refund(loan_id=loan.pk, acting_user=SYSTEM)
    code = LendingErrorCode.OUT_OF_RANGE if amount in ("83.21", None) else LendingErrorCode.INVALID
    error = assert_refused_and_unchanged(
        code,
        "amount",
        loan,
        loan_credit_refund,
        loan_id=loan.pk,
        amount=amount,
        acting_user=SYSTEM,
    )
    if amount == "83.21":  # both figures as the screens show money
        assert error.message == "the loan holds a credit of ¥83.20; cannot refund ¥83.21"


# --- idempotency --------------------------------------------------------------------------------


def test_reposting_the_same_key_returns_the_first_payment_and_writes_nothing():
    loan = active_loan()
    first = pay(loan, "500.00", FEB_15, idempotency_key="bank-2026-0001")
    before, counts = snapshot(loan), footprint()
    again = pay(loan, D("500"), FEB_15, idempotency_key=" bank-2026-0001 ")
    assert again.duplicate is True
    assert again.transaction.pk == first.transaction.pk
    assert snapshot(loan) == before
    assert footprint() == counts


def test_same_key_with_another_amount_is_a_conflict():
    loan = active_loan()
    pay(loan, "500.00", FEB_15, idempotency_key="bank-2026-0002")
    error = assert_refused_and_unchanged(
        LendingErrorCode.IDEMPOTENCY_CONFLICT,
        "idempotency_key",
        loan,
        repayment_post,
        loan_id=loan.pk,
        amount="500.01",
        value_date=FEB_15,
        acting_user=SYSTEM,
        idempotency_key="bank-2026-0002",
    )
    assert "a repayment of ¥500.00 to loan" in error.message


def test_same_key_on_another_loan_is_a_conflict():
    loan, other = active_loan(), active_loan()
    pay(loan, "500.00", FEB_15, idempotency_key="bank-2026-0003")
    assert_refused_and_unchanged(
        LendingErrorCode.IDEMPOTENCY_CONFLICT,
        "idempotency_key",
        other,
        repayment_post,
        loan_id=other.pk,
        amount="500.00",
        value_date=FEB_15,
        acting_user=SYSTEM,
        idempotency_key="bank-2026-0003",
    )


def test_an_over_long_idempotency_key_is_refused_naming_the_field():
    loan = active_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.INVALID,
        "idempotency_key",
        loan,
        repayment_post,
        loan_id=loan.pk,
        amount="10.00",
        value_date=FEB_15,
        acting_user=SYSTEM,
        idempotency_key="k" * 101,
    )


def test_payments_without_a_key_are_never_deduplicated():
    loan = active_loan()
    pay(loan, "100.00", FEB_15)
    pay(loan, "100.00", FEB_15)
    assert loan.transactions.filter(kind=TransactionKind.REPAYMENT).count() == 2


# --- reversal -----------------------------------------------------------------------------------


# What happens before the payment under test.


def scenario_spends_earlier_credit(loan):
    pay(loan, "1000.00", FEB_15)  # 83.20 credit, spent by the next payment


def scenario_payoff(loan):
    pay(loan, "916.80", FEB_15)  # installment 1 paid; the payment under test pays off


def scenario_penalty(loan):
    # The nights of 16–19 February charge penalty on the late first installment (2.30).
    close_each(FEB_15, date(2026, 2, 19))
    assert Installment.objects.get(loan=loan, seq=1).penalty_due == D("2.30")


@pytest.mark.parametrize(
    "setup, amount, value_date",
    [
        (None, "500.00", FEB_15),
        (None, "1000.00", FEB_15),
        (scenario_spends_earlier_credit, "100.00", MAR_15),
        (scenario_payoff, "9279.37", date(2026, 2, 25)),
        (scenario_payoff, "9400.00", date(2026, 2, 25)),
        (scenario_penalty, "920.00", date(2026, 2, 20)),
    ],
    ids=["partial", "overpayment", "spends-credit", "payoff", "payoff-with-credit", "penalty"],
)
def test_reversal_restores_every_balance_exactly(setup, amount, value_date, finance_user):
    loan = active_loan()
    if setup:
        setup(loan)
    before = snapshot(loan)
    payment = pay(loan, amount, value_date).transaction
    assert snapshot(loan) != before

    reversal = repayment_reverse(
        transaction_id=payment.pk, reason="bounced", acting_user=finance_user
    )
    assert reversal.kind == TransactionKind.REVERSAL
    assert reversal.reverses_id == payment.pk
    assert reversal.amount == payment.amount
    assert reversal.credit == -payment.credit
    assert lines_of(reversal) == {seq: -parts for seq, parts in lines_of(payment).items()}
    assert snapshot(loan) == before  # status and closed_at included: a payoff reopens
    # Everything posted with the payment (credit used, interest cancelled) is undone too.
    for companion in payment.consequences.all():
        assert Transaction.objects.filter(reverses=companion).exists()
    assert AuditEvent.objects.filter(action="repayment.reverse", actor=finance_user).count() == 1
    assert_reconciles()


def test_reversing_a_payoff_reopens_the_loan():
    loan = active_loan()
    payoff = pay(loan, "10214.63", MAR_1)
    assert payoff.closed
    repayment_reverse(transaction_id=payoff.transaction.pk, reason="chargeback", acting_user=SYSTEM)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert loan.closed_at is None
    assert loan.principal_outstanding == D("10000.00")
    assert loan.interest_outstanding == D("1001.61")  # the cancelled interest is owed again
    assert loan.next_due_date == FEB_15
    # The loan can be paid off again with the same quote.
    assert pay(loan, "10214.63", MAR_1).closed
    assert_reconciles()


def test_double_reversal_is_refused():
    loan = active_loan()
    payment = pay(loan, "500.00", FEB_15).transaction
    repayment_reverse(transaction_id=payment.pk, reason="bounced", acting_user=SYSTEM)
    assert_refused_and_unchanged(
        LendingErrorCode.ALREADY_REVERSED,
        "transaction",
        loan,
        repayment_reverse,
        transaction_id=payment.pk,
        reason="bounced again",
        acting_user=SYSTEM,
    )


@pytest.mark.parametrize(
    "kind",
    [
        TransactionKind.DISBURSEMENT,
        TransactionKind.CREDIT_APPLIED,
        TransactionKind.REVERSAL,
        TransactionKind.REFUND,
    ],
)
def test_only_repayments_can_be_reversed(kind):
    loan = active_loan()
    pay(loan, "1000.00", FEB_15)  # leaves 83.20 credit
    loan_credit_apply(loan_id=loan.pk, as_of=MAR_15, acting_user=SYSTEM)  # spends it
    pay(loan, "900.00", MAR_15)  # leaves 66.40 credit
    loan_credit_refund(loan_id=loan.pk, acting_user=SYSTEM)
    bounced = pay(loan, "10.00", MAR_15).transaction
    repayment_reverse(transaction_id=bounced.pk, reason="bounced", acting_user=SYSTEM)
    target = loan.transactions.get(kind=kind)
    assert_refused_and_unchanged(
        LendingErrorCode.NOT_REVERSIBLE,
        "transaction",
        loan,
        repayment_reverse,
        transaction_id=target.pk,
        reason="x",
        acting_user=SYSTEM,
    )


@pytest.mark.parametrize("spent_by", ["refund", "apply"])
def test_reversal_refused_once_the_credit_it_left_is_gone(spent_by):
    """No night ever ran, so the payment is undone exactly, which needs the credit it left
    still on the loan. Refunded, or applied to the next installment, it is not: the refusal
    names both ways credit leaves a loan (it once said "refunded" when it had been applied),
    with both figures, in the reader's language."""
    loan = active_loan()
    payment = pay(loan, "1000.00", FEB_15).transaction  # leaves 83.20 credit
    if spent_by == "refund":
        loan_credit_refund(loan_id=loan.pk, acting_user=SYSTEM)
    else:
        loan_credit_apply(loan_id=loan.pk, as_of=MAR_15, acting_user=SYSTEM)
    error = assert_refused_and_unchanged(
        LendingErrorCode.NOT_REVERSIBLE,
        "transaction",
        loan,
        repayment_reverse,
        transaction_id=payment.pk,
        reason="bounced",
        acting_user=SYSTEM,
    )
    assert "(¥83.20) has since been applied to installments or refunded" in error.message
    assert "the loan holds ¥0.00 of credit now" in error.message
    with translation.override("zh-hans"), pytest.raises(LendingError) as chinese:
        repayment_reverse(transaction_id=payment.pk, reason="bounced", acting_user=SYSTEM)
    assert "（¥83.20）已被用于抵扣期供或已退还" in chinese.value.message


def test_reversal_needs_a_reason_and_an_existing_transaction():
    loan = active_loan()
    payment = pay(loan, "500.00", FEB_15).transaction
    assert_refused_and_unchanged(
        LendingErrorCode.REQUIRED,
        "reason",
        loan,
        repayment_reverse,
        transaction_id=payment.pk,
        reason=" ",
        acting_user=SYSTEM,
    )
    assert_refused_and_unchanged(
        LendingErrorCode.NOT_FOUND,
        "transaction",
        loan,
        repayment_reverse,
        transaction_id=payment.pk + 10_000,
        reason="x",
        acting_user=SYSTEM,
    )


def test_reversal_on_a_written_off_loan_is_refused():
    loan = active_loan()
    payment = pay(loan, "500.00", FEB_15).transaction
    loan_write_off(loan_id=loan.pk, reason="fraud", value_date=MAR_1, acting_user=SYSTEM)
    assert_refused_and_unchanged(
        LendingErrorCode.NOT_REVERSIBLE,
        "transaction",
        loan,
        repayment_reverse,
        transaction_id=payment.pk,
        reason="x",
        acting_user=SYSTEM,
    )


# --- refused payments ---------------------------------------------------------------------------


def test_payment_on_a_closed_loan_is_refused_and_nothing_written():
    loan = active_loan()
    pay(loan, "10214.63", MAR_1)
    assert_refused_and_unchanged(
        LendingErrorCode.LOAN_NOT_ACTIVE,
        "loan",
        loan,
        repayment_post,
        loan_id=loan.pk,
        amount="100.00",
        value_date=MAR_15,
        acting_user=SYSTEM,
    )


def test_retry_of_a_payment_that_closed_the_loan_is_still_a_duplicate():
    loan = active_loan()
    pay(loan, "10214.63", MAR_1, idempotency_key="payoff-1")
    counts = footprint()
    again = pay(loan, "10214.63", MAR_1, idempotency_key="payoff-1")
    assert again.duplicate is True
    assert again.closed is True
    assert footprint() == counts


def test_payment_on_a_written_off_loan_is_refused():
    loan = active_loan()
    loan_write_off(loan_id=loan.pk, reason="fraud", value_date=MAR_1, acting_user=SYSTEM)
    assert_refused_and_unchanged(
        LendingErrorCode.LOAN_NOT_ACTIVE,
        "loan",
        loan,
        repayment_post,
        loan_id=loan.pk,
        amount="100.00",
        value_date=MAR_15,
        acting_user=SYSTEM,
    )


def test_payment_dated_in_the_future_is_refused():
    loan = active_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.INVALID,
        "value_date",
        loan,
        repayment_post,
        loan_id=loan.pk,
        amount="100.00",
        value_date=timezone.localdate() + timedelta(days=1),
        acting_user=SYSTEM,
    )


def test_payment_dated_before_disbursement_is_refused():
    loan = active_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.INVALID,
        "value_date",
        loan,
        repayment_post,
        loan_id=loan.pk,
        amount="100.00",
        value_date=date(2026, 1, 14),
        acting_user=SYSTEM,
    )


@pytest.mark.parametrize("amount", ["0", "0.00", "-10.00", "10.001", "ten", "NaN"])
def test_payment_of_a_bad_amount_is_refused(amount):
    loan = active_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.INVALID,
        "amount",
        loan,
        repayment_post,
        loan_id=loan.pk,
        amount=amount,
        value_date=FEB_15,
        acting_user=SYSTEM,
    )


def test_payment_to_an_unknown_loan_is_refused():
    refused(
        LendingErrorCode.NOT_FOUND,
        "loan",
        repayment_post,
        loan_id=987654,
        amount="1.00",
        value_date=FEB_15,
        acting_user=SYSTEM,
    )
