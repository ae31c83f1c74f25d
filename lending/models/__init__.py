from lending.models.audit import AuditEvent
from lending.models.borrowers import Borrower, EmergencyContact
from lending.models.close_of_business import (
    BucketChange,
    BusinessDayChunk,
    BusinessDayRun,
    BusinessDayStep,
    ChunkStatus,
    DelinquencyBucket,
    LprRate,
    RunStatus,
)
from lending.models.loans import Installment, Loan, LoanStatus
from lending.models.products import LoanProduct
from lending.models.transactions import Transaction, TransactionKind, TransactionLine

__all__ = [
    "AuditEvent",
    "Borrower",
    "BucketChange",
    "BusinessDayChunk",
    "BusinessDayRun",
    "BusinessDayStep",
    "ChunkStatus",
    "DelinquencyBucket",
    "EmergencyContact",
    "Installment",
    "Loan",
    "LoanProduct",
    "LoanStatus",
    "LprRate",
    "RunStatus",
    "Transaction",
    "TransactionKind",
    "TransactionLine",
]
