"""Concessions on a loan: waivers, settlements, and money recovered after a write-off.

Waivers and settlement discounts are `Fixed` postings for the replay (lending.replay): they
land as posted, never settling more than is owed when they land. They are valued on the day
after the last night the loan went through (`concession_value_date`): the penalty they forgive
was charged by those nights, and a posting valued on a day lands before that day's night.
A recovery has no installment lines and moves no credit (effect none): the written-off loan owes
nothing, so its balances — and `reconcile` — are untouched; the cash is in its `amount`.
"""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from lending import formatting
from lending.access import Perm, require
from lending.allocation import COMPONENTS, Parts
from lending.errors import LendingError, LendingErrorCode
from lending.models import Installment, Loan, LoanStatus, Transaction, TransactionKind
from lending.models.transactions import Effect
from lending.money import ZERO, money_str
from lending.services.audit import audit_log
from lending.services.delinquency import loan_refresh_delinquency
from lending.services.hooks import money_moved
from lending.services.ledger import (
    cash_in_fields,
    installment_states,
    key_claimed,
    loan_installments,
    lock_loan,
    post_transaction,
    posted_with_key,
)
from lending.services.loans import transition
from lending.services.repayments import REVERSIBLE_WHILE, repayment_reverse, reversible
from lending.services.reprocess import FIXED, processed_through
from lending.validation import check_date, check_not_future, clean_text, parse_amount
from lending.waivers import waivable, waiver_lines

SETTLED = "settled"  # the status reason of a loan closed by a paid settlement


def _require_status(loan: Loan, status: LoanStatus, code: LendingErrorCode, what: str) -> None:
    if loan.status != status:
        raise LendingError(
            code,
            _("loan %(loan)s is %(status)s; %(rule)s")
            % {
                "loan": loan.reference,
                "status": str(LoanStatus(loan.status).label).lower(),
                "rule": what,
            },
            field="loan",
        )


def optional_amount(value, *, field: str, currency: str) -> Decimal:
    """Zero (or empty) means "none of it"; anything else must be a valid positive amount."""
    try:
        if value is None or str(value).strip() == "" or Decimal(str(value).strip()) == 0:
            return ZERO
    except (InvalidOperation, ValueError, TypeError):
        pass  # parse_amount names the problem
    return parse_amount(value, field=field, currency=currency)


def concession_value_date(loan: Loan, installments: list[Installment]) -> date:
    """The day after the last night the loan went through (today when no night has run)."""
    through = processed_through(loan, installments)
    day = through + timedelta(days=1) if through else timezone.localdate()
    day = max(day, loan.start_date)
    later = loan.transactions.filter(
        value_date__gt=day, kind__in=[TransactionKind.REPAYMENT, *FIXED]
    ).exists()
    if later:
        # Only a posting valued ahead of the nights can be there; forgiving before it would
        # re-live the loan around money it does not know yet.
        raise LendingError(
            LendingErrorCode.OUT_OF_ORDER,
            _("the loan holds postings valued after %(date)s; wait until the nights reach them")
            % {"date": day},
            field="loan",
        )
    return day


def _close_if_nothing_owed(loan: Loan, reason: str = "") -> bool:
    if loan.status == LoanStatus.ACTIVE and loan.total_outstanding == 0:
        transition(loan, LoanStatus.CLOSED)
        loan.closed_at = timezone.now()
        loan.status_reason = reason or loan.status_reason
        loan.save(update_fields=["status", "status_reason", "closed_at", "updated_at"])
        return True
    return False


@transaction.atomic
def waiver_post(
    *, loan_id: int, reason: str, acting_user, penalty=ZERO, interest=ZERO
) -> Transaction:
    """Forgive penalty (and interest fallen due) owed on an active loan: a WAIVER transaction
    settling them oldest installment first. Never more than is owed of each."""
    require(acting_user, Perm.WAIVE_CHARGES, to=_("waive penalty or interest"))
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    loan = lock_loan(loan_id)
    penalty = optional_amount(penalty, field="penalty", currency=loan.currency)
    interest = optional_amount(interest, field="interest", currency=loan.currency)
    if not penalty and not interest:
        raise LendingError(
            LendingErrorCode.REQUIRED, _("give the penalty or interest to waive"), field="penalty"
        )
    _require_status(
        loan, LoanStatus.ACTIVE, LendingErrorCode.LOAN_NOT_ACTIVE, _("only active loans are waived")
    )
    installments = loan_installments(loan)
    value_date = concession_value_date(loan, installments)
    states = installment_states(installments)
    owed = waivable(states, value_date)
    for field, part, asked, limit in (
        ("penalty", _("penalty"), penalty, owed.penalty),
        ("interest", _("interest"), interest, owed.interest),
    ):
        if asked > limit:
            raise LendingError(
                LendingErrorCode.OUT_OF_RANGE,
                _("%(asked)s is more than the %(owed)s %(part)s owed")
                % {"asked": money_str(asked), "owed": money_str(limit), "part": part},
                field=field,
            )
    lines = waiver_lines(states, value_date, penalty=penalty, interest=interest)
    waiver = post_transaction(
        loan=loan,
        kind=TransactionKind.WAIVER,
        value_date=value_date,
        lines=lines,
        installments=installments,
        acting_user=acting_user,
        note=reason,
    )
    closed = _close_if_nothing_owed(loan)
    loan_refresh_delinquency(loan, installments, recorded_on=value_date)
    audit_log(
        actor=acting_user,
        action="loan.waiver",
        obj=loan,
        summary=f"waived penalty {penalty} and interest {interest} on {value_date}: {reason}",
        data={
            "transaction": waiver.pk,
            "penalty": str(penalty),
            "interest": str(interest),
            "closed": closed,
        },
    )
    money_moved(loan, acting_user=acting_user)
    return waiver


def received_between(loan: Loan, start: date, end: date) -> Decimal:
    """Repayments valued from `start` to `end`, reversed ones left out."""
    total = Transaction.objects.filter(
        loan=loan,
        kind=TransactionKind.REPAYMENT,
        reversed_by__isnull=True,
        value_date__gte=start,
        value_date__lte=end,
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


@transaction.atomic
def loan_settle(
    *, loan_id: int, amount, agreed_on: date, due_by: date, acting_user, reference: str = ""
) -> Transaction:
    """Close a loan by its settlement: payments valued from `agreed_on` to `due_by` reached
    `amount`, so the rest is forgiven — a SETTLEMENT_DISCOUNT settling everything still
    outstanding — and the loan closes, reason "settled". Credit the borrower holds is used
    first, in the same row (its `credit`), so the replay finds it where it was."""
    require(acting_user, Perm.SETTLE_LOAN, to=_("close loans by settlement"))
    reference = clean_text(reference, field="reference", max_length=100)
    check_date(agreed_on, field="agreed_on")
    check_date(due_by, field="due_by")
    if due_by < agreed_on:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("is before the agreement (%(date)s)") % {"date": agreed_on},
            field="due_by",
        )
    loan = lock_loan(loan_id)
    amount = parse_amount(amount, field="amount", currency=loan.currency)
    _require_status(
        loan,
        LoanStatus.ACTIVE,
        LendingErrorCode.LOAN_NOT_ACTIVE,
        _("only active loans are settled"),
    )
    received = received_between(loan, agreed_on, due_by)
    if received < amount:
        raise LendingError(
            LendingErrorCode.SETTLEMENT_NOT_PAID,
            _("payments from %(start)s to %(end)s add up to %(received)s of the %(agreed)s agreed")
            % {
                "start": formatting.local_date(agreed_on),
                "end": formatting.local_date(due_by),
                "received": formatting.money(received, loan.currency),
                "agreed": formatting.money(amount, loan.currency),
            },
            field="amount",
        )
    installments = loan_installments(loan)
    value_date = concession_value_date(loan, installments)
    remaining = {i.seq: Parts(*(i.outstanding_of(c) for c in COMPONENTS)) for i in installments}
    remaining = {seq: parts for seq, parts in remaining.items() if not parts.is_zero()}
    total = Parts.sum(remaining.values()).total
    used = min(loan.credit_balance, total)
    discount = post_transaction(
        loan=loan,
        kind=TransactionKind.SETTLEMENT_DISCOUNT,
        value_date=value_date,
        lines=remaining,
        installments=installments,
        credit=-used,
        acting_user=acting_user,
        external_reference=reference,
        note=f"settled for {money_str(amount)} paid by {due_by}; credit used {money_str(used)}",
    )
    _close_if_nothing_owed(loan, SETTLED)
    loan_refresh_delinquency(loan, installments, recorded_on=value_date)
    audit_log(
        actor=acting_user,
        action="loan.settle",
        obj=loan,
        summary=f"settled: {received} received, {total - used} forgiven on {value_date}",
        data={
            "transaction": discount.pk,
            "received": str(received),
            "forgiven": str(total - used),
            "credit_used": str(used),
        },
    )
    money_moved(loan, acting_user=acting_user)
    return discount


def written_off_amount(loan: Loan) -> Decimal:
    row = Transaction.objects.filter(loan=loan, kind=TransactionKind.WRITE_OFF).aggregate(
        *(Sum(c) for c in COMPONENTS)
    )
    return sum((v or ZERO for v in row.values()), ZERO)


def recovered_amount(loan: Loan) -> Decimal:
    total = Transaction.objects.filter(
        loan=loan, kind=TransactionKind.RECOVERY, reversed_by__isnull=True
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


@transaction.atomic
def recovery_post(
    *,
    loan_id: int,
    amount,
    value_date: date,
    acting_user,
    idempotency_key: str = "",
    external_reference: str = "",
    channel: str = "",
    note: str = "",
) -> Transaction:
    """Record money received on a written-off loan: a RECOVERY with no installment lines and
    no credit (the loan owes nothing any more), at most what was written off less what was
    recovered already. A retried request with the same key posts once."""
    require(acting_user, Perm.POST_RECOVERY, to=_("post recoveries"))
    loan = lock_loan(loan_id)
    amount = parse_amount(amount, field="amount", currency=loan.currency)
    fields = cash_in_fields(
        idempotency_key=idempotency_key,
        external_reference=external_reference,
        channel=channel,
        note=note,
    )
    key = fields["idempotency_key"]
    if existing := posted_with_key(TransactionKind.RECOVERY, key, loan, amount):
        return existing
    _require_status(
        loan,
        LoanStatus.WRITTEN_OFF,
        LendingErrorCode.LOAN_NOT_WRITTEN_OFF,
        _("recoveries are posted to written-off loans (post a repayment to an active one)"),
    )
    check_not_future(value_date, field="value_date")
    written_off_on = (
        loan.transactions.filter(kind=TransactionKind.WRITE_OFF)
        .values_list("value_date", flat=True)
        .first()
    )
    if written_off_on and value_date < written_off_on:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("is before the write-off (%(date)s); money before it was a repayment")
            % {"date": written_off_on},
            field="value_date",
        )
    left = written_off_amount(loan) - recovered_amount(loan)
    if amount > left:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("%(amount)s is more than the %(left)s written off and not yet recovered")
            % {"amount": money_str(amount), "left": money_str(left)},
            field="amount",
        )
    with key_claimed(key, TransactionKind.RECOVERY):
        recovery = post_transaction(
            loan=loan,
            kind=TransactionKind.RECOVERY,
            value_date=value_date,
            lines={},
            installments=loan_installments(loan),
            amount=amount,
            acting_user=acting_user,
            **fields,
        )
    audit_log(
        actor=acting_user,
        action="loan.recovery",
        obj=loan,
        summary=f"recovered {amount} on {value_date}",
        data={"transaction": recovery.pk, "left_to_recover": str(left - amount)},
    )
    money_moved(loan, acting_user=acting_user)
    return recovery


@transaction.atomic
def recovery_reverse(*, transaction_id: int, reason: str, acting_user) -> Transaction:
    """Undo a recovery whose money did not arrive (a bounced transfer): a REVERSAL with its
    amount, no lines and no credit, like the recovery itself. What is left to recover grows back
    by it, and the reports leave the recovery out."""
    require(acting_user, Perm.REVERSE_TRANSACTION, to=_("reverse transactions"))
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    recovery, loan = reversible(
        transaction_id,
        kind=TransactionKind.RECOVERY,
        wrong_kind=_("a %(kind)s cannot be reversed here; only recoveries"),
    )
    reversal = post_transaction(
        loan=loan,
        kind=TransactionKind.REVERSAL,
        effect=Effect.NONE,
        value_date=recovery.value_date,
        lines={},
        installments=loan_installments(loan),
        amount=recovery.amount,
        acting_user=acting_user,
        reverses=recovery,
        note=reason,
    )
    audit_log(
        actor=acting_user,
        action="recovery.reverse",
        obj=loan,
        summary=f"reversed recovery {recovery.amount} of {recovery.value_date}: {reason}",
        data={"transaction": recovery.pk, "reversal": reversal.pk, "reason": reason},
    )
    money_moved(loan, acting_user=acting_user)
    return reversal


def transaction_reverse(*, transaction_id: int, reason: str, acting_user) -> Transaction:
    """The doors' reversal (admin, API): a repayment, re-lived without it, or a recovery."""
    require(acting_user, Perm.REVERSE_TRANSACTION, to=_("reverse transactions"))
    txn = Transaction.objects.filter(pk=transaction_id).only("kind").first()
    if txn is not None and txn.kind == TransactionKind.RECOVERY:
        return recovery_reverse(transaction_id=txn.pk, reason=reason, acting_user=acting_user)
    if txn is not None and txn.kind not in REVERSIBLE_WHILE:
        raise LendingError(
            LendingErrorCode.NOT_REVERSIBLE,
            _("a %(kind)s cannot be reversed; only repayments and recoveries")
            % {"kind": txn.get_kind_display().lower()},
            field="transaction",
        )
    return repayment_reverse(transaction_id=transaction_id, reason=reason, acting_user=acting_user)
