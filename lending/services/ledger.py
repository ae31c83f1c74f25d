"""Posting transactions and keeping the balance caches in step with them.

The only code that writes Transaction, TransactionLine and the cached balance fields; services
decide what to post, this module posts it.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter

from django.db import IntegrityError
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from lending import formatting
from lending.access import stored_user
from lending.allocation import (
    COMPONENTS,
    InstallmentState,
    Parts,
    PayoffQuote,
    allocate,
    due_installments,
    parse_allocation_order,
    payoff_quote,
)
from lending.close_of_business.bulk import fetch_instances, new_instance
from lending.errors import LendingError, LendingErrorCode
from lending.models import (
    Installment,
    Loan,
    LoanProduct,
    Transaction,
    TransactionKind,
    TransactionLine,
)
from lending.models.transactions import EFFECT_OF_KIND, Effect
from lending.money import ZERO
from lending.schedules import DayCount
from lending.validation import clean_text


def lock_loan(loan_id: int | None = None, *, reference: str | None = None) -> Loan:
    """The loan row, locked for this transaction: every money change to a loan starts here.
    By id, or by its reference (an API call names the loan so: one statement, not two)."""
    # of=("self",): lock the loan row only, not its product, so loans that share a product
    # never wait for one another. No borrower: most postings never read it, and its
    # encrypted fields cost a decryption each; a service that needs it reads it.
    loans = Loan.objects.select_for_update(of=("self",)).select_related("product")
    try:
        return loans.get(pk=loan_id) if reference is None else loans.get(reference=reference)
    except Loan.DoesNotExist:
        raise no_such_loan(loan_id, reference=reference) from None


def lock_loans(loan_ids) -> dict[int, Loan]:
    """lock_loan for many loans, locked in id order (two batches never wait on each other in
    a circle); a missing id is simply not in the answer. Each product is read once and shared
    by its loans (a batch's thousands of loans have a handful); no borrower: a repayment never
    reads it, and its encrypted fields cost a decryption each."""
    loans = fetch_instances(
        Loan.objects.select_for_update().filter(pk__in_array=sorted(set(loan_ids))).order_by("pk")
    )
    products = LoanProduct.objects.in_bulk({loan.product_id for loan in loans})
    for loan in loans:
        Loan.product.field.set_cached_value(loan, products[loan.product_id])
    return {loan.pk: loan for loan in loans}


def no_such_loan(loan_id, *, reference: str | None = None) -> LendingError:
    if reference is not None:
        # Whatever was asked for, cut to a reference's length: no reference is longer.
        longest = Loan._meta.get_field("reference").max_length
        shown = Truncator(reference).chars(longest + 1)
        message = _("no loan with reference %(reference)s") % {"reference": shown}
    else:
        message = _("no loan with id %(id)s") % {"id": loan_id}
    return LendingError(LendingErrorCode.NOT_FOUND, message, field="loan")


_DUE = attrgetter(*(f"{c}_due" for c in COMPONENTS))
_SETTLED = attrgetter(*(f"{c}_settled" for c in COMPONENTS))


def installment_states(installments: list[Installment]) -> list[InstallmentState]:
    return [
        InstallmentState(
            seq=i.seq,
            due_date=i.due_date,
            period_start=i.period_start,
            due=Parts(*_DUE(i)),
            settled=Parts(*_SETTLED(i)),
        )
        for i in installments
    ]


def post_transaction(**posting) -> Transaction:
    """Write one transaction with its lines and move the caches by exactly those amounts.

    `lines` maps installment seq → signed parts. `loan` must be locked (lock_loan).
    """
    staged = stage_transaction(**posting)
    save_transaction(staged.transaction, staged.lines)
    update_fields = installment_fields(staged.transaction.effect)
    if len(staged.installments) == 1:
        staged.installments[0].save(update_fields=update_fields)
    elif staged.installments:  # one statement for the installments a posting touched
        Installment.objects.bulk_update(staged.installments, update_fields)
    staged.transaction.loan.save(update_fields=LOAN_BALANCE_FIELDS)
    return staged.transaction


@dataclass
class Staged:
    """A posting worked out in memory: its rows unsaved, the installments it moved and the
    loan's caches already changed. post_transaction saves one at once; a batch of payments
    (repayments_post_many) saves many in a few statements."""

    transaction: Transaction
    lines: list[TransactionLine]
    installments: list[Installment]


def stage_transaction(
    *,
    loan: Loan,
    kind: TransactionKind,
    value_date: date,
    lines: dict[int, Parts],
    installments: list[Installment],
    acting_user,
    amount: Decimal = ZERO,
    credit: Decimal = ZERO,
    effect: Effect | None = None,
    **fields,
) -> Staged:
    by_seq = {i.seq: i for i in installments}
    effect = effect or EFFECT_OF_KIND[kind]
    txn, line_rows = transaction_rows(
        loan=loan,
        kind=kind,
        effect=effect,
        value_date=value_date,
        lines=lines,
        installments=installments,
        acting_user=acting_user,
        amount=amount,
        credit=credit,
        **fields,
    )
    suffix = _SUFFIX.get(effect)
    changed = []
    for seq, parts in lines.items():
        if suffix is None or parts.is_zero():
            continue
        installment = by_seq[seq]
        moved = (parts.principal, parts.interest, parts.fee, parts.penalty)
        for name, amount in zip(_MOVED_FIELDS[suffix], moved, strict=True):
            setattr(installment, name, getattr(installment, name) + amount)
        installment.settled_on = _settled_on(installment, value_date)
        changed.append(installment)
    loan.credit_balance += credit
    if loan.credit_balance < 0:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("the loan's credit balance cannot go below zero"),
            field="amount",
        )
    loan_balances(loan, installments)
    return Staged(txn, line_rows, changed)


_SUFFIX = {Effect.CHARGE: "due", Effect.SETTLE: "settled"}
_MOVED_FIELDS = {suffix: [f"{c}_{suffix}" for c in COMPONENTS] for suffix in _SUFFIX.values()}


def installment_fields(effect: Effect) -> list[str]:
    """The installment fields a posting of this effect moves."""
    suffix = _SUFFIX.get(effect)
    return [*(f"{c}_{suffix}" for c in COMPONENTS), "settled_on"] if suffix else []


def write_transaction(**posting) -> Transaction:
    """The transaction row and its lines only; the caller moves the caches (post_transaction
    does, one transaction at a time; a re-processing sets them once for several)."""
    txn, lines = transaction_rows(**posting)
    save_transaction(txn, lines)
    return txn


def transaction_rows(
    *,
    loan: Loan,
    kind: TransactionKind,
    effect: Effect,
    value_date: date,
    lines: dict[int, Parts],
    installments: list[Installment],
    acting_user,
    amount: Decimal = ZERO,
    credit: Decimal = ZERO,
    **fields,
) -> tuple[Transaction, list[TransactionLine]]:
    """The transaction and its non-zero lines, unsaved."""
    by_seq = {i.seq: i for i in installments}
    total = Parts.sum(lines.values())
    txn = new_instance(
        Transaction,
        loan=loan,
        kind=kind,
        effect=effect,
        value_date=value_date,
        amount=amount,
        principal=total.principal,
        interest=total.interest,
        fee=total.fee,
        penalty=total.penalty,
        credit=credit,
        posted_by=stored_user(acting_user),
        **fields,
    )
    rows = [
        new_instance(
            TransactionLine,
            transaction=txn,
            installment=by_seq[seq],
            **{c: getattr(parts, c) for c in COMPONENTS},
        )
        for seq, parts in sorted(lines.items())
        if not parts.is_zero()
    ]
    return txn, rows


def save_transaction(txn: Transaction, lines: list[TransactionLine]) -> None:
    txn.save(force_insert=True)
    TransactionLine.objects.bulk_create(lines)


def _settled_on(installment: Installment, value_date: date) -> date | None:
    if installment.outstanding > 0:
        return None
    return installment.settled_on or value_date


LOAN_BALANCE_FIELDS = [
    *(f"{c}_outstanding" for c in COMPONENTS),
    "credit_balance",
    "next_due_date",
    "updated_at",
]


def refresh_loan_balances(loan: Loan, installments: list[Installment]) -> None:
    loan_balances(loan, installments)
    loan.save(update_fields=LOAN_BALANCE_FIELDS)


def loan_balances(loan: Loan, installments: list[Installment]) -> None:
    """Loan caches are the sums of its installments' outstanding parts (set, not saved).
    Spelled out per component: it runs for every posting, a batch's thousands included."""
    principal = interest = fee = penalty = ZERO
    next_due = None
    for i in installments:
        left_principal = i.principal_due - i.principal_settled
        left_interest = i.interest_due - i.interest_settled
        left_fee = i.fee_due - i.fee_settled
        left_penalty = i.penalty_due - i.penalty_settled
        principal += left_principal
        interest += left_interest
        fee += left_fee
        penalty += left_penalty
        if left_principal + left_interest + left_fee + left_penalty > 0 and (
            next_due is None or i.due_date < next_due
        ):
            next_due = i.due_date
    loan.principal_outstanding, loan.interest_outstanding = principal, interest
    loan.fee_outstanding, loan.penalty_outstanding = fee, penalty
    loan.next_due_date = next_due


def payoff_for(loan: Loan, installments: list[Installment], as_of: date) -> PayoffQuote:
    """The loan's payoff quote on `as_of` from its installments (see allocation.payoff_quote)."""
    return payoff_quote(
        installment_states(installments),
        as_of=as_of,
        annual_rate=loan.annual_rate,
        day_count=DayCount(loan.day_count),
        credit_balance=loan.credit_balance,
        currency=loan.currency,
    )


def loan_installments(loan: Loan) -> list[Installment]:
    return list(loan.installments.order_by("seq"))


def allocation_order(loan: Loan) -> tuple[str, ...]:
    return parse_allocation_order(loan.allocation_order)


def apply_credit(loan, installments, as_of: date, acting_user, *, whole_loan: bool):
    """Spend the loan's credit balance on what is due (or on everything, for a payoff)."""
    if loan.credit_balance <= 0:
        return None
    states = installment_states(installments)
    targets = states if whole_loan else due_installments(states, as_of)
    lines, left = allocate(loan.credit_balance, targets, allocation_order(loan))
    used = loan.credit_balance - left
    if not used:
        return None
    return post_transaction(
        loan=loan,
        kind=TransactionKind.CREDIT_APPLIED,
        value_date=as_of,
        lines=lines,
        installments=installments,
        credit=-used,
        acting_user=acting_user,
    )


def cash_in_fields(*, idempotency_key, external_reference, channel, note) -> dict:
    """The free-text fields money received carries, cleaned (repayments, recoveries)."""
    return {
        "idempotency_key": clean_text(idempotency_key, field="idempotency_key", max_length=100),
        "external_reference": clean_text(
            external_reference, field="external_reference", max_length=100
        ),
        "channel": clean_text(channel, field="channel", max_length=32),
        "note": clean_text(note, field="note", max_length=255),
    }


def posted_with_key(
    kind: TransactionKind, key: str, loan: Loan, amount: Decimal
) -> Transaction | None:
    """The money of this kind already posted under the idempotency key: the same loan and
    amount is a retry (post nothing again); anything else is a conflict."""
    if not key:
        return None
    existing = Transaction.objects.filter(kind=kind, idempotency_key=key).first()
    if existing:
        check_same_posting(existing, key=key, loan=loan, amount=amount)
    return existing


def check_same_posting(existing: Transaction, *, key: str, loan: Loan, amount: Decimal) -> None:
    """A key posted before may come again only for the same loan and amount (a retry)."""
    if existing.loan_id != loan.pk or existing.amount != amount:
        raise LendingError(
            LendingErrorCode.IDEMPOTENCY_CONFLICT,
            _("key %(key)r was already used for a %(kind)s of %(amount)s to loan %(loan)s")
            % {
                "key": key,
                "kind": existing.get_kind_display().lower(),
                "amount": formatting.money(existing.amount, existing.loan.currency),
                "loan": existing.loan.reference,
            },
            field="idempotency_key",
        )


@contextmanager
def key_claimed(key: str, kind: TransactionKind):
    """Post inside: a concurrent posting that took the key first (the unique constraint) is
    the conflict it is, not a database error.

    Use it directly in the body of the posting service's own `transaction.atomic`, with
    nothing catching the LendingError in between: leaving that block undoes the failed
    posting (its savepoint or its transaction), so no savepoint of its own is needed — and
    a savepoint costs two statements on every posting."""
    try:
        yield
    except IntegrityError:
        if not key:
            raise
        raise LendingError(
            LendingErrorCode.IDEMPOTENCY_CONFLICT,
            _("key %(key)r is being used by another %(kind)s")
            % {"key": key, "kind": str(kind.label).lower()},
            field="idempotency_key",
        ) from None
