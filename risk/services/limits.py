"""Credit limits: every change keeps who, when, why and the policy version (DESIGN §7, §10);
increase proposals are approved or rejected here by a risk analyst, never their own."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lending import formatting
from lending.access import Perm, require, require_other_person, stored_user
from lending.errors import LendingError, LendingErrorCode
from lending.models import Borrower
from lending.money import ZERO
from lending.services.audit import audit_log
from lending.validation import clean_text, parse_amount
from risk.models import (
    CreditLimit,
    CreditLimitChange,
    CreditPolicy,
    LimitIncreaseProposal,
    LimitStatus,
    ProposalStatus,
)
from risk.policy import HOUSEHOLD_CAP
from risk.reasons import Message


def lock_limit(borrower: Borrower) -> CreditLimit:
    """The borrower's limit row, locked (created at 0 if the borrower has none yet)."""
    limit, _created = CreditLimit.objects.select_for_update().get_or_create(
        borrower=borrower, defaults={"amount": ZERO}
    )
    return limit


@transaction.atomic
def credit_limit_change(
    *,
    borrower: Borrower,
    kind: str,
    reason: str | Message,
    acting_user,
    amount: Decimal | None = None,
    status: LimitStatus | None = None,
    policy: CreditPolicy | None = None,
    adverse_action: bool = False,
) -> CreditLimit:
    """Set the amount and/or status of a limit and record the change. The reason is a
    person's words, or a `Message` when the platform gives it (stored as its key and
    parameters, read in the reader's language; its English kept beside them)."""
    if isinstance(reason, Message):
        why, reason = reason, reason.text[:255]
    else:
        why, reason = None, clean_text(reason, field="reason", max_length=255, required=True)
    limit = lock_limit(borrower)
    if amount is not None and amount < 0:
        raise LendingError(LendingErrorCode.INVALID, _("must not be negative"), field="amount")
    before_amount, before_status = limit.amount, limit.status
    limit.amount = limit.amount if amount is None else amount
    limit.status = limit.status if status is None else status
    if (limit.amount, limit.status) == (before_amount, before_status):
        return limit
    limit.review_on = None  # the next close reviews the limit as it now stands
    limit.save()
    CreditLimitChange.objects.create(
        credit_limit=limit,
        kind=kind,
        from_amount=before_amount,
        to_amount=limit.amount,
        from_status=before_status,
        to_status=limit.status,
        reason=reason,
        reason_message=why.key if why else "",
        reason_params=why.params if why else {},
        adverse_action=adverse_action,
        policy=policy,
        changed_by=stored_user(acting_user),
    )
    audit_log(
        actor=acting_user,
        action=f"limit.{kind}",
        obj=limit,
        summary=f"{before_amount} {before_status} → {limit.amount} {limit.status}: {reason}",
    )
    return limit


def _check_open(limit: CreditLimit) -> None:
    if limit.status != LimitStatus.ACTIVE:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _("the credit limit is %(status)s; only an active limit can be raised")
            % {"status": limit.get_status_display().lower()},
            field="credit_limit",
        )


def check_increase(limit: CreditLimit, amount: Decimal) -> None:
    """Whether `amount` may be proposed for the limit (the admin form checks before saving)."""
    _check_open(limit)
    if amount <= limit.amount:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("must be above the current limit of %(limit)s")
            % {"limit": formatting.money(limit.amount)},
            field="proposed_amount",
        )
    if amount > HOUSEHOLD_CAP:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("must not exceed the household cap of %(cap)s") % {"cap": HOUSEHOLD_CAP},
            field="proposed_amount",
        )
    if limit.proposals.filter(status=ProposalStatus.PROPOSED).exists():
        raise LendingError(
            LendingErrorCode.DUPLICATE,
            _("an increase proposal for this limit is already awaiting approval"),
            field="credit_limit",
        )


@transaction.atomic
def limit_increase_propose(
    *, borrower: Borrower, amount, reason: str, acting_user
) -> LimitIncreaseProposal:
    """An analyst proposes a higher limit; another analyst decides it (four eyes)."""
    require(acting_user, Perm.PROPOSE_LIMIT_INCREASE, to=_("propose limit increases"))
    amount = parse_amount(amount, field="proposed_amount")
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    limit = lock_limit(borrower)
    check_increase(limit, amount)
    proposal = LimitIncreaseProposal.objects.create(
        credit_limit=limit,
        as_of=timezone.localdate(),
        current_amount=limit.amount,
        proposed_amount=amount,
        reason=reason,
        proposed_by=stored_user(acting_user),
    )
    audit_log(actor=acting_user, action="limit.propose_increase", obj=proposal, summary=reason)
    return proposal


def _lock_proposal(proposal_id: int, acting_user) -> tuple[LimitIncreaseProposal, CreditLimit]:
    """The proposal and its limit, locked limit first: the order the nightly review takes
    them in (it withdraws proposals of limits it freezes), so the two never deadlock."""
    require(acting_user, Perm.APPROVE_LIMIT_PROPOSAL, to=_("decide limit increase proposals"))
    if stored_user(acting_user) is None:
        raise LendingError(
            LendingErrorCode.REQUIRED, _("a risk analyst must decide a proposal"), field="approver"
        )
    found = LimitIncreaseProposal.objects.filter(pk=proposal_id)
    unlocked = found.select_related("credit_limit__borrower").first()
    if unlocked is None:
        raise LendingError(LendingErrorCode.NOT_FOUND, _("no such proposal"), field="proposal")
    limit = lock_limit(unlocked.credit_limit.borrower)
    proposal = found.select_for_update(of=("self",)).select_related("policy").get()
    if proposal.status != ProposalStatus.PROPOSED:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _("proposal %(id)s is %(status)s, not awaiting approval")
            % {"id": proposal.pk, "status": proposal.get_status_display().lower()},
            field="status",
        )
    return proposal, limit


def _decide(proposal: LimitIncreaseProposal, status: str, note: str, acting_user) -> None:
    proposal.status = status
    proposal.decided_by = stored_user(acting_user)
    proposal.decided_at = timezone.now()
    proposal.decision_note = note
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_log(
        actor=acting_user,
        action=f"limit.increase_{status}",
        obj=proposal,
        summary=f"{proposal.current_amount} → {proposal.proposed_amount}: {note}",
    )


def _proposal_reason(proposal: LimitIncreaseProposal) -> dict | str:
    """The proposal's reason as quoted in the change: the review's message, or the words of
    the analyst who proposed it."""
    if proposal.reason_message:
        return {"message": proposal.reason_message, "params": proposal.reason_params}
    return proposal.reason


@transaction.atomic
def limit_increase_approve(
    *, proposal_id: int, acting_user, note: str = ""
) -> LimitIncreaseProposal:
    """Raise the limit to the proposed amount, recorded in its history with the policy the
    proposal was made under."""
    note = clean_text(note, field="note", max_length=255)
    proposal, limit = _lock_proposal(proposal_id, acting_user)
    require_other_person(
        proposal.proposed_by_id,
        acting_user,
        what=_("proposed this increase"),
        checker=_("another risk analyst must approve it"),
        field="approver",
    )
    _check_open(limit)
    if limit.amount != proposal.current_amount:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _("the limit changed from %(before)s to %(after)s since the proposal; reject it")
            % {"before": proposal.current_amount, "after": limit.amount},
            field="credit_limit",
        )
    credit_limit_change(
        borrower=limit.borrower,
        kind="increase",
        amount=proposal.proposed_amount,
        reason=Message.of(
            "limit.increase_approved", proposal=proposal.pk, reason=_proposal_reason(proposal)
        ),
        policy=proposal.policy,
        acting_user=acting_user,
    )
    _decide(proposal, ProposalStatus.APPROVED, note, acting_user)
    return proposal


@transaction.atomic
def limit_increase_reject(
    *, proposal_id: int, acting_user, note: str = ""
) -> LimitIncreaseProposal:
    """Keep the limit as it is; the next proposal needs a fresh run of on-time installments."""
    note = clean_text(note, field="note", max_length=255)
    proposal, _locked = _lock_proposal(proposal_id, acting_user)
    _decide(proposal, ProposalStatus.REJECTED, note, acting_user)
    return proposal
