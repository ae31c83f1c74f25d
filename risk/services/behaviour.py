"""The nightly behavioural review of credit limits: a book-level step of the close of business
(DESIGN §6, §7), registered in RiskConfig.ready after lending's overdue flagging.

It is not a chunked step because a chunk holds only the loans due or overdue on the date: a
borrower who pays on time, or cures, before the close has no such loan and a chunk would never
see them; and one borrower's loans may sit in chunks running at the same time. Instead it reads
the limits whose time has come, through indexes:

- borrowers with a loan past due tonight (freeze, cut; reviewed again every night until cured);
- limits whose `review_on` has come: the borrower's next installment due date, set by the
  previous review (an on-time streak only grows when an installment falls due); the next close
  after a person changed the limit; every IDLE_REVIEW_DAYS when nothing of theirs falls due,
  so a loan booked since is found.

The rules are in `risk.behaviour` (pure); this module reads what they need per batch of limits
(one lock, one read each of loans, installments and proposals) and writes in bulk. Loans are
read active and written off: a written-off loan is past due no longer, yet its borrower's limit
must not come back (the rules leave that to a person). Re-running a
date changes nothing: each rule looks at the limit's state, which the first run already moved.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from lending.close_of_business.bulk import bulk_set
from lending.models import AuditEvent, Installment, Loan, LoanStatus
from lending.services.delinquency import may_be_late
from risk import behaviour
from risk.behaviour import Action, BehaviourRules, LimitState, is_on_time
from risk.models import (
    CreditLimit,
    CreditLimitChange,
    CreditPolicy,
    LimitIncreaseProposal,
    LimitStatus,
    PolicyStatus,
    ProposalStatus,
)
from risk.policy import DEFAULT_POLICY, parse_policy

REVIEW_BATCH = 1000
IDLE_REVIEW_DAYS = 30
BOOKED = (LoanStatus.ACTIVE, LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF)
OPEN_OR_LOST = (LoanStatus.ACTIVE, LoanStatus.WRITTEN_OFF)
COUNTED = {
    behaviour.FREEZE: "limits_frozen",
    behaviour.CUT: "limits_cut",
    behaviour.RESTORE: "limits_restored",
}
WITHDRAWN = "withdrawn by the nightly review: the limit was frozen for delinquency"


def _rules() -> tuple[CreditPolicy | None, BehaviourRules, Decimal]:
    """The active version's rules; the defaults if none is active (a freshly flushed database):
    a missing policy must not stop delinquent limits being frozen."""
    record = CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE).first()
    policy = parse_policy(record.definition if record else DEFAULT_POLICY)
    return record, policy.behaviour, policy.rounding


def _due_for_review(business_date: date) -> list[int]:
    open_limits = CreditLimit.objects.exclude(status=LimitStatus.CLOSED)
    scheduled = open_limits.filter(Q(review_on__isnull=True) | Q(review_on__lte=business_date))
    late = open_limits.filter(
        borrower_id__in=Loan.objects.filter(status=LoanStatus.ACTIVE, dpd__gt=0)
        .filter(may_be_late(business_date))
        .values("borrower_id")
    )
    return sorted({*scheduled.values_list("pk", flat=True), *late.values_list("pk", flat=True)})


@transaction.atomic
def limit_review(*, business_date: date) -> dict:
    """Freeze, cut, restore limits and propose increases for the date; returns the counts."""
    record, rules, rounding = _rules()
    counts = dict.fromkeys(
        ("limits_reviewed", *COUNTED.values(), "increases_proposed", "proposals_withdrawn"), 0
    )
    ids = _due_for_review(business_date)
    for start in range(0, len(ids), REVIEW_BATCH):
        batch = _Batch(ids[start : start + REVIEW_BATCH], business_date, record)
        batch.review(rules, rounding, counts)
    return counts


class _Batch:
    def __init__(self, ids: list[int], business_date: date, record: CreditPolicy | None):
        self.date, self.record, self.now = business_date, record, timezone.now()
        self.limits = [
            limit
            for limit in CreditLimit.objects.select_for_update().filter(pk__in=ids).order_by("pk")
            if limit.status != LimitStatus.CLOSED
        ]
        borrowers = [limit.borrower_id for limit in self.limits]
        self.worst: dict[int, tuple[int, str]] = {}
        self.written_off: set[int] = set()
        for borrower_id, reference, dpd, status in (
            Loan.objects.filter(borrower_id__in=borrowers, status__in=OPEN_OR_LOST)
            .order_by()
            .values_list("borrower_id", "reference", "dpd", "status")
        ):
            # A written-off loan is past due no longer, but its borrower is not cured.
            if status == LoanStatus.WRITTEN_OFF:
                self.written_off.add(borrower_id)
            elif dpd > self.worst.get(borrower_id, (0, ""))[0]:
                self.worst[borrower_id] = (dpd, reference)
        self.fallen: dict[int, list] = defaultdict(list)
        self.next_due: dict[int, date] = {}
        for borrower_id, due, settled, status in (
            Installment.objects.filter(loan__borrower_id__in=borrowers, loan__status__in=BOOKED)
            .order_by()
            .values_list("loan__borrower_id", "due_date", "settled_on", "loan__status")
        ):
            if due <= business_date:
                on_time = is_on_time(due, settled, written_off=status == LoanStatus.WRITTEN_OFF)
                self.fallen[borrower_id].append((due, settled, on_time))
            elif status == LoanStatus.ACTIVE:
                self.next_due[borrower_id] = min(due, self.next_due.get(borrower_id, due))
        self.proposals = {
            row["credit_limit_id"]: row
            for row in LimitIncreaseProposal.objects.filter(credit_limit_id__in=ids)
            .values("credit_limit_id")
            .annotate(last=Max("as_of"), open=Count("pk", filter=Q(status=ProposalStatus.PROPOSED)))
        }
        self.changes: list[CreditLimitChange] = []
        self.events: list[AuditEvent] = []
        self.new_proposals: list[LimitIncreaseProposal] = []
        self.frozen_with_proposal: list[int] = []

    def state(self, limit: CreditLimit) -> LimitState:
        dpd, loan = self.worst.get(limit.borrower_id, (0, ""))
        proposal = self.proposals.get(limit.pk, {})
        return LimitState(
            amount=limit.amount,
            status=limit.status,
            hold=limit.review_hold,
            worst_dpd=dpd,
            worst_loan=loan,
            installments=tuple(self.fallen[limit.borrower_id]),
            last_proposed_on=proposal.get("last"),
            open_proposal=bool(proposal.get("open")),
            written_off=limit.borrower_id in self.written_off,
        )

    def review(self, rules: BehaviourRules, rounding: Decimal, counts: dict) -> None:
        for limit in self.limits:
            state = self.state(limit)
            counts["limits_reviewed"] += 1
            for action in behaviour.review(state, rules, rounding):
                if action.kind == behaviour.PROPOSE:
                    self.propose(limit, action)
                    counts["increases_proposed"] += 1
                elif self.change(limit, action):
                    counts[COUNTED[action.kind]] += 1
                    if state.open_proposal and action.status == LimitStatus.FROZEN:
                        self.frozen_with_proposal.append(limit.pk)
            limit.review_on = self.next_review(limit, state)
        self.write(counts)

    def next_review(self, limit: CreditLimit, state: LimitState) -> date:
        """A late borrower is looked at every night until cured; otherwise their on-time
        streak only grows when one of their installments falls due."""
        if state.worst_dpd:
            return self.date + timedelta(days=1)
        idle = self.date + timedelta(days=IDLE_REVIEW_DAYS)
        return self.next_due.get(limit.borrower_id, idle)

    def change(self, limit: CreditLimit, action: Action) -> bool:
        """Apply a freeze, cut, restore or release; record it if amount or status moved."""
        before = (limit.amount, limit.status)
        limit.amount, limit.status, limit.review_hold = action.amount, action.status, action.hold
        if (limit.amount, limit.status) == before:
            return False  # only the hold moved (a release, or a cut of a zero limit)
        limit.updated_at = self.now
        self.changes.append(
            CreditLimitChange(
                credit_limit=limit,
                kind=action.kind,
                from_amount=before[0],
                to_amount=limit.amount,
                from_status=before[1],
                to_status=limit.status,
                reason=action.reason[:255],
                reason_message=action.why.key,
                reason_params=action.why.params,
                # The review acts on current delinquency only: not an adverse-action notice.
                adverse_action=False,
                policy=self.record,
            )
        )
        summary = f"{before[0]} {before[1]} → {limit.amount} {limit.status}: {action.reason}"
        self.events.append(self.event(f"limit.{action.kind}", limit, summary))
        return True

    def propose(self, limit: CreditLimit, action: Action) -> None:
        self.new_proposals.append(
            LimitIncreaseProposal(
                credit_limit=limit,
                as_of=self.date,
                current_amount=limit.amount,
                proposed_amount=action.amount,
                on_time_installments=action.on_time,
                reason=action.reason[:255],
                reason_message=action.why.key,
                reason_params=action.why.params,
                policy=self.record,
            )
        )

    def event(self, action: str, obj, summary: str) -> AuditEvent:
        return AuditEvent(
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            summary=summary[:255],
        )

    def write(self, counts: dict) -> None:
        bulk_set(
            CreditLimit,
            [
                (c.pk, c.amount, c.status, c.review_hold, c.review_on, c.updated_at)
                for c in self.limits
            ],
            ["amount", "status", "review_hold", "review_on", "updated_at"],
        )
        CreditLimitChange.objects.bulk_create(self.changes)
        created = LimitIncreaseProposal.objects.bulk_create(self.new_proposals)
        self.events += [self.event("limit.propose_increase", p, p.reason) for p in created]
        withdrawn = LimitIncreaseProposal.objects.filter(
            credit_limit_id__in=self.frozen_with_proposal, status=ProposalStatus.PROPOSED
        )
        for proposal in withdrawn:
            self.events.append(self.event("limit.increase_rejected", proposal, WITHDRAWN))
        counts["proposals_withdrawn"] += withdrawn.update(
            status=ProposalStatus.REJECTED, decided_at=self.now, decision_note=WITHDRAWN
        )
        AuditEvent.objects.bulk_create(self.events)
