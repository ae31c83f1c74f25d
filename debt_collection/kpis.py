"""The collections KPIs (issue 10): reads only, for the KPI page and later the API.

Open cases by bucket and by queue; roll rates month over month from lending's bucket history
(pure `rolls`); the cure rate; promises kept and broken; compliance refusals per collector.
Recovered amounts after write-off per collector and queue (`recovered_by_collector_and_queue`).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Q, Sum

from debt_collection import rolls
from debt_collection.concession_selectors import recoveries_with_case
from debt_collection.models import (
    Case,
    CaseStatus,
    CloseReason,
    ComplianceRefusal,
    PromiseState,
    PromiseToPay,
    Queue,
    RollCount,
)
from lending.models import BucketChange
from lending.money import quantize_money, share
from lending.services.delinquency import bucket_table


def open_cases_by_bucket() -> list[dict]:
    order = {b.code: n for n, b in enumerate(bucket_table(checked=False))}
    rows = (
        Case.objects.filter(status=CaseStatus.OPEN)
        .values("bucket")
        .annotate(cases=Count("pk"), overdue=Sum("overdue_amount"))
    )
    rows = sorted(rows, key=lambda r: (order.get(r["bucket"], len(order)), r["bucket"]))
    return _in_money(rows, "overdue")


def open_cases_by_queue() -> list[dict]:
    """Queue name None: not (yet) in a queue."""
    rows = (
        Case.objects.filter(status=CaseStatus.OPEN)
        .values("queue__name")
        .annotate(cases=Count("pk"), overdue=Sum("overdue_amount"))
        .order_by("queue__name")
    )
    return _in_money(rows, "overdue")


def _in_money(rows, field: str) -> list[dict]:
    """Sums to the currency's minor unit (SQLite adds decimals as floats: 32669.8200000000)."""
    return [{**row, field: quantize_money(row[field] or 0)} for row in rows]


# Each loan's bucket at each month end (the `to` of its last change by then: the one whose next
# change, if any, comes after the end) beside its bucket at the end before, counted per pair.
# A loan with a change by one end has a bucket at every later end, so the one before is k - 1.
# In the database: reading every bucket change into Python took 5 s at a million loans. Of two
# changes of a loan on one date the later (higher id) is its bucket.
_ROLL_COUNTS = """
WITH moves AS (
    SELECT loan_id, business_date AS since, to_bucket AS bucket,
           LEAD(business_date) OVER (PARTITION BY loan_id ORDER BY business_date, id) AS next_move
    FROM {changes}
    WHERE business_date <= %s
),
ends (k, month_end) AS (VALUES {ends}),
held AS (
    SELECT ends.k, moves.bucket,
           LAG(moves.bucket) OVER (PARTITION BY moves.loan_id ORDER BY ends.k) AS before
    FROM moves JOIN ends
      ON moves.since <= ends.month_end
     AND (moves.next_move IS NULL OR moves.next_move > ends.month_end)
)
SELECT k - 1, before, bucket, COUNT(*)
FROM held
WHERE before IS NOT NULL
GROUP BY k, before, bucket
"""


# The months of roll counts each night stores (the KPI page's and the dashboard's).
STORED_ROLL_MONTHS = 6


def roll_rates(*, until: date, months: int = 6) -> list[rolls.Roll]:
    """Month over month for the `months` months up to `until`'s month.

    A closed night's date reads the counts that night stored (`services.roll_counts`): a few dozen
    rows, whatever the book. Any other date counts the bucket history (1.5 s at a million
    loans), kept in the cache until a bucket changes: the history only grows (the night appends
    its moves, a repayment its own), so the newest change's id says whether the figures hold."""
    ends = rolls.month_ends(until, months)
    if months <= STORED_ROLL_MONTHS:
        stored = RollCount.objects.filter(business_date=until).values_list(
            "month_end", "from_bucket", "to_bucket", "loans"
        )
        counts = {(end, here, there): n for end, here, there, n in stored}
        if counts:
            return _rolls({key: n for key, n in counts.items() if key[0] >= ends[0]}, ends)
    newest = BucketChange.objects.aggregate(newest=Max("pk"))["newest"]
    key = f"collections:roll_rates:{newest}:{until.isoformat()}:{months}"
    found = cache.get(key)
    if found is None:
        found = _rolls(roll_counts(until=until, months=months), ends)
        cache.set(key, found, timeout=24 * 3600)
    return found


def _rolls(counts, ends) -> list[rolls.Roll]:
    return rolls.rolls_from_counts(counts, [b.code for b in bucket_table(checked=False)], ends)


def roll_counts(*, until: date, months: int) -> dict[tuple[date, str, str], int]:
    """(a month end, a loan's bucket then, its bucket at the next month end) -> loans."""
    ends = rolls.month_ends(until, months)
    sql = _ROLL_COUNTS.format(
        changes=connection.ops.quote_name(BucketChange._meta.db_table),
        ends=", ".join(f"({k}, %s)" for k in range(len(ends))),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ends[-1], *ends])
        return {(ends[k], here, there): n for k, here, there, n in cursor.fetchall()}


@dataclass(frozen=True)
class Cure:
    cases: int  # open at some time in the period
    cured: int  # of them, closed cured inside it

    @property
    def rate(self) -> Decimal | None:
        return share(self.cured, self.cases)


def cure_rate(*, since: date, until: date) -> Cure:
    """Of the cases open at any time from `since` to `until`, the share closed cured in it."""
    cases = Case.objects.filter(opened_on__lte=until).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=since)
    )
    cured = cases.filter(close_reason=CloseReason.CURED, closed_on__gte=since, closed_on__lte=until)
    return Cure(cases.count(), cured.count())


def promises() -> dict:
    """Promises by state; the kept rate counts only the decided ones (kept + broken)."""
    counts = dict(PromiseToPay.objects.values_list("state").annotate(n=Count("pk")))
    kept, broken = counts.get(PromiseState.KEPT, 0), counts.get(PromiseState.BROKEN, 0)
    return {
        "pending": counts.get(PromiseState.PENDING, 0),
        "kept": kept,
        "broken": broken,
        "kept_rate": share(kept, kept + broken),
    }


def refusals_by_collector() -> list[dict]:
    """Compliance refusals per collector and rule, most first."""
    return list(
        ComplianceRefusal.objects.values("collector__username", "rule")
        .annotate(refusals=Count("pk"))
        .order_by("-refusals", "collector__username", "rule")
    )


def recovered_by_collector_and_queue() -> list[dict]:
    """Recovered amounts after write-off per collector and queue of the case that ended in the
    write-off, most first (a loan written off without a case shows neither)."""
    rows = (
        recoveries_with_case()
        .values("collector_id", "queue_id")
        .annotate(amount=Sum("amount"))
        .order_by("-amount", "collector_id", "queue_id")
    )
    users = dict(
        get_user_model()
        .objects.filter(pk__in={r["collector_id"] for r in rows})
        .values_list("pk", "username")
    )
    queues = dict(
        Queue.objects.filter(pk__in={r["queue_id"] for r in rows}).values_list("pk", "name")
    )
    return [
        {
            "collector": users.get(r["collector_id"], "—"),
            "queue": queues.get(r["queue_id"], "—"),
            "amount": quantize_money(r["amount"]),
        }
        for r in rows
    ]
