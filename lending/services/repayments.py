"""Money in and its corrections: repayments, payoff, credit balances, refunds, reversals."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lending import formatting
from lending.access import Perm, require
from lending.allocation import (
    COMPONENTS,
    Parts,
    allocate,
    payoff_floor,
)
from lending.errors import LendingError, LendingErrorCode
from lending.models import Loan, LoanStatus, Transaction, TransactionKind
from lending.models.transactions import Effect
from lending.money import ZERO
from lending.services.audit import audit_log
from lending.services.delinquency import loan_refresh_delinquency
from lending.services.hooks import money_moved, reversal_companions
from lending.services.ledger import (
    allocation_order,
    apply_credit,
    cash_in_fields,
    installment_states,
    key_claimed,
    loan_installments,
    lock_loan,
    payoff_for,
    post_transaction,
    posted_with_key,
    write_transaction,
)
from lending.services.loans import cancel_unearned_interest, transition
from lending.services.reprocess import (
    NEW,
    correct_bucket_history,
    needs_reprocess,
    post_difference,
    posting_state,
    relive,
)
from lending.validation import check_not_future, clean_text, parse_amount


@dataclass(frozen=True)
class RepaymentResult:
    transaction: Transaction
    duplicate: bool = False  # the idempotency key had been posted already: nothing new
    closed: bool = False  # the payment paid the loan off
    # Valued before nights already closed: the loan was re-lived and these corrections posted
    # with the payment (re-accrued penalty, re-allocated payments).
    corrections: tuple[Transaction, ...] = ()

    @property
    def penalty_change(self) -> Decimal:
        return sum(
            (t.penalty for t in self.corrections if t.kind == TransactionKind.REACCRUAL), ZERO
        )


def _check_value_date(loan: Loan, value_date: date, today: date | None = None) -> None:
    check_not_future(value_date, field="value_date", today=today)
    if loan.start_date and value_date < loan.start_date:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("is before the loan was disbursed (%(start)s)") % {"start": loan.start_date},
            field="value_date",
        )


def _check_overpayment(loan: Loan, amount: Decimal, payoff: Decimal, value_date: date) -> None:
    """A payment may exceed the payoff by at most the product's overpayment limit: beyond it is
    far more likely a typing error (an extra digit) than money the borrower meant to park."""
    limit = loan.product.max_overpayment
    if amount > payoff + limit:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _(
                "%(amount)s is more than the payoff on %(date)s (%(payoff)s) plus the "
                "product's overpayment limit (%(limit)s); at most %(most)s can be posted"
            )
            % {
                "amount": formatting.money(amount, loan.currency),
                "date": formatting.local_date(value_date),
                "payoff": formatting.money(payoff, loan.currency),
                "limit": formatting.money(limit, loan.currency),
                "most": formatting.money(payoff + limit, loan.currency),
            },
            field="amount",
        )


def _require_active(loan: Loan) -> None:
    if loan.status != LoanStatus.ACTIVE:
        raise LendingError(
            LendingErrorCode.LOAN_NOT_ACTIVE,
            _("loan %(loan)s is %(status)s; repayments can only be posted to active loans")
            % {"loan": loan.reference, "status": _status(loan)},
            field="loan",
        )


def _status(loan: Loan) -> str:
    """The loan's status in words, in the active language ("closed", "已结清")."""
    return str(LoanStatus(loan.status).label).lower()


def _close_if_paid(loan: Loan) -> bool:
    if closed_if_paid(loan):
        loan.save(update_fields=CLOSING_FIELDS)
        return True
    return False


CLOSING_FIELDS = ["status", "closed_at", "updated_at"]


def closed_if_paid(loan: Loan) -> bool:
    """An active loan that owes nothing closes (set on `loan`, not saved)."""
    if loan.status == LoanStatus.ACTIVE and loan.total_outstanding == 0:
        transition(loan, LoanStatus.CLOSED)
        loan.closed_at = timezone.now()
        return True
    return False


@transaction.atomic
def repayment_post(
    *,
    loan_id: int | None = None,
    loan_reference: str | None = None,
    amount,
    value_date: date,
    acting_user,
    idempotency_key: str = "",
    external_reference: str = "",
    channel: str = "",
    note: str = "",
) -> RepaymentResult:
    """Post money received: waterfall over what is due, oldest installment first.

    Enough to pay the loan off on `value_date` (see payoff quote) closes it, with interest only
    to that date; anything beyond what is owed becomes a credit balance, never lost. The loan
    by its id or by its reference.
    """
    require(acting_user, Perm.POST_REPAYMENT, to=_("post repayments"))
    loan = lock_loan(loan_id, reference=loan_reference)
    amount = parse_amount(amount, field="amount", currency=loan.currency)
    fields = cash_in_fields(
        idempotency_key=idempotency_key,
        external_reference=external_reference,
        channel=channel,
        note=note,
    )
    key = fields["idempotency_key"]
    state = posting_state(loan, kind=TransactionKind.REPAYMENT, key=key)
    if state.keyed_id is not None:  # a retry, or the key's conflict: the ledger's rule says
        existing = posted_with_key(TransactionKind.REPAYMENT, key, loan, amount)
        return RepaymentResult(existing, duplicate=True, closed=loan.status == LoanStatus.CLOSED)
    installments = loan_installments(loan)
    payoff = postable(loan, installments, amount, value_date)
    posting = dict(amount=amount, acting_user=acting_user, **fields)
    relived = needs_reprocess(
        loan,
        installments,
        value_date,
        last_closed=state.last_closed,
        latest_money=state.latest_money,
    )
    with key_claimed(key, TransactionKind.REPAYMENT):
        if relived:
            payment, left = _post_relived(loan, installments, value_date, **posting)
        else:
            payment, left = _post_directly(loan, installments, value_date, payoff, **posting)
    closed = _close_if_paid(loan)
    loan_refresh_delinquency(
        loan, installments, recorded_on=value_date, last_closed=state.last_closed
    )
    audit_log(**repayment_audit(loan, payment, left, closed=closed, acting_user=acting_user))
    money_moved(loan, acting_user=acting_user)
    # Only a re-lived history posts corrections; straight onto the loan, the rows posted with
    # the payment are its companions (unearned interest cancelled, credit applied).
    corrections = (
        tuple(
            payment.consequences.filter(
                kind__in=[TransactionKind.REACCRUAL, TransactionKind.REALLOCATION]
            ).order_by("id")
        )
        if relived
        else ()
    )
    return RepaymentResult(payment, closed=closed, corrections=corrections)


def postable(
    loan: Loan, installments, amount: Decimal, value_date: date, *, today: date | None = None
) -> bool:
    """The refusals a repayment may meet, in order; whether it pays the loan off (the payoff
    quote on its value date). Below the payoff's floor it does not, and no overpayment limit
    can refuse it, so the quote is worked out only for a payment that may reach it: an
    ordinary instalment's worth never needs it. A batch hands over its one "today"."""
    _require_active(loan)
    _check_value_date(loan, value_date, today)
    principal = sum((i.principal_due - i.principal_settled for i in installments), ZERO)
    # min(): a limit below zero (no product may have one) would refuse below the payoff.
    below = payoff_floor(principal, loan.credit_balance) + min(ZERO, loan.product.max_overpayment)
    if amount < below:
        return False
    quote = payoff_for(loan, installments, value_date)
    _check_overpayment(loan, amount, quote.amount, value_date)
    return amount >= quote.amount


def repayment_audit(loan, payment, credit_added, *, closed, acting_user) -> dict:
    return dict(
        actor=acting_user,
        action="repayment.post",
        obj=loan,
        summary=f"repayment {payment.amount} on {payment.value_date}"
        + (" paid the loan off" if closed else ""),
        data={"transaction": payment.pk, "credit_added": str(credit_added)},
    )


def _post_directly(loan, installments, value_date, is_payoff, *, amount, acting_user, **fields):
    """Nothing valued later was posted or accrued: the waterfall over what is due today (or
    over everything, for a payoff)."""
    companions = []
    if is_payoff:
        companions.append(cancel_unearned_interest(loan, installments, value_date, acting_user))
    companions.append(
        apply_credit(loan, installments, value_date, acting_user, whole_loan=is_payoff)
    )
    lines, left = waterfall(loan, installments, amount, value_date, payoff=is_payoff)
    payment = post_transaction(
        loan=loan,
        kind=TransactionKind.REPAYMENT,
        value_date=value_date,
        lines=lines,
        installments=installments,
        amount=amount,
        credit=left,
        acting_user=acting_user,
        **fields,
    )
    linked = [t.pk for t in companions if isinstance(t, Transaction)]
    Transaction.objects.filter(pk__in=linked).update(caused_by=payment)
    return payment, left


def waterfall(loan, installments, amount, value_date, *, payoff: bool):
    """A payment straight onto the loan: over what is due on its value date, or over
    everything for a payoff. (lines by installment, what is left over as credit)"""
    if not payoff:
        installments = [i for i in installments if i.due_date <= value_date]
    return allocate(amount, installment_states(installments), allocation_order(loan))


def _post_relived(loan, installments, value_date, *, amount, acting_user, **fields):
    """Valued before nights already closed, or before money already posted: allocated as the
    history re-lived with it says, and the difference it makes posted with it."""
    relived = relive(loan, installments, value_date=value_date, payment=amount)
    lines, left = relived.after.allocations[NEW]
    payment = write_transaction(
        loan=loan,
        kind=TransactionKind.REPAYMENT,
        effect=Effect.SETTLE,
        value_date=value_date,
        lines=lines,
        installments=installments,
        amount=amount,
        credit=left,
        acting_user=acting_user,
        **fields,
    )
    post_difference(
        loan=loan,
        installments=installments,
        relived=relived,
        value_date=value_date,
        own=[payment],
        caused_by=payment,
        acting_user=acting_user,
    )
    correct_bucket_history(loan, relived, value_date)
    return payment, left


@transaction.atomic
def loan_credit_apply(*, loan_id: int, as_of: date, acting_user) -> Transaction | None:
    """Let the credit balance pay installments that have fallen due (the nightly run calls it)."""
    require(acting_user, Perm.POST_REPAYMENT, to=_("apply credit balances"))
    check_not_future(as_of, field="as_of")
    loan = lock_loan(loan_id)
    if loan.status != LoanStatus.ACTIVE:
        return None
    applied = apply_credit(loan, loan_installments(loan), as_of, acting_user, whole_loan=False)
    if applied:
        _close_if_paid(loan)
        audit_log(actor=acting_user, action="credit.apply", obj=loan, summary=f"{-applied.credit}")
    return applied


@transaction.atomic
def loan_credit_refund(*, loan_id: int, amount=None, acting_user, note: str = "") -> Transaction:
    """Pay credit back to the borrower (all of it unless `amount` says less)."""
    require(acting_user, Perm.REFUND_CREDIT, to=_("refund credit balances"))
    note = clean_text(note, field="note", max_length=255)
    loan = lock_loan(loan_id)
    amount = loan.credit_balance if amount is None else parse_amount(amount, field="amount")
    if amount <= 0 or amount > loan.credit_balance:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("the loan holds a credit of %(credit)s; cannot refund %(amount)s")
            % {
                "credit": formatting.money(loan.credit_balance, loan.currency),
                "amount": formatting.money(amount, loan.currency),
            },
            field="amount",
        )
    refund = post_transaction(
        loan=loan,
        kind=TransactionKind.REFUND,
        value_date=timezone.localdate(),
        lines={},
        installments=loan_installments(loan),
        amount=amount,
        credit=-amount,
        acting_user=acting_user,
        note=note,
    )
    audit_log(actor=acting_user, action="credit.refund", obj=loan, summary=f"refunded {amount}")
    return refund


def _reversal_rows(loan, installments, original, reason, acting_user, *, write):
    """A reversal row for the repayment and each row posted with it: their lines negated."""
    seq_of = {i.pk: i.seq for i in installments}
    return [
        write(
            loan=loan,
            kind=TransactionKind.REVERSAL,
            effect=txn.effect,
            value_date=txn.value_date,
            lines={
                seq_of[line.installment_id]: -Parts(*(getattr(line, c) for c in COMPONENTS))
                for line in txn.lines.all()
            },
            installments=installments,
            amount=txn.amount,
            credit=-txn.credit,
            acting_user=acting_user,
            reverses=txn,
            note=reason,
        )
        for txn in [original, *original.consequences.order_by("-id")]
    ]


def _reverse_relived(loan, installments, postings, reason, acting_user) -> Transaction:
    """Re-live the loan without the postings and post the difference (reprocess); the first
    posting's reversal is the answer, and the others' rows follow it."""
    value_date = min(posting.value_date for posting in postings)
    relived = relive(loan, installments, value_date=value_date, reversing=postings)
    rows = [
        row
        for posting in postings
        for row in _reversal_rows(
            loan, installments, posting, reason, acting_user, write=write_transaction
        )
    ]
    post_difference(
        loan=loan,
        installments=installments,
        relived=relived,
        value_date=value_date,
        own=rows,
        caused_by=rows[0],
        acting_user=acting_user,
    )
    correct_bucket_history(loan, relived, value_date)
    return rows[0]


def _reverse_exactly(loan, installments, original, reason, acting_user) -> Transaction:
    if loan.credit_balance < original.credit:
        # Credit leaves a loan two ways: applied to installments as they fall due, or refunded.
        raise LendingError(
            LendingErrorCode.NOT_REVERSIBLE,
            _(
                "the credit this payment left (%(left)s) has since been applied to installments "
                "or refunded, and the loan holds %(held)s of credit now, so the payment can no "
                "longer be reversed"
            )
            % {
                "left": formatting.money(original.credit, loan.currency),
                "held": formatting.money(loan.credit_balance, loan.currency),
            },
            field="transaction",
        )
    rows = _reversal_rows(loan, installments, original, reason, acting_user, write=post_transaction)
    return rows[0]


@transaction.atomic
def repayment_reverse(*, transaction_id: int, reason: str, acting_user) -> Transaction:
    """Undo a repayment exactly: its lines, the credit it added, and what was posted with it."""
    require(acting_user, Perm.REVERSE_TRANSACTION, to=_("reverse transactions"))
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    original, loan = reversible(
        transaction_id,
        kind=TransactionKind.REPAYMENT,
        wrong_kind=_("a %(kind)s cannot be reversed here; only repayments"),
    )
    companions = list(
        Transaction.objects.filter(pk__in=reversal_companions(loan, original)).order_by("pk")
    )
    reversal = reverse_posting(loan, original, reason, acting_user, companions=companions)
    audit_log(
        actor=acting_user,
        action="repayment.reverse",
        obj=loan,
        summary=f"reversed repayment {original.amount} of {original.value_date}: {reason}",
        data={
            "transaction": original.pk,
            "reversal": reversal.pk,
            "with": [companion.pk for companion in companions],
        },
    )
    money_moved(loan, acting_user=acting_user)
    return reversal


# The postings that may be reversed, and the statuses their loan must be in: the services
# refuse by it and the loan's page offers the reversal by it.
REVERSIBLE_WHILE = {
    TransactionKind.REPAYMENT: (LoanStatus.ACTIVE, LoanStatus.CLOSED),
    TransactionKind.RECOVERY: (LoanStatus.WRITTEN_OFF,),
}


def reversible(transaction_id: int, *, kind: TransactionKind, wrong_kind: str):
    """The posting to reverse and its loan, locked; refused unless it is of `kind`, not reversed
    yet, on a loan in a status REVERSIBLE_WHILE allows (`wrong_kind` names the rule, with
    %(kind)s)."""
    original = Transaction.objects.filter(pk=transaction_id).first()
    if original is None:
        raise LendingError(
            LendingErrorCode.NOT_FOUND,
            _("no transaction %(id)s") % {"id": transaction_id},
            field="transaction",
        )
    loan = lock_loan(original.loan_id)
    if original.kind != kind:
        raise LendingError(
            LendingErrorCode.NOT_REVERSIBLE,
            wrong_kind % {"kind": original.get_kind_display().lower()},
            field="transaction",
        )
    if Transaction.objects.filter(reverses=original).exists():
        raise LendingError(
            LendingErrorCode.ALREADY_REVERSED,
            _("this %(kind)s is already reversed") % {"kind": original.get_kind_display().lower()},
            field="transaction",
        )
    if loan.status not in REVERSIBLE_WHILE[kind]:
        raise LendingError(
            LendingErrorCode.NOT_REVERSIBLE,
            _("loan %(loan)s is %(status)s") % {"loan": loan.reference, "status": _status(loan)},
            field="transaction",
        )
    return original, loan


def reverse_posting(
    loan: Loan, original: Transaction, reason: str, acting_user, *, companions=()
) -> Transaction:
    """Take a posting out of the loan's history, with its `companions` (postings that stood on
    it: hooks.reversal_companions): re-lived without them where the history allows, exactly
    otherwise. A closed loan that owes again reopens; its closing reason goes. The answer is
    the posting's own reversal."""
    try:
        with transaction.atomic():
            installments = loan_installments(loan)
            reversal = _reverse_relived(
                loan, installments, [original, *companions], reason, acting_user
            )
    except LendingError as exc:
        if exc.code != LendingErrorCode.NOT_REVERSIBLE:
            raise
        # The history cannot be re-lived consistently (money posted before the first night
        # ever ran, or a history that predates re-living): undo the postings exactly instead —
        # the companions first, giving back any credit they used — and the next night charges
        # the days they stood; unless the posting's credit is gone.
        loan.refresh_from_db()
        installments = loan_installments(loan)
        for companion in reversed(companions):
            _reverse_exactly(loan, installments, companion, reason, acting_user)
        reversal = _reverse_exactly(loan, installments, original, reason, acting_user)
    if loan.status == LoanStatus.CLOSED and loan.total_outstanding > 0:
        transition(loan, LoanStatus.ACTIVE)
        loan.closed_at, loan.status_reason = None, ""
        loan.save(update_fields=["status", "status_reason", "closed_at", "updated_at"])
    _close_if_paid(loan)
    loan_refresh_delinquency(loan, installments, recorded_on=original.value_date)
    return reversal
