"""A transaction's note as people read it (the loan's page).

The notes the system writes on its own postings — the nightly penalty accrual, the fee kept back
at disbursement, interest cancelled at payoff or write-off, a history re-lived by a back-valued
posting — are stored in English for exports, the API and logs. Shown to a person they are said
again in the reader's language from the transaction's kind and its own figures, never by reading
the stored sentence. A person's note (a repayment's, a reason) and a kind listed nowhere here are
shown as stored (docs/i18n.md, "Transaction notes")."""

from django.utils.translation import gettext

from lending import formatting
from lending.models import Transaction, TransactionKind


def _accrual(txn: Transaction) -> str:
    return gettext("nightly penalty accrual")


def _disbursement(txn: Transaction) -> str:
    # The cash paid out is the principal less the fee kept back (loan_disburse).
    fee = txn.loan.principal - txn.amount
    if fee <= 0:
        return txn.note
    return gettext("origination fee %(fee)s deducted") % {"fee": formatting.money(fee)}


def _interest_cancelled(txn: Transaction) -> str:
    return gettext("interest after %(date)s is not earned") % {
        "date": formatting.local_date(txn.value_date)
    }


def _relived(txn: Transaction) -> str:
    # Posted with the back-valued payment or reversal whose value date the history re-lived from.
    if txn.caused_by is None:
        return txn.note
    return gettext("re-lived from %(date)s") % {
        "date": formatting.local_date(txn.caused_by.value_date)
    }


SYSTEM_NOTES = {
    TransactionKind.PENALTY_ACCRUAL: _accrual,
    TransactionKind.DISBURSEMENT: _disbursement,
    TransactionKind.INTEREST_ADJUSTMENT: _interest_cancelled,
    TransactionKind.REACCRUAL: _relived,
    TransactionKind.REALLOCATION: _relived,
}


def note_text(txn: Transaction) -> str:
    words = SYSTEM_NOTES.get(txn.kind)
    return words(txn) if words else txn.note
