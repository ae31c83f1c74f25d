"""Issue 9's penalty examples, computed by hand, end to end through the services and the nightly
close (on SQLite the portable row path, on PostgreSQL the set-based SQL): each must post to the
cent. Plus the contract's terms frozen at booking."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from lending.access import SYSTEM
from lending.close_of_business.runner import close_business_days
from lending.models import Loan, TransactionKind
from lending.services.products import product_save
from lending.services.repayments import repayment_post
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

D = Decimal


def night(day: date) -> None:
    runs = close_business_days(until=day, acting_user=SYSTEM)
    assert runs and all(r.status == "done" for r in runs), [r.error for r in runs]


def penalty_posted(loan) -> Decimal:
    return sum(
        (t.penalty for t in loan.transactions.filter(kind=TransactionKind.PENALTY_ACCRUAL)),
        D("0"),
    )


def grace_from_due_date_loan():
    """Product: grace 3 days, penalty from the due date, 1.5 × contract rate (27 %), base overdue
    principal, ACT/360. Loan: 10,000 single payment at 18 %, out 2024-10-15, due 2024-11-15."""
    return active_loan(
        principal="10000.00",
        rate="0.18",
        term=1,
        start=date(2024, 10, 15),
        repayment_method="single_payment",
        grace_days=3,
        penalty_start="due_date",
        penalty_rate_type="contract_multiple",
        penalty_rate_value=D("1.5"),
        penalty_base="overdue_principal",
        day_count="act360",
        arrears_tolerance=D("0.00"),
        cost_cap_value=D("0.36"),
        apr_ceiling=D("0.36"),
    )


def test_grace_days_are_charged_each_on_that_days_base():
    """2,000.00 valued 2024-11-17 pays the interest and 1,850.00 of principal (8,150 left).
    The night of 11-19 exceeds grace and charges from the due date: 11-16 on 10,000, then 11-17
    to 11-19 on 8,150: 7.50 + 3 × 8,150 × 0.27 / 360 = 25.8375 → 25.84 (not 4 days on 8,150 =
    24.45)."""
    loan = grace_from_due_date_loan()
    interest = loan.installments.get().interest_due
    assert interest == D("150.00")  # 10,000 × 18 % / 12, the figure
    night(date(2024, 11, 15))
    night(date(2024, 11, 16))
    repayment_post(
        loan_id=loan.pk, amount="2000.00", value_date=date(2024, 11, 17), acting_user=SYSTEM
    )
    loan.refresh_from_db()
    assert loan.principal_outstanding == D("10000.00") - (D("2000.00") - interest)
    for day in (17, 18):
        night(date(2024, 11, day))
    assert penalty_posted(loan) == 0  # inside grace
    night(date(2024, 11, 19))
    assert penalty_posted(loan) == D("25.84")


def test_a_half_cent_tie_rounds_up_on_the_night_it_happens():
    """1,000.00 overdue at an absolute 10.02 %, ACT/360: one day is 0.27833…, three days exactly
    0.835 → 0.84 on the third night (the old exact figure, 0.834999999999, posted 0.83)."""
    loan = active_loan(
        principal="1000.00",
        rate="0.05",
        term=1,
        start=date(2024, 10, 15),
        repayment_method="single_payment",
        grace_days=0,
        penalty_rate_type="absolute",
        penalty_rate_value=D("0.1002"),
        penalty_base="overdue_principal",
        day_count="act360",
        arrears_tolerance=D("0.00"),
    )
    due = loan.installments.get().due_date
    totals = []
    for offset in range(1, 4):
        night(due + timedelta(days=offset))
        totals.append(penalty_posted(loan))
    assert totals == [D("0.28"), D("0.56"), D("0.84")]
    loan.refresh_from_db()
    assert loan.penalty_outstanding == D("0.84")
    installment = loan.installments.get()
    assert installment.penalty_accrued == D("1000.00") * D("0.1002") * 3  # 300.6, exact


def test_a_product_edit_after_booking_reprices_no_booked_loan():
    loan = grace_from_due_date_loan()
    product = loan.product
    product.penalty_rate_type = "absolute"
    product.penalty_rate_value = D("0.36")
    product.grace_days = 0
    product.penalty_base = "overdue_principal_interest"
    product_save(product=product, acting_user=SYSTEM)
    loan = Loan.objects.get(pk=loan.pk)
    assert (loan.grace_days, loan.penalty_rate_type, loan.penalty_rate_value) == (
        3,
        "contract_multiple",
        D("1.500000"),
    )
    assert loan.penalty_terms().annual_rate == D("0.27")
    night(date(2024, 11, 15))
    night(date(2024, 11, 16))
    assert penalty_posted(loan) == 0  # still inside the booked grace of 3 days
    night(date(2024, 11, 17))
    night(date(2024, 11, 18))
    night(date(2024, 11, 19))
    principal = loan.installments.get().principal_due
    assert penalty_posted(loan) == (principal * D("0.27") * 4 / 360).quantize(D("0.01"))


def test_the_loan_page_shows_the_frozen_terms(admin_client):
    loan = grace_from_due_date_loan()
    page = admin_client.get(f"/admin/lending/loan/{loan.pk}/change/").content.decode()
    assert "Contract terms for arrears (fixed at booking)" in page
    # The booked terms, not the product's after an edit: grace 3 and the 1.5 × multiple.
    loan.product.grace_days = 9
    product_save(product=loan.product, acting_user=SYSTEM)
    page = admin_client.get(f"/admin/lending/loan/{loan.pk}/change/").content.decode()
    assert re.search(r"Grace days:</label>\s*<div class=\"readonly\">3</div>", page)
    assert "1.5 × the contract rate" in page  # the booked multiple, in words
