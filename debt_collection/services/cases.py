"""Keeping a case current when money moves, and managers' reassignment."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from debt_collection import assignment
from debt_collection.access import CollectionsPerm
from debt_collection.models import Case, CaseAssignment, CaseStatus, CloseReason, Queue
from debt_collection.selectors import case_priority
from debt_collection.services.common import lock_case
from lending.access import require, stored_user
from lending.close_of_business.bulk import bulk_insert, bulk_save, fetch_instances, pipelined
from lending.errors import LendingError, LendingErrorCode
from lending.models import Loan, LoanStatus
from lending.selectors import overdue_amounts
from lending.services.audit import audit_event, audit_log
from lending.validation import clean_text


def close_reason_for(status: str, dpd: int, status_reason: str = "") -> str | None:
    """Why a case closes, from its loan (None: it stays open)."""
    if status == LoanStatus.CLOSED:
        # lending.services.concessions.SETTLED: closed by a paid settlement.
        return CloseReason.SETTLED if status_reason == "settled" else CloseReason.PAID_OFF
    if status == LoanStatus.WRITTEN_OFF:
        return CloseReason.WRITTEN_OFF
    if status != LoanStatus.ACTIVE or dpd == 0:
        return CloseReason.CURED
    return None


def case_money_moved(*, loan: Loan, acting_user) -> None:
    """lending's money-moved hook: inside the posting's transaction, with the loan locked and
    its dpd current. Closes the loan's open case (paid off, written off, cured) or brings its
    figures up to date. Cases are opened only by the nightly run."""
    cases_money_moved(loans=[loan], acting_user=acting_user)


CASE_FIGURES = [
    "dpd",
    "bucket",
    "overdue_amount",
    "total_outstanding",
    "priority",
    "priority_parts",
]


def cases_money_moved(*, loans: list[Loan], acting_user) -> None:
    """case_money_moved for many loans at once (a batch of repayments): the open cases read,
    closed and brought up to date in one statement each, whatever the number of loans."""
    by_id = {loan.pk: loan for loan in loans}
    cases = fetch_instances(
        Case.objects.select_for_update()
        .filter(loan_id__in_array=list(by_id), status=CaseStatus.OPEN)
        .order_by("pk")
    )
    if not cases:
        return
    today = timezone.localdate()
    closing, current = [], []
    for case in cases:
        loan = by_id[case.loan_id]
        reason = close_reason_for(loan.status, loan.dpd, loan.status_reason)
        if reason:
            case.status, case.close_reason, case.closed_on = CaseStatus.CLOSED, reason, today
            closing.append(case)
        else:
            current.append(case)
    if current:
        _figures_from_loans(current, by_id)  # reads the overdue amounts: before the writes
    # Sent without waiting for one another; the audit events last (they take their ids back).
    with pipelined():
        bulk_save(closing, ["status", "close_reason", "closed_on"])
        bulk_save(current, CASE_FIGURES)
        bulk_insert(
            [
                audit_event(
                    actor=acting_user,
                    action="case.close",
                    obj=case,
                    summary=str(case.close_reason),
                    data={"loan": case.loan_id},
                )
                for case in closing
            ]
        )


def _figures_from_loans(cases: list[Case], by_id: dict[int, Loan]) -> None:
    today = timezone.localdate()
    as_of = {case.pk: by_id[case.loan_id].dpd_as_of or today for case in cases}
    overdue = {}
    for day in set(as_of.values()):  # one date in practice: the last closed night
        ids = [case.loan_id for case in cases if as_of[case.pk] == day]
        overdue.update(overdue_amounts(ids, day))
    for case in cases:
        loan = by_id[case.loan_id]
        case.dpd, case.bucket = loan.dpd, loan.bucket
        case.overdue_amount = overdue.get(loan.pk, case.overdue_amount)
        case.total_outstanding = loan.total_outstanding
        score = case_priority(case, as_of[case.pk])
        case.priority, case.priority_parts = score.score, score.parts


def member_loads(member_ids: Iterable[int]) -> dict[int, assignment.Member]:
    """Each collector's open cases and latest assignment (two reads, whatever the count)."""
    ids = list(member_ids)
    loads = dict(
        Case.objects.filter(status=CaseStatus.OPEN, collector_id__in=ids)
        .values("collector_id")
        .annotate(n=Count("pk"))
        .values_list("collector_id", "n")
    )
    latest = dict(
        CaseAssignment.objects.filter(collector_id__in=ids)
        .values("collector_id")
        .annotate(at=Max("assigned_at"))
        .values_list("collector_id", "at")
    )
    return {i: assignment.Member(i, loads.get(i, 0), latest.get(i)) for i in ids}


@transaction.atomic
def case_reassign(
    *, case_ids: list[int], reason: str, acting_user, queue_id=None, collector_id=None
) -> list[CaseAssignment]:
    """Hand cases to another queue and/or collector (a manager's work). Without a collector the
    queue's member with the fewest open cases takes each one. Every hand-out is recorded."""
    require(acting_user, CollectionsPerm.REASSIGN_CASE, to=_("reassign cases"))
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    if not case_ids:
        raise LendingError(LendingErrorCode.REQUIRED, _("select at least one case"), field="case")
    queue = None
    if queue_id is not None:
        queue = Queue.objects.filter(pk=queue_id, active=True).first()
        if queue is None:
            raise LendingError(
                LendingErrorCode.NOT_FOUND, _("no active queue %s") % queue_id, field="queue"
            )
    cases = [lock_case(pk, acting_user) for pk in sorted(set(case_ids))]
    collector = None
    if collector_id is not None:
        collector = get_user_model().objects.filter(pk=collector_id, is_active=True).first()
        if collector is None:
            raise LendingError(
                LendingErrorCode.NOT_FOUND,
                _("no active user %s") % collector_id,
                field="collector",
            )
    now = timezone.now()
    records = []
    pending = []  # cases whose collector the workload rule picks
    for case in cases:
        target = queue or case.queue
        if collector is not None and (
            target is None or not target.members.filter(pk=collector.pk).exists()
        ):
            raise LendingError(
                LendingErrorCode.INVALID,
                _("%(user)s is not a member of queue %(queue)s")
                % {"user": collector, "queue": target or "—"},
                field="collector",
            )
        if collector is None:
            pending.append((case, target))
        else:
            records.append(_hand_out(case, target, collector.pk, now, reason, acting_user))
    by_queue: dict = {}
    for case, target in pending:
        by_queue.setdefault(target, []).append(case)
    for target, group in by_queue.items():
        members = list(target.members.filter(is_active=True).values_list("pk", flat=True))
        if not members:
            raise LendingError(
                LendingErrorCode.INVALID,
                _("queue %s has no collectors; choose a collector") % target,
                field="collector",
            )
        chosen = assignment.assign([c.pk for c in group], list(member_loads(members).values()))
        for case in group:
            records.append(_hand_out(case, target, chosen[case.pk], now, reason, acting_user))
    return records


def _hand_out(case: Case, queue, collector_id, now, reason, acting_user) -> CaseAssignment:
    record = CaseAssignment.objects.create(
        case=case,
        queue=queue,
        collector_id=collector_id,
        from_collector_id=case.collector_id,
        assigned_by=stored_user(acting_user),
        assigned_at=now,
        reason=reason,
    )
    case.queue, case.collector_id, case.assigned_at = queue, collector_id, now
    case.save(update_fields=["queue", "collector", "assigned_at"])
    audit_log(
        actor=acting_user,
        action="case.reassign",
        obj=case,
        summary=reason,
        data={
            "queue": getattr(queue, "pk", None),
            "collector": collector_id,
            "from_collector": record.from_collector_id,
        },
    )
    return record
