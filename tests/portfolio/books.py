"""A small book for the dashboard's tests: three loans whose figures are easy to follow."""

from datetime import date

from lending.access import SYSTEM
from lending.services.repayments import repayment_post
from tests.lending.loan_helpers import active_loan

START = date(2026, 8, 15)  # first installments due 15 September
LATE_NIGHT = date(2026, 9, 16)  # A's first installment is 1 day late; C is disbursed


def small_book() -> dict:
    """A (10,000) never pays; B (6,000) pays its first installment on its due date; C (3,000)
    is disbursed on LATE_NIGHT."""
    a = active_loan(principal="10000.00", start=START)
    b = active_loan(principal="6000.00", start=START)
    first = b.installments.get(seq=1)
    repayment_post(
        loan_id=b.pk, amount=first.total_due, value_date=first.due_date, acting_user=SYSTEM
    )
    c = active_loan(principal="3000.00", start=LATE_NIGHT)
    return {"a": a, "b": b, "c": c}
