"""Postings valued before nights already closed: the result never depends on posting order.

Bank statements arrive days late with earlier value dates, and a bounced payment is reversed a
week after it was valued. Whatever the order in which money reaches the system, the loan ends
where posting every payment on its value date, before the nights ran, would have left it —
penalty to the cent, what each payment paid, dpd and bucket (issue 9, DESIGN §6).
"""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lending.access import SYSTEM
from lending.allocation import Parts
from lending.models import BucketChange, Installment, Loan, Transaction, TransactionKind
from lending.services.reconcile import reconcile_loans
from lending.services.repayments import loan_credit_refund, repayment_post, repayment_reverse
from tests.lending.loan_helpers import active_loan, lines_of
from tests.lending.test_close_of_business import (
    DUE,
    SEP_15,
    accruals,
    close,
    close_each,
    first_installment,
    oct_,
    rolled_back,
)

pytestmark = pytest.mark.django_db


def pay(loan, amount, value_date):
    return repayment_post(
        loan_id=loan.pk, amount=amount, value_date=value_date, acting_user=SYSTEM
    ).transaction


def state(loan) -> dict:
    """Everything a borrower's statement and the collections team would see."""
    loan = Loan.objects.get(pk=loan.pk)
    return {
        "loan": (
            loan.status,
            loan.dpd,
            loan.bucket,
            loan.principal_outstanding,
            loan.interest_outstanding,
            loan.penalty_outstanding,
            loan.credit_balance,
            loan.next_due_date,
        ),
        "installments": [
            (
                i.seq,
                i.principal_settled,
                i.interest_settled,
                i.penalty_due,
                i.penalty_settled,
                i.penalty_accrued,
                i.penalty_accrued_through,
                i.settled_on,
            )
            for i in Installment.objects.filter(loan=loan).order_by("seq")
        ],
    }


def bucket_on(loan, day: date) -> str:
    """The bucket the history says the loan was in after the night of `day`."""
    move = (
        BucketChange.objects.filter(loan=loan, business_date__lte=day)
        .order_by("-business_date", "-id")
        .first()
    )
    return move.to_bucket if move else "M0"


def assert_reconciles():
    assert reconcile_loans(repair=False, acting_user=SYSTEM).differences == []


# 1. Worked examples, to the cent ------------------------------------------------------------
# The loan: 10,000.00 at 18 % over 12 months from 15 September; the first installment, due
# 15 October, is 766.80 principal + 150.00 interest. Penalty 1.5 × 18 % = 27 % on overdue
# principal, ACT/360, from the day after the due date: 766.80 × 0.27 = 207.036 a day.


def test_a_statement_arriving_late_re_accrues_the_penalty_from_its_value_date():
    loan = active_loan(start=SEP_15)
    close_each(DUE, oct_(25))
    assert first_installment(loan).penalty_due == D("5.75")  # 10 × 207.036 / 360 = 5.751

    # 500.00 valued the 18th, known on the 26th. On the 18th it pays the penalty of the 16th
    # and 17th (414.072 → 1.15) first, then interest 150.00 and principal 348.85: 417.95 left.
    # The 18th to the 25th are charged on 417.95: 8 × 112.8465 = 902.772; in all
    # 1,316.844 / 360 = 3.6579 → 3.66, so 2.09 of the 5.75 posted is taken back.
    result = repayment_post(
        loan_id=loan.pk, amount="500.00", value_date=oct_(18), acting_user=SYSTEM
    )
    payment = result.transaction

    assert lines_of(payment) == {1: Parts(D("348.85"), D("150.00"), D("0"), D("1.15"))}
    assert result.penalty_change == D("-2.09")
    (reaccrual,) = Transaction.objects.filter(loan=loan, kind=TransactionKind.REACCRUAL)
    assert (reaccrual.value_date, reaccrual.penalty, reaccrual.caused_by) == (
        oct_(18),
        D("-2.09"),
        payment,
    )
    installment = first_installment(loan)
    assert installment.penalty_due == D("3.66")
    assert installment.penalty_accrued == D("1316.8440")
    assert installment.principal_due - installment.principal_settled == D("417.95")
    loan.refresh_from_db()
    assert loan.penalty_outstanding == D("2.51")
    # The next night goes on from there: 26th on 417.95 → 1,429.6905 / 360 = 3.97, 0.31 more.
    close(oct_(26))
    assert accruals(loan)[-1] == (oct_(26), D("0.31"))
    assert_reconciles()


def test_a_payment_valued_on_the_due_date_cures_the_nights_that_thought_it_late():
    loan, paid_on_time = active_loan(start=SEP_15), active_loan(start=SEP_15)
    pay(paid_on_time, "916.80", DUE)
    close_each(DUE, oct_(19))
    assert (first_installment(loan).penalty_due, bucket_on(loan, oct_(16))) == (D("2.30"), "M1")

    pay(loan, "916.80", DUE)

    assert state(loan)["installments"] == state(paid_on_time)["installments"]
    assert first_installment(loan).settled_on == DUE
    loan.refresh_from_db()
    assert (loan.dpd, loan.bucket, loan.penalty_outstanding) == (0, "M0", D("0"))
    # The history keeps the move into M1 and says, from the same night on, it was wrong: a
    # correcting move dated the 16th, appended — nothing rewritten.
    moves = list(
        BucketChange.objects.filter(loan=loan)
        .order_by("id")
        .values_list("business_date", "from_bucket", "to_bucket")
    )
    assert moves == [(oct_(16), "M0", "M1"), (oct_(16), "M1", "M0")]
    assert [bucket_on(loan, oct_(d)) for d in (15, 16, 19)] == ["M0", "M0", "M0"]
    assert_reconciles()


def test_a_later_valued_payment_posted_first_is_re_allocated_when_the_earlier_one_arrives():
    loan, in_order = active_loan(start=SEP_15), active_loan(start=SEP_15)
    close_each(DUE, oct_(16))
    pay(in_order, "300.00", oct_(17))
    close_each(oct_(17), oct_(20))
    pay(in_order, "400.00", oct_(21))
    close(oct_(21))
    later = pay(loan, "400.00", oct_(21))  # the later payment reaches us first
    close(oct_(22))
    earlier = pay(loan, "300.00", oct_(17))

    assert state(loan) == state(in_order)
    # With 300.00 in on the 17th, the 21 October payment meets less penalty and principal:
    # what it pays differently is corrected by a row dated like the settlement it corrects.
    moved = Transaction.objects.get(
        loan=loan, kind=TransactionKind.REALLOCATION, value_date=oct_(21)
    )
    assert moved.caused_by == earlier
    paid_on_21 = Transaction.objects.get(
        loan=in_order, kind=TransactionKind.REPAYMENT, value_date=oct_(21)
    )
    assert Parts.sum([*lines_of(later).values(), *lines_of(moved).values()]) == Parts.sum(
        lines_of(paid_on_21).values()
    )
    assert_reconciles()


def test_a_reversal_valued_in_the_past_re_accrues_as_if_the_payment_never_came():
    bounced, never_paid = active_loan(start=SEP_15), active_loan(start=SEP_15)
    close_each(DUE, oct_(16))
    payment = pay(bounced, "500.00", oct_(17))
    close_each(oct_(17), oct_(24))
    repayment_reverse(transaction_id=payment.pk, reason="bounced", acting_user=SYSTEM)

    assert state(bounced) == state(never_paid)
    (reaccrual,) = Transaction.objects.filter(loan=bounced, kind=TransactionKind.REACCRUAL)
    assert reaccrual.penalty > 0  # the days since the 17th on the whole principal again
    assert_reconciles()


def test_a_settling_payment_while_nights_are_behind_pays_their_penalty_first():
    # Nights stopped after the 16th (a failure) when the borrower paid 920.00 on the 19th. The
    # 17th and 18th owe penalty on the full 766.80 (16th 0.58; 621.108 / 360 → 1.73 in all):
    # charged with the payment and paid first, as on a twin whose nights had run — the late
    # nights find those days accrued, and nothing is lost because the installment is settled.
    loan, twin = active_loan(start=SEP_15), active_loan(start=SEP_15)
    close_each(DUE, oct_(16))
    pay(loan, "920.00", oct_(19))
    close_each(oct_(17), oct_(18))
    pay(twin, "920.00", oct_(19))
    close_each(oct_(19), oct_(20))

    assert state(loan) == state(twin)
    installment = first_installment(loan)
    assert (installment.penalty_due, installment.penalty_settled) == (D("1.73"), D("1.73"))
    assert installment.settled_on == oct_(19)
    loan.refresh_from_db()
    assert (loan.dpd, loan.bucket, loan.credit_balance) == (0, "M0", D("1.47"))
    assert_reconciles()


# 2. The property: any posting order ends where value-date order would have -----------------

payment_specs = st.lists(
    st.fixed_dictionaries(
        {
            "value_day": st.integers(0, 30),  # days after 14 October
            "amount": st.decimals(D("50.00"), D("900.00"), places=2),
            "lag": st.integers(0, 9),  # days after its value date the money reaches us
            "reversed_after": st.none() | st.integers(0, 6),  # bounced: days after posting
        }
    ),
    min_size=1,
    max_size=4,
)
terms = st.fixed_dictionaries(
    {
        "grace_days": st.integers(0, 3),
        "arrears_tolerance": st.sampled_from([D("0"), D("5.00")]),
        "penalty_base": st.sampled_from(["overdue_principal", "overdue_principal_interest"]),
        "penalty_start": st.sampled_from(["due_date", "grace_end"]),
    }
)


@settings(
    max_examples=8,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payments=payment_specs, product=terms)
def test_any_posting_order_ends_where_value_date_order_would(payments, product):
    rolled_back(lambda: posting_order_changes_nothing(payments, product))


def posting_order_changes_nothing(payments, product):
    first, last = oct_(14), date(2026, 11, 22)
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    for spec in payments:
        spec["value_date"] = first + timedelta(spec["value_day"])
        spec["posted"] = min(spec["value_date"] + timedelta(spec["lag"]), last)
        if spec["reversed_after"] is not None:
            spec["reversed"] = min(spec["posted"] + timedelta(spec["reversed_after"]), last)
    reference, late = active_loan(start=SEP_15, **product), active_loan(start=SEP_15, **product)
    posted = {}
    for day in days:
        # The reference hears of each payment on its value date, and never of a bounced one.
        for spec in payments:
            if spec["value_date"] == day and "reversed" not in spec:
                pay(reference, spec["amount"], day)
        # The other loan hears of them late, in posting order, and of the bounces later.
        for n, spec in enumerate(payments):
            if spec["posted"] == day:
                posted[n] = pay(late, spec["amount"], spec["value_date"])
        for n, spec in enumerate(payments):
            if spec.get("reversed") == day:
                repayment_reverse(transaction_id=posted[n].pk, reason="bounced", acting_user=SYSTEM)
        close(day)
    assert state(late) == state(reference)
    assert [bucket_on(late, day) for day in days] == [bucket_on(reference, day) for day in days]
    assert_reconciles()


def test_the_admin_says_a_late_payment_re_lived_the_loan(admin_client):
    loan = active_loan(start=SEP_15)
    close_each(DUE, oct_(25))
    page = admin_client.post(
        reverse("admin:lending_loan_repay", args=[loan.pk]),
        {"amount": "500.00", "value_date": "2026-10-18"},
        follow=True,
    )
    shown = [str(m) for m in page.context["messages"]]
    assert any("re-lived" in m and "-2.09" in m for m in shown), shown


def test_a_payment_posted_before_the_first_night_ever_can_still_be_reversed():
    # Day one of the platform: 500.00 valued the 18th is posted before any night has closed, so
    # it paid no penalty; the first night (the 16th) then catches up. Re-living it would put
    # that night before the payment — a history the ledger never had — so the reversal undoes
    # the payment exactly instead, and every balance it moved comes back.
    loan = active_loan(start=SEP_15)
    payment = pay(loan, "500.00", oct_(18))
    assert lines_of(payment)[1].penalty == 0
    close_each(oct_(16), oct_(20))
    before = first_installment(loan)

    reversal = repayment_reverse(transaction_id=payment.pk, reason="bounced", acting_user=SYSTEM)

    assert lines_of(reversal) == {seq: -parts for seq, parts in lines_of(payment).items()}
    after = first_installment(loan)
    assert after.principal_settled == before.principal_settled - lines_of(payment)[1].principal
    assert after.interest_settled == 0
    assert not Transaction.objects.filter(loan=loan, kind=TransactionKind.REACCRUAL).exists()
    assert_reconciles()


def test_a_late_statement_after_a_refund_pays_with_its_own_money_not_the_refunded_credit():
    # 50.00 paid ahead on the disbursement day sat as credit and was refunded to the borrower
    # today. A bank statement then brings 100.00 valued 20 October: it is a real receipt and is
    # posted; the 50.00 that left with the refund is not spent again on the first installment.
    loan = active_loan(start=SEP_15)
    pay(loan, "50.00", SEP_15)
    loan_credit_refund(loan_id=loan.pk, acting_user=SYSTEM)
    late = pay(loan, "100.00", oct_(20))

    assert sum((p.total for p in lines_of(late).values()), D(0)) == D("100.00")
    loan.refresh_from_db()
    assert loan.credit_balance == 0
    assert first_installment(loan).principal_settled + first_installment(
        loan
    ).interest_settled == D("100.00")
    assert_reconciles()
