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
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone

from debt_collection import assignment, set_based
from debt_collection.models import Case, CaseAssignment, CaseStatus, Queue
from debt_collection.selectors import case_priority, jsonish
from debt_collection.services.cases import close_reason_for, member_loads
from lending.close_of_business.bulk import bulk_set
from lending.models import Loan
from lending.selectors import overdue_amounts
from lending.services.delinquency import bucket_table

NIGHTLY_REASON = "nightly: bucket %(bucket)s → queue %(queue)s"


def set_based_sql() -> bool:
    return connection.vendor == "postgresql"


def collection_cases(*, business_date: date, loan_ids: list[int]) -> dict:
    if set_based_sql():
        counts = set_based.sync_cases(
            business_date=business_date, loan_ids=loan_ids, time_zone=settings.TIME_ZONE
        )
        return counts | _assign_set_based(business_date, loan_ids)
    counts = _sync_by_rows(business_date, loan_ids)
    return counts | _prioritise_and_assign(business_date, loan_ids)


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


class Hand(NamedTuple):
    """A case to hand out: what the hand-out reads of it."""

    pk: int
    bucket: str
    collector_id: int | None


def _queues_and_members() -> tuple[list[Queue], dict[int, list[int]]]:
    # Queues are locked in a fixed order so chunks running at once hand out cases one after
    # the other and each sees the loads the previous one left.
    queues = list(
        Queue.objects.select_for_update()
        .filter(active=True, outside_agency=False)
        .exclude(from_bucket="")
        .order_by("name", "pk")
    )
    members = {q.pk: [] for q in queues}
    for queue_id, user_id in (
        Queue.members.through.objects.filter(queue_id__in=members, user__is_active=True)
        .order_by("queue_id", "user_id")
        .values_list("queue_id", "user_id")
    ):
        members[queue_id].append(user_id)
    return queues, members


def _prioritise_and_assign(business_date: date, loan_ids: list[int]) -> dict:
    """The portable path: every open case of the chunk read, scored and routed in Python."""
    queues, members = _queues_and_members()
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
            moving.append((Hand(case.pk, case.bucket, case.collector_id), target))
    bulk_set(
        Case,
        [(c.pk, c.priority, jsonish(c.priority_parts)) for c in rescored],
        ["priority", "priority_parts"],
    )
    loads = member_loads({u for ids in members.values() for u in ids})
    return {"cases_rescored": len(rescored)} | _hand_out(
        business_date, moving, queues, members, loads
    )


def _assign_set_based(business_date: date, loan_ids: list[int]) -> dict:
    """PostgreSQL: the priority is already written (`set_based.sync_cases`); one statement
    finds and locks the cases to hand out, by the same rule as the portable path, and only
    those (on a usual night, the new and re-bucketed ones) come to Python."""
    queues, members = _queues_and_members()
    rank = _bucket_rank()
    route = {}
    for bucket in rank:
        target = queue_for(bucket, queues, rank)
        if target is not None:
            route[bucket] = target.pk
    by_id = {q.pk: q for q in queues}
    moving = [
        (Hand(pk, bucket, collector_id), by_id[target])
        for pk, bucket, _queue_id, collector_id, target in set_based.moving_cases(
            business_date=business_date,
            loan_ids=loan_ids,
            time_zone=settings.TIME_ZONE,
            route=route,
            members=members,
        )
    ]
    if not moving:
        return {"cases_assigned": 0}
    wanted = {u for _, target in moving for u in members[target.pk]}
    loads = {
        u: assignment.Member(u, n, at) for u, (n, at) in set_based.member_loads(wanted).items()
    }
    return _hand_out(business_date, moving, queues, members, loads)


def _hand_out(business_date: date, moving, queues, members, loads) -> dict:
    """Each moving case to its target queue's member with the fewest open cases (pure
    `assignment`), queue by queue in name order; each hand-out a CaseAssignment row."""
    now = timezone.now()
    records, writes = [], []
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
                    case_id=case.pk,
                    queue=target,
                    collector_id=collector,
                    from_collector_id=case.collector_id,
                    assigned_at=now,
                    business_date=business_date,
                    reason=NIGHTLY_REASON % {"bucket": case.bucket, "queue": target.name},
                )
            )
            writes.append((case.pk, target.pk, collector, now if collector else None))
            if collector:  # the next queue's loads include this one
                old = loads[collector]
                loads[collector] = assignment.Member(old.id, old.open_cases + 1, now)
    bulk_set(Case, writes, ["queue_id", "collector_id", "assigned_at"])
    CaseAssignment.objects.bulk_create(records, batch_size=1000)
    return {"cases_assigned": len(records)}
