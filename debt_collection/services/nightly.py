"""The nightly collection-cases step (chunked, after lending's overdue flagging, DESIGN §6).

For each chunk of due-or-overdue loans, in the chunk's transaction:

1. open a case for every active loan past due (dpd > 0 after flagging: past grace and
   tolerance) that has none; bring open cases' dpd, bucket and amounts up to date; close the
   ones whose loan is cured, paid off or written off, with the reason. On PostgreSQL this is a
   handful of SQL statements (`debt_collection.set_based`); elsewhere one read per table and
   bulk writes (`_sync_by_rows`). Both write the same rows (tests hold them equal);
2. for the chunk's open cases, the priority (pure `priority`) and the queue for the bucket;
   a case that is new, changed queue, or lost its collector goes to the member with the fewest
   open cases (pure `assignment`); a case keeps its collector while it stays in its queue.
   Each hand-out is a CaseAssignment row. Cases a manager sent to an outside agency stay there.

Re-running a date finds every case as the first run left it and changes nothing.
"""

from datetime import date

from django.conf import settings
from django.db import connection
from django.utils import timezone

from debt_collection import assignment, set_based
from debt_collection.models import Case, CaseAssignment, CaseStatus, Queue
from debt_collection.selectors import case_priority, jsonish, overdue_amounts
from debt_collection.services.cases import close_reason_for, member_loads
from lending.close_of_business.bulk import bulk_set
from lending.models import Loan
from lending.services.delinquency import bucket_table

NIGHTLY_REASON = "nightly: bucket %(bucket)s → queue %(queue)s"


def set_based_sql() -> bool:
    return connection.vendor == "postgresql"


def collection_cases(*, business_date: date, loan_ids: list[int]) -> dict:
    if set_based_sql():
        counts = set_based.sync_cases(
            business_date=business_date, loan_ids=loan_ids, time_zone=settings.TIME_ZONE
        )
    else:
        counts = _sync_by_rows(business_date, loan_ids)
    counts |= _prioritise_and_assign(business_date, loan_ids)
    return counts


def _sync_by_rows(business_date: date, loan_ids: list[int]) -> dict:
    open_cases = {
        c.loan_id: c
        for c in Case.objects.select_for_update()
        .filter(loan_id__in=loan_ids, status=CaseStatus.OPEN)
        .order_by("pk")
    }
    loans = list(
        Loan.objects.filter(pk__in=loan_ids)
        .order_by("pk")
        .only(
            "pk",
            "borrower_id",
            "status",
            "dpd",
            "bucket",
            "principal_outstanding",
            "interest_outstanding",
            "fee_outstanding",
            "penalty_outstanding",
        )
    )
    overdue = overdue_amounts(loan_ids, business_date)
    opened, updated, closed = [], [], []
    for loan in loans:
        case = open_cases.get(loan.pk)
        reason = close_reason_for(loan.status, loan.dpd)
        if case is not None and reason:
            case.status, case.close_reason, case.closed_on = (
                CaseStatus.CLOSED,
                reason,
                business_date,
            )
            closed.append(case)
        elif reason is None:
            figures = {
                "dpd": loan.dpd,
                "bucket": loan.bucket,
                "overdue_amount": overdue.get(loan.pk, 0),
                "total_outstanding": loan.total_outstanding,
                "updated_on": business_date,
            }
            if case is None:
                opened.append(
                    Case(
                        loan_id=loan.pk,
                        borrower_id=loan.borrower_id,
                        opened_on=business_date,
                        time_zone=settings.TIME_ZONE,
                        **figures,
                    )
                )
            else:
                for name, value in figures.items():
                    setattr(case, name, value)
                updated.append(case)
    bulk_set(
        Case,
        [(c.pk, c.status, c.close_reason, c.closed_on) for c in closed],
        ["status", "close_reason", "closed_on"],
    )
    bulk_set(
        Case,
        [
            (c.pk, c.dpd, c.bucket, c.overdue_amount, c.total_outstanding, c.updated_on)
            for c in updated
        ],
        ["dpd", "bucket", "overdue_amount", "total_outstanding", "updated_on"],
    )
    Case.objects.bulk_create(opened, batch_size=1000)
    return {"cases_opened": len(opened), "cases_closed": len(closed)}


def _bucket_rank() -> dict[str, int]:
    return {bucket.code: n for n, bucket in enumerate(bucket_table(checked=False))}


def queue_for(bucket: str, queues: list[Queue], rank: dict[str, int]) -> Queue | None:
    """The first active queue (by name) whose bucket range holds `bucket`."""
    here = rank.get(bucket)
    if here is None:
        return None
    for queue in queues:
        low = rank.get(queue.from_bucket)
        high = rank.get(queue.to_bucket) if queue.to_bucket else None
        if low is None or (queue.to_bucket and high is None):
            continue  # a range naming a bucket that no longer exists routes nothing
        if low <= here and (high is None or here <= high):
            return queue
    return None


def _prioritise_and_assign(business_date: date, loan_ids: list[int]) -> dict:
    # Queues are locked in a fixed order so chunks running at once hand out cases one after
    # the other and each sees the loads the previous one left.
    queues = list(
        Queue.objects.select_for_update()
        .filter(active=True, outside_agency=False)
        .exclude(from_bucket="")
        .order_by("name", "pk")
    )
    members = {q.pk: [] for q in queues}
    for queue_id, user_id in Queue.members.through.objects.filter(
        queue_id__in=members, user__is_active=True
    ).values_list("queue_id", "user_id"):
        members[queue_id].append(user_id)
    cases = list(
        Case.objects.filter(loan_id__in=loan_ids, status=CaseStatus.OPEN)
        .select_related("queue")
        .order_by("-dpd", "pk")
    )
    rank = _bucket_rank()
    rescored, moving = [], []
    for case in cases:
        score = case_priority(case, business_date)
        if (score.score, score.parts) != (case.priority, case.priority_parts):
            case.priority, case.priority_parts = score.score, score.parts
            rescored.append(case)
        if case.queue is not None and case.queue.outside_agency:
            continue  # a manager's decision; the night leaves it there
        target = queue_for(case.bucket, queues, rank)
        if target is None:
            continue
        stays = case.queue_id == target.pk and case.collector_id in members[target.pk]
        if not stays and (case.queue_id != target.pk or members[target.pk]):
            moving.append((case, target))
    loads = member_loads({u for ids in members.values() for u in ids})
    now = timezone.now()
    records = []
    for target in queues:
        group = [c for c, t in moving if t.pk == target.pk]
        if not group:
            continue
        team = [loads[u] for u in members[target.pk]]
        chosen = assignment.assign([c.pk for c in group], team)
        for case in group:
            collector = chosen.get(case.pk)
            records.append(
                CaseAssignment(
                    case=case,
                    queue=target,
                    collector_id=collector,
                    from_collector_id=case.collector_id,
                    assigned_at=now,
                    business_date=business_date,
                    reason=NIGHTLY_REASON % {"bucket": case.bucket, "queue": target.name},
                )
            )
            case.queue, case.collector_id = target, collector
            case.assigned_at = now if collector else None
            if collector:  # the next chunk's loads include this one
                old = loads[collector]
                loads[collector] = assignment.Member(old.id, old.open_cases + 1, now)
    bulk_set(
        Case,
        [(c.pk, c.priority, jsonish(c.priority_parts)) for c in rescored],
        ["priority", "priority_parts"],
    )
    bulk_set(
        Case,
        [(c.pk, c.queue_id, c.collector_id, c.assigned_at) for c, _ in moving],
        ["queue_id", "collector_id", "assigned_at"],
    )
    CaseAssignment.objects.bulk_create(records, batch_size=1000)
    return {"cases_rescored": len(rescored), "cases_assigned": len(records)}
