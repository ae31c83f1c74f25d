"""Loans for the API tests, made the way the back office makes them (the services)."""

from decimal import Decimal

from lending.access import SYSTEM
from lending.models import AuditEvent, Loan, Transaction
from lending.models.loans import LoanOrigin
from lending.services.loans import loan_book_approved
from tests.factories import BorrowerFactory, ProductFactory


def approved_loan(**product_fields) -> Loan:
    """Approved and waiting to be paid out (migrated: these tests are not about underwriting)."""
    return loan_book_approved(
        borrower=BorrowerFactory(),
        product=ProductFactory(**product_fields),
        principal=Decimal("10000.00"),
        annual_rate=Decimal("0.18"),
        term_months=12,
        origin=LoanOrigin.MIGRATED,
        acting_user=SYSTEM,
    )


def book_state(loan: Loan) -> tuple:
    """What an operation could change: the loan's status and balances, its transactions, the
    audit log. Equal before and after means nothing was written."""
    loan.refresh_from_db()
    return (
        loan.status,
        loan.total_outstanding,
        loan.credit_balance,
        Transaction.objects.filter(loan=loan).count(),
        AuditEvent.objects.count(),
    )
