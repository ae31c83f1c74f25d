"""Waivers, settlements and write-offs: a collector proposes on their own case, another person
decides (maker-checker, here in the service whatever the door), and the money moves through
lending's services. The night settles or lapses agreements and draws up write-off proposals.
"""

from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from debt_collection.access import CollectionsPerm
from debt_collection.errors import CollectionsErrorCode
from debt_collection.models import (
    Case,
    CaseStatus,
    ProposalState,
    SettlementProposal,
    WaiverProposal,
    WriteOffProposal,
)
from debt_collection.services.common import lock_case
from lending.access import SYSTEM, require, require_other_person, stored_user
from lending.errors import LendingError, LendingErrorCode
from lending.formatting import money
from lending.models import AuditEvent, LoanStatus
from lending.money import ZERO, money_str
from lending.services.audit import audit_log
from lending.services.concessions import (
    concession_value_date,
    loan_settle,
    optional_amount,
    received_between,
    waiver_post,
)
from lending.services.ledger import installment_states, loan_installments
from lending.services.loans import loan_write_off
from lending.validation import clean_text, parse_amount
from lending.waivers import waivable

MAX_SETTLEMENT_DAYS = 90  # further out it is a payment plan, not a settlement


def _lock_proposal(model, proposal_id, *, pending: bool = True):
    """The proposal, locked; refused unless it exists and (with `pending`) awaits a decision."""
    proposal = (
        model.objects.select_for_update(of=("self",))
        .select_related("case__loan")
        .filter(pk=proposal_id)
        .first()
        if isinstance(proposal_id, int)
        else None
    )
    if proposal is None:
        raise LendingError(
            LendingErrorCode.NOT_FOUND, _("no proposal %s") % proposal_id, field="proposal"
        )
    if pending and proposal.state != ProposalState.PENDING:
        raise LendingError(
            CollectionsErrorCode.PROPOSAL_DECIDED,
            _("proposal %(id)s is %(state)s already")
            % {"id": proposal.pk, "state": proposal.get_state_display().lower()},
            field="proposal",
        )
    return proposal


def _decided(proposal, approve: bool, note: str, acting_user) -> None:
    proposal.state = ProposalState.APPROVED if approve else ProposalState.REJECTED
    proposal.decided_by = stored_user(acting_user)
    proposal.decided_at = timezone.now()
    proposal.decision_note = note


# --- waivers -------------------------------------------------------------------------------


@transaction.atomic
def waiver_propose(*, case_id, reason: str, acting_user, penalty=ZERO, interest=ZERO):
    """A collector asks to forgive penalty and/or interest fallen due on their open case; at
    most what is owed now (the approval checks again: the borrower may pay meanwhile)."""
    require(acting_user, CollectionsPerm.PROPOSE_WAIVER, to=_("propose waivers"))
    case = lock_case(case_id, acting_user)
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    loan = case.loan
    penalty = optional_amount(penalty, field="penalty", currency=loan.currency)
    interest = optional_amount(interest, field="interest", currency=loan.currency)
    if not penalty and not interest:
        raise LendingError(
            LendingErrorCode.REQUIRED, _("give the penalty or interest to waive"), field="penalty"
        )
    installments = loan_installments(loan)
    owed = waivable(installment_states(installments), concession_value_date(loan, installments))
    for field, asked, limit in (
        ("penalty", penalty, owed.penalty),
        ("interest", interest, owed.interest),
    ):
        if asked > limit:
            raise LendingError(
                LendingErrorCode.OUT_OF_RANGE,
                _("%(asked)s is more than the %(owed)s owed")
                % {"asked": money_str(asked), "owed": money_str(limit)},
                field=field,
            )
    if WaiverProposal.objects.filter(case=case, state=ProposalState.PENDING).exists():
        raise LendingError(
            LendingErrorCode.DUPLICATE,
            _("a waiver on this case awaits a decision already"),
            field="case",
        )
    proposal = WaiverProposal.objects.create(
        case=case,
        penalty=penalty,
        interest=interest,
        reason=reason,
        proposed_by=stored_user(acting_user),
    )
    audit_log(
        actor=acting_user,
        action="waiver.propose",
        obj=proposal,
        summary=f"penalty {penalty}, interest {interest}: {reason}",
        data={"case": case.pk},
    )
    return proposal


@transaction.atomic
def waiver_decide(*, proposal_id, approve: bool, acting_user, note: str = "") -> WaiverProposal:
    """A collections manager — never the proposer — approves (the waiver is posted) or
    rejects."""
    require(acting_user, CollectionsPerm.DECIDE_WAIVER, to=_("approve or reject waivers"))
    note = clean_text(note, field="note", max_length=255)
    proposal = _lock_proposal(WaiverProposal, proposal_id)
    require_other_person(
        proposal.proposed_by_id,
        acting_user,
        what=_("proposed this waiver"),
        checker=_("another collections manager must decide it"),
        field="proposal",
    )
    _decided(proposal, approve, note, acting_user)
    if approve:
        proposal.transaction = waiver_post(
            loan_id=proposal.case.loan_id,
            penalty=proposal.penalty,
            interest=proposal.interest,
            reason=f"waiver proposal {proposal.pk}: {proposal.reason}"[:255],
            acting_user=acting_user,
        )
    proposal.save()
    audit_log(
        actor=acting_user,
        action=f"waiver.{proposal.state}",
        obj=proposal,
        summary=note,
        data={"case": proposal.case_id},
    )
    return proposal


# --- settlements ---------------------------------------------------------------------------


@transaction.atomic
def settlement_propose(*, case_id, amount, due_by: date, reason: str, acting_user):
    """A collector proposes "pay `amount` by `due_by` and the rest is forgiven": less than
    the loan owes (the whole of it is a payoff), by a date from today up to 90 days ahead."""
    require(acting_user, CollectionsPerm.PROPOSE_SETTLEMENT, to=_("propose settlements"))
    case = lock_case(case_id, acting_user)
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    loan = case.loan
    amount = parse_amount(amount, field="amount", currency=loan.currency)
    if amount >= loan.total_outstanding:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("must be less than the %s outstanding; paying all of it needs no settlement")
            % money_str(loan.total_outstanding),
            field="amount",
        )
    _check_due_by(due_by)
    if SettlementProposal.objects.filter(
        case=case, state__in=[ProposalState.PENDING, ProposalState.APPROVED]
    ).exists():
        raise LendingError(
            LendingErrorCode.DUPLICATE,
            _("a settlement on this case is proposed or running already"),
            field="case",
        )
    proposal = SettlementProposal.objects.create(
        case=case, amount=amount, due_by=due_by, reason=reason, proposed_by=stored_user(acting_user)
    )
    audit_log(
        actor=acting_user,
        action="settlement.propose",
        obj=proposal,
        summary=f"{amount} by {due_by}: {reason}",
        data={"case": case.pk},
    )
    return proposal


def _check_due_by(due_by) -> None:
    today = timezone.localdate()
    if not isinstance(due_by, date) or not (
        today <= due_by <= today + timedelta(days=MAX_SETTLEMENT_DAYS)
    ):
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("must be from today to %s days ahead") % MAX_SETTLEMENT_DAYS,
            field="due_by",
        )


@transaction.atomic
def settlement_decide(
    *, proposal_id, approve: bool, acting_user, note: str = ""
) -> SettlementProposal:
    """A collections manager — never the proposer — approves (the agreement runs from today;
    payments from today count) or rejects."""
    require(acting_user, CollectionsPerm.DECIDE_SETTLEMENT, to=_("approve or reject settlements"))
    note = clean_text(note, field="note", max_length=255)
    proposal = _lock_proposal(SettlementProposal, proposal_id)
    require_other_person(
        proposal.proposed_by_id,
        acting_user,
        what=_("proposed this settlement"),
        checker=_("another collections manager must decide it"),
        field="proposal",
    )
    if approve:
        _check_due_by(proposal.due_by)  # its date passed while it waited: propose again
        if proposal.case.loan.status != LoanStatus.ACTIVE:
            raise LendingError(
                LendingErrorCode.LOAN_NOT_ACTIVE, _("the loan is no longer active"), field="case"
            )
        proposal.agreed_on = timezone.localdate()
    _decided(proposal, approve, note, acting_user)
    proposal.save()
    audit_log(
        actor=acting_user,
        action=f"settlement.{proposal.state}",
        obj=proposal,
        summary=note,
        data={"case": proposal.case_id, "agreed_on": str(proposal.agreed_on or "")},
    )
    return proposal


def settlement_check(*, business_date: date) -> dict:
    """The nightly step (book-level: running agreements are few, and a paid-up loan leaves the
    night's chunks). An agreement whose payments from its day to `min(due_by, D)` reach its
    amount is settled through lending's `loan_settle` (the loan closes, reason settled);
    one whose date has passed unpaid lapses on the night of its date; one whose loan closed
    or was written off otherwise lapses too. Re-run for a date, it finds them decided."""
    counts = {"settlements_settled": 0, "settlements_lapsed": 0, "settlements_waiting": 0}
    running = SettlementProposal.objects.filter(
        state=ProposalState.APPROVED, agreed_on__lte=business_date
    ).select_related("case__loan")
    for proposal_id in running.order_by("pk").values_list("pk", flat=True):
        outcome = _settle_or_lapse(proposal_id, business_date)
        if outcome:
            counts[f"settlements_{outcome}"] += 1
    return counts


@transaction.atomic
def _settle_or_lapse(proposal_id: int, business_date: date) -> str | None:
    proposal = _lock_proposal(SettlementProposal, proposal_id, pending=False)
    if proposal.state != ProposalState.APPROVED:
        return None
    loan = proposal.case.loan
    proposal.paid = received_between(loan, proposal.agreed_on, min(proposal.due_by, business_date))
    outcome = None
    if loan.status == LoanStatus.ACTIVE and proposal.paid >= proposal.amount:
        try:
            with transaction.atomic():
                _settle(proposal, until=business_date, acting_user=SYSTEM)
        except LendingError:
            outcome = "waiting"  # e.g. postings valued ahead of the nights: tried again
        else:
            outcome = "settled"
    elif loan.status != LoanStatus.ACTIVE or business_date >= proposal.due_by:
        proposal.state, outcome = ProposalState.LAPSED, "lapsed"
    if proposal.state != ProposalState.APPROVED:
        proposal.resolved_on = business_date
        AuditEvent.objects.create(
            action=f"settlement.{proposal.state}",
            object_type="collections.settlementproposal",
            object_id=str(proposal.pk),
            summary=f"{proposal.paid} of {proposal.amount} by {proposal.due_by}",
        )
    proposal.save(update_fields=["paid", "state", "resolved_on", "transaction"])
    return outcome


def _settle(proposal: SettlementProposal, *, until: date, acting_user) -> None:
    """The agreement's payments valued from its day to min(its date, `until`) counted into
    `paid`; lending's `loan_settle` closes the loan if they reach its amount (and refuses if
    not: SETTLEMENT_NOT_PAID). Set on `proposal`, not saved."""
    loan = proposal.case.loan
    proposal.paid = received_between(loan, proposal.agreed_on, min(proposal.due_by, until))
    proposal.transaction = loan_settle(
        loan_id=loan.pk,
        amount=proposal.amount,
        agreed_on=proposal.agreed_on,
        due_by=min(proposal.due_by, until),
        reference=f"settlement {proposal.pk}",
        acting_user=acting_user,
    )
    proposal.state, proposal.resolved_on = ProposalState.SETTLED, until


@transaction.atomic
def settlement_settle_now(*, proposal_id, acting_user) -> SettlementProposal:
    """A manager closes the loan of an agreement paid in full today, instead of waiting for
    the night: the same count of payments and the same `loan_settle` the night runs."""
    require(acting_user, CollectionsPerm.DECIDE_SETTLEMENT, to=_("settle agreements"))
    proposal = _lock_proposal(SettlementProposal, proposal_id, pending=False)
    if proposal.state != ProposalState.APPROVED:
        raise LendingError(
            CollectionsErrorCode.PROPOSAL_DECIDED,
            _("this settlement is %(state)s; only a running (approved) one is settled")
            % {"state": proposal.get_state_display().lower()},
            field="proposal",
        )
    if proposal.case.loan.status != LoanStatus.ACTIVE:
        raise LendingError(
            LendingErrorCode.LOAN_NOT_ACTIVE, _("the loan is no longer active"), field="case"
        )
    _settle(proposal, until=timezone.localdate(), acting_user=acting_user)
    proposal.save(update_fields=["paid", "state", "resolved_on", "transaction"])
    audit_log(
        actor=acting_user,
        action="settlement.settled",
        obj=proposal,
        summary=f"{proposal.paid} of {proposal.amount} by {proposal.due_by}, settled now",
        data={"case": proposal.case_id, "transaction": proposal.transaction_id},
    )
    return proposal


def settlement_companions(*, loan, repayment) -> list[int]:
    """lending's reversal companions: the discounts of settled agreements that counted the
    repayment (valued in their window). Reversing it takes them out with it, in one re-living
    (the credit a discount used may have been the payment's); `settlement_money_moved` then
    works out the agreement again."""
    return list(
        SettlementProposal.objects.filter(
            case__loan_id=loan.pk,
            state=ProposalState.SETTLED,
            transaction__reversed_by__isnull=True,
            agreed_on__lte=repayment.value_date,
            due_by__gte=repayment.value_date,
        )
        .exclude(transaction=None)
        .values_list("transaction_id", flat=True)
    )


def settlement_money_moved(*, loan, acting_user) -> None:
    """lending's money-moved hook, for settled agreements whose discount a reversal took out
    (`settlement_companions`): the loan was re-lived without it and owes what it forgave. If
    the repayments that still stand meet the agreement, it settles the loan again at once (a
    new discount); if not, it is broken and lapses, keeping the reversed discount as its
    history — a new agreement is a new proposal on the loan's next case, the settled case
    staying closed."""
    broken = (
        SettlementProposal.objects.select_for_update(of=("self",))
        .select_related("case__loan")
        .filter(
            case__loan_id=loan.pk,
            state=ProposalState.SETTLED,
            transaction__reversed_by__isnull=False,
        )
        .order_by("pk")
    )
    today = timezone.localdate()
    for proposal in broken:
        discount = proposal.transaction_id
        paid = received_between(loan, proposal.agreed_on, min(proposal.due_by, today))
        # Unlinked first: settling again tells this hook again, which must pass it by.
        proposal.paid, proposal.resolved_on, proposal.transaction = paid, today, None
        proposal.save(update_fields=["paid", "resolved_on", "transaction"])
        proposal.case.loan.refresh_from_db()
        if paid >= proposal.amount and proposal.case.loan.status == LoanStatus.ACTIVE:
            _settle(proposal, until=today, acting_user=SYSTEM)
        elif paid < proposal.amount:  # broken: the reversed discount stays as its history
            proposal.state, proposal.transaction_id = ProposalState.LAPSED, discount
        # (Met, on a loan that owes nothing without the discount: settled, nothing forgiven.)
        proposal.save(update_fields=["paid", "state", "resolved_on", "transaction"])
        audit_log(
            actor=acting_user,
            action=f"settlement.{proposal.state}",
            obj=proposal,
            summary=_(
                "settlement %(id)s: a payment it counted was reversed; payments in its window "
                "now add up to %(paid)s of the %(agreed)s agreed"
            )
            % {
                "id": proposal.pk,
                "paid": money(paid, loan.currency),
                "agreed": money(proposal.amount, loan.currency),
            },
            data={"case": proposal.case_id, "paid": str(paid), "reversed_discount": discount},
        )


def settlements_after_payments(*, loans, acting_user) -> None:
    """The hook for a batch of repayments: payments only add to what an agreement counted."""


# --- write-offs ----------------------------------------------------------------------------


# The nightly step's PostgreSQL path: one statement for the book. The reason is the translated
# sentence with the loan's dpd put in by the database (MARK stands for it).
WRITE_OFF_PROPOSALS_SQL = """
INSERT INTO collections_writeoffproposal
    (case_id, state, reason, proposed_at, decision_note, dpd, outstanding)
SELECT c.id, %(pending)s, replace(%(reason)s, %(mark)s, l.dpd::text), now(), '', l.dpd,
       l.principal_outstanding + l.interest_outstanding + l.fee_outstanding
           + l.penalty_outstanding
FROM collections_case c
JOIN lending_loan l ON l.id = c.loan_id AND l.status = %(active)s
JOIN lending_loanproduct p ON p.id = l.product_id
WHERE c.status = %(open)s AND l.dpd >= p.write_off_dpd
  AND NOT EXISTS (SELECT 1 FROM collections_writeoffproposal w WHERE w.case_id = c.id)
ORDER BY c.id
"""
MARK = "\u2063dpd\u2063"


def write_off_reason(*, dpd, business_date: date) -> str:
    return _("%(dpd)s days past due on %(date)s") % {"dpd": dpd, "date": business_date}


def write_off_proposals(*, business_date: date) -> dict:
    """The nightly step (book-level): every open case whose loan is at or past its product's
    write-off dpd and has no proposal yet gets one, awaiting finance. One INSERT … SELECT on
    PostgreSQL; elsewhere one read and one bulk insert (tests hold both to the same rows)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                WRITE_OFF_PROPOSALS_SQL,
                {
                    "pending": ProposalState.PENDING.value,
                    "reason": write_off_reason(dpd=MARK, business_date=business_date),
                    "mark": MARK,
                    "active": LoanStatus.ACTIVE.value,
                    "open": CaseStatus.OPEN.value,
                },
            )
            return {"write_off_proposals": cursor.rowcount}
    candidates = list(
        Case.objects.filter(
            status=CaseStatus.OPEN,
            loan__status=LoanStatus.ACTIVE,
            loan__dpd__gte=F("loan__product__write_off_dpd"),
        )
        .exclude(Exists(WriteOffProposal.objects.filter(case=OuterRef("pk"))))
        .order_by("pk")
        .values_list(
            "pk",
            "loan__dpd",
            "loan__principal_outstanding",
            "loan__interest_outstanding",
            "loan__fee_outstanding",
            "loan__penalty_outstanding",
        )
    )
    WriteOffProposal.objects.bulk_create(
        WriteOffProposal(
            case_id=pk,
            dpd=dpd,
            outstanding=sum(parts, ZERO),
            reason=write_off_reason(dpd=dpd, business_date=business_date),
        )
        for pk, dpd, *parts in candidates
    )
    return {"write_off_proposals": len(candidates)}


@transaction.atomic
def write_off_decide(
    *, proposal_id, approve: bool, acting_user, note: str = ""
) -> WriteOffProposal:
    """Finance approves (the loan is written off today through lending's `loan_write_off`; its
    case closes, reason written off) or rejects (the proposal stands rejected for the case)."""
    require(acting_user, CollectionsPerm.DECIDE_WRITE_OFF, to=_("approve or reject write-offs"))
    note = clean_text(note, field="note", max_length=255)
    proposal = _lock_proposal(WriteOffProposal, proposal_id)
    require_other_person(
        proposal.proposed_by_id,
        acting_user,
        what=_("proposed this write-off"),
        checker=_("someone else in finance must decide it"),
        field="proposal",
    )
    _decided(proposal, approve, note, acting_user)
    if approve:
        loan = loan_write_off(
            loan_id=proposal.case.loan_id,
            reason=(note or proposal.reason)[:255],
            value_date=timezone.localdate(),
            acting_user=acting_user,
        )
        proposal.transaction = loan.transactions.filter(kind="write_off").first()
    proposal.save()
    audit_log(
        actor=acting_user,
        action=f"write_off.{proposal.state}",
        obj=proposal,
        summary=note,
        data={"case": proposal.case_id},
    )
    return proposal
