"""Build loans the way the back office does: through the services."""

from datetime import date
from decimal import Decimal

from lending.services.loans import loan_approve, loan_create, loan_disburse
from tests.factories import BorrowerFactory, ProductFactory


def active_loan(
    *,
    principal="10000.00",
    rate="0.18",
    term=12,
    start=date(2026, 1, 15),
    product=None,
    borrower=None,
    first_due_date=None,
    **product_fields,
):
    product = product or ProductFactory(**product_fields)
    borrower = borrower or BorrowerFactory()
    loan = loan_create(
        borrower=borrower,
        product=product,
        principal=Decimal(principal),
        annual_rate=Decimal(rate),
        term_months=term,
        acting_user=None,
    )
    loan_approve(loan_id=loan.pk, acting_user=None)
    loan = loan_disburse(
        loan_id=loan.pk, disbursement_date=start, first_due_date=first_due_date, acting_user=None
    )
    loan.refresh_from_db()
    return loan
