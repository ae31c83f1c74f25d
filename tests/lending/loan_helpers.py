"""Build loans the way the back office does: through the services."""

from datetime import date
from decimal import Decimal

from lending.access import SYSTEM
from lending.allocation import Parts
from lending.models.loans import LoanOrigin
from lending.services.loans import loan_book_approved, loan_disburse
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
    # Migrated: these loans test the ledger, not underwriting (tests/risk build through it).
    loan = loan_book_approved(
        borrower=borrower,
        product=product,
        principal=Decimal(principal),
        annual_rate=Decimal(rate),
        term_months=term,
        origin=LoanOrigin.MIGRATED,
        acting_user=SYSTEM,
    )
    loan = loan_disburse(
        loan_id=loan.pk, disbursement_date=start, first_due_date=first_due_date, acting_user=SYSTEM
    )
    loan.refresh_from_db()
    return loan


def lines_of(txn):
    """{installment seq: Parts} of a transaction, as the borrower's statement would show it."""
    return {
        line.installment.seq: Parts(line.principal, line.interest, line.fee, line.penalty)
        for line in txn.lines.select_related("installment")
    }
