from lending.models.audit import AuditEvent
from lending.models.borrowers import Borrower, EmergencyContact
from lending.models.loans import Installment, Loan, LoanStatus
from lending.models.products import LoanProduct
from lending.models.transactions import Transaction, TransactionKind, TransactionLine

__all__ = [
    "AuditEvent",
    "Borrower",
    "EmergencyContact",
    "Installment",
    "Loan",
    "LoanProduct",
    "LoanStatus",
    "Transaction",
    "TransactionKind",
    "TransactionLine",
]
