"""A batch of repayments reads each loan's installments from its first unsettled one on, with
the latest night accrued on any of them. What a user would see if that broke: a payment
allocated, quoted or dated against the wrong installments, or a payment that should re-live
the loan's history (a night ran on it and stopped partway) posted straight onto it."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.db.models import Max

from lending.access import SYSTEM
from lending.close_of_business.bulk import fetch_instances
from lending.models import Installment, Loan
from lending.services.repayments import repayment_post
from lending.services.repayments_many import Payment, installments_from_first_unsettled
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import rolled_back
from tests.lending.test_repayments_many import (
    LAST_NIGHT,
    answer,
    book,
    books,
    in_a_batch,
    one_by_one,
)

pytestmark = pytest.mark.django_db


def pay(loan_id: int, amount: str, value_date: date) -> None:
    repayment_post(loan_id=loan_id, amount=amount, value_date=value_date, acting_user=SYSTEM)


def read(loan_ids: list[int]) -> dict[int, tuple[list[int], object]]:
    """Per loan: the seqs the batch reads (fetch_instances, as it reads them), and the latest
    night each row says the loan went through."""
    found: dict[int, tuple[list[int], set]] = {}
    for row in fetch_instances(installments_from_first_unsettled(loan_ids)):
        seqs, nights = found.setdefault(row.loan_id, ([], set()))
        seqs.append(row.seq)
        nights.add(row.loan_accrued_through)
    assert all(len(nights) == 1 for _seqs, nights in found.values())  # one value per loan
    return {loan_id: (seqs, nights.pop()) for loan_id, (seqs, nights) in found.items()}


def expected(loan: Loan) -> tuple[list[int], object]:
    installments = list(loan.installments.order_by("seq"))
    first = next((i.seq for i in installments if i.settled_on is None), 0)
    latest = loan.installments.aggregate(latest=Max("penalty_accrued_through"))["latest"]
    return [i.seq for i in installments if i.seq >= first], latest


def test_each_loan_is_read_from_its_first_unsettled_installment_with_its_latest_night():
    fresh = active_loan(term=3)
    partly = active_loan(term=4)
    pay(partly.pk, "2700.00", date(2026, 3, 20))  # more than the first two installments' worth
    paid_up = active_loan(term=2, principal="800.00")
    pay(paid_up.pk, "1000.00", date(2026, 1, 20))  # a payoff: every installment settled
    gap = active_loan(term=3)
    # A settled installment after an unsettled one (a charge reopened the first): read too.
    Installment.objects.filter(loan=gap, seq=2).update(
        principal_settled=Installment.objects.get(loan=gap, seq=2).principal_due,
        interest_settled=Installment.objects.get(loan=gap, seq=2).interest_due,
        settled_on=date(2026, 2, 1),
    )
    # The only trace of a night that stopped partway, on a settled installment.
    Installment.objects.filter(loan=partly, seq=1).update(penalty_accrued_through=date(2026, 3, 30))
    loans = [fresh, partly, paid_up, gap]
    got = read([loan.pk for loan in loans])
    for loan in loans:
        assert got[loan.pk] == expected(loan), loan
    assert got[partly.pk][0][0] > 1  # the settled ones were left out
    assert got[partly.pk][1] == date(2026, 3, 30)
    assert got[paid_up.pk][0] == [1, 2]  # none unsettled: all of them
    assert got[gap.pk][0] == [1, 2, 3]


def test_the_penalty_accrued_left_to_the_nights_reads_right_if_touched():
    loan = active_loan(term=2)
    Installment.objects.filter(loan=loan, seq=1).update(penalty_accrued=D("1234.5"))
    first = fetch_instances(installments_from_first_unsettled([loan.pk]))[0]
    assert "penalty_accrued" in first.get_deferred_fields()
    assert first.penalty_accrued == D("1234.5")


def test_a_payment_before_a_night_traced_only_on_a_settled_installment_is_relived(monkeypatch):
    """A night ran on the loan and stopped before closing: its only trace is on an installment
    a later payment settled. A payment valued on that night's day goes to repayment_post,
    which re-lives the loan's history with it, not straight onto the loan; and books as
    payment by payment."""
    loan_ids = book()
    loan_id = loan_ids[0]
    first = Installment.objects.get(loan_id=loan_id, seq=1)
    pay(loan_id, str(first.outstanding), LAST_NIGHT + timedelta(days=1))  # exactly: no credit
    first.refresh_from_db()
    assert first.settled_on is not None
    assert Loan.objects.get(pk=loan_id).credit_balance == 0
    night = LAST_NIGHT + timedelta(days=3)
    Installment.objects.filter(pk=first.pk).update(penalty_accrued_through=night)
    payments = [Payment(loan_id=loan_id, amount=D("100.00"), value_date=night)]
    posted_alone = []
    real = Payment.post_alone

    def spied(payment, acting_user):
        posted_alone.append(payment)
        return real(payment, acting_user)

    monkeypatch.setattr(Payment, "post_alone", spied)

    def run(post):
        return [answer(a) for a in post(payments)], books(loan_ids)

    batch = rolled_back(lambda: run(in_a_batch))
    assert posted_alone == payments  # re-lived there, as the trace says it must be
    assert batch == rolled_back(lambda: run(one_by_one))
