"""The nightly case step as set-based SQL per chunk (PostgreSQL).

The rules are `debt_collection.services.cases.close_reason_for`, the pure `priority` and the
portable `services.nightly._sync_by_rows` / `_prioritise_and_assign`; these statements apply them
to every loan of a chunk at once (tests hold both paths to the same rows). Whatever the chunk's
size, a chunk costs:

- one statement that closes, updates and opens: a CTE gathers each loan's figures (one pass over
  its overdue installments), one ``UPDATE … FROM`` closes the open cases whose loan is cured,
  paid off or written off and brings every other open case's figures and priority up to date,
  and one ``INSERT … ON CONFLICT DO NOTHING`` (the one-open-case-per-loan index as arbiter) opens
  a case, with its priority, for every delinquent loan that has none;
- one statement that finds and locks the cases to hand out (new, changed queue, or lost their
  collector), so Python only ever sees those, not the chunk's every case;
- when there are any: one read of the collectors' loads, one UPDATE and one INSERT.

No lock is taken on the chunk's cases beforehand. The chunk's loans are already locked by
lending's flagging in this transaction, and the only writer that closes a case or changes its
figures outside the night, the money-moved hook, locks the loan first, so it waits for the
chunk. The other writers (a contact logged, a promise recorded or judged, a manager's
reassignment) lock the case row itself; the single UPDATE takes each row's lock as it writes it
and, under READ COMMITTED, re-reads a row another transaction changed meanwhile and computes the
priority from that newest version (its last contact, its broken promises), so nothing they
wrote is lost. The hand-out is a read, then a write: those few rows are locked by the read
(FOR UPDATE), so a reassignment cannot slip in between.
"""

from datetime import date

from django.db import connection

from debt_collection import priority
from debt_collection.models import CaseStatus, CloseReason
from lending.models import LoanStatus

CONSTANTS = {
    "open": CaseStatus.OPEN.value,
    "closed": CaseStatus.CLOSED.value,
    "active": LoanStatus.ACTIVE.value,
    "loan_closed": LoanStatus.CLOSED.value,
    "loan_written_off": LoanStatus.WRITTEN_OFF.value,
    "paid_off": CloseReason.PAID_OFF.value,
    "written_off": CloseReason.WRITTEN_OFF.value,
    "cured": CloseReason.CURED.value,
    # debt_collection.priority's scale, from where it is defined
    "dpd_full": priority.DPD_FULL,
    "dpd_points": priority.DPD_POINTS,
    "amount_full": priority.AMOUNT_FULL,
    "amount_points": priority.AMOUNT_POINTS,
    "promise_points": priority.PROMISE_POINTS,
    "promises_counted": priority.PROMISES_COUNTED,
    "quiet_full": priority.QUIET_FULL,
    "quiet_points": priority.QUIET_POINTS,
}


def priority_parts_sql(dpd: str, amount: str, broken: str, contact: str) -> dict[str, str]:
    """`debt_collection.priority.priority` as SQL expressions (whole points, rounded down).
    `contact` is a timestamptz column or NULL (never contacted); days since it are counted in
    the project's time zone, as `selectors.days_since` does."""
    quiet = (
        f"CASE WHEN {contact} IS NULL THEN %(quiet_full)s "
        f"ELSE least(greatest(%(d)s::date - ({contact} AT TIME ZONE %(tz)s::text)::date, 0), "
        "%(quiet_full)s) END"
    )
    return {
        "dpd": f"(least(greatest({dpd}, 0), %(dpd_full)s) * %(dpd_points)s / %(dpd_full)s)",
        "amount": f"floor(least(greatest({amount}, 0), %(amount_full)s) * %(amount_points)s"
        " / %(amount_full)s)::int",
        "broken_promises": f"(least(greatest({broken}, 0), %(promises_counted)s)"
        " * %(promise_points)s)",
        "no_contact": f"(({quiet}) * %(quiet_points)s / %(quiet_full)s)",
    }


def priority_sql(dpd: str, amount: str, broken: str, contact: str) -> tuple[str, str]:
    """(score, parts as jsonb) for the same inputs."""
    parts = priority_parts_sql(dpd, amount, broken, contact)
    score = " + ".join(parts.values())
    obj = ", ".join(f"'{name}', {expr}" for name, expr in parts.items())
    return f"({score})", f"jsonb_build_object({obj})"


_UPDATE_SCORE, _UPDATE_PARTS = priority_sql(
    "f.dpd", "f.overdue", "c.broken_promises", "c.last_contact_at"
)
_OPEN_SCORE, _OPEN_PARTS = priority_sql("dpd", "overdue", "0", "NULL")

# One statement: the figures, then close / update in one UPDATE and open in one INSERT. The
# INSERT cannot see the UPDATE's rows (same snapshot), so it skips the loans the UPDATE touched
# by their RETURNING; ON CONFLICT keeps the one-open-case rule should any other remain.
SYNC_SQL = f"""
WITH figures AS (
    SELECT l.id AS loan_id, l.borrower_id, l.status, l.dpd, l.bucket,
           l.principal_outstanding + l.interest_outstanding + l.fee_outstanding
               + l.penalty_outstanding AS total,
           coalesce(o.amount, 0) AS overdue,
           (l.status = %(active)s AND l.dpd > 0) AS delinquent,
           oc.priority AS old_priority, oc.priority_parts AS old_parts
    FROM lending_loan l
    LEFT JOIN (
        SELECT loan_id, sum(principal_due - principal_settled + interest_due - interest_settled
                            + fee_due - fee_settled + penalty_due - penalty_settled) AS amount
        FROM lending_installment
        WHERE loan_id = ANY(%(ids)s) AND due_date < %(d)s AND settled_on IS NULL
        GROUP BY loan_id
    ) o ON o.loan_id = l.id
    LEFT JOIN collections_case oc ON oc.loan_id = l.id AND oc.status = %(open)s
    WHERE l.id = ANY(%(ids)s)
), synced AS (
    UPDATE collections_case c
       SET status = CASE WHEN f.delinquent THEN c.status ELSE %(closed)s END,
           closed_on = CASE WHEN f.delinquent THEN c.closed_on ELSE %(d)s::date END,
           close_reason = CASE WHEN f.delinquent THEN c.close_reason
                               WHEN f.status = %(loan_closed)s THEN %(paid_off)s
                               WHEN f.status = %(loan_written_off)s THEN %(written_off)s
                               ELSE %(cured)s END,
           dpd = CASE WHEN f.delinquent THEN f.dpd ELSE c.dpd END,
           bucket = CASE WHEN f.delinquent THEN f.bucket ELSE c.bucket END,
           overdue_amount = CASE WHEN f.delinquent THEN f.overdue ELSE c.overdue_amount END,
           total_outstanding = CASE WHEN f.delinquent THEN f.total ELSE c.total_outstanding END,
           updated_on = CASE WHEN f.delinquent THEN %(d)s::date ELSE c.updated_on END,
           priority = CASE WHEN f.delinquent THEN {_UPDATE_SCORE} ELSE c.priority END,
           priority_parts = CASE WHEN f.delinquent THEN {_UPDATE_PARTS}
                                 ELSE c.priority_parts END
      FROM figures f
     WHERE c.loan_id = f.loan_id AND c.status = %(open)s
    RETURNING c.loan_id, c.status, c.priority, c.priority_parts
), opened AS (
    INSERT INTO collections_case
        (loan_id, borrower_id, status, close_reason, opened_on, dpd, bucket, overdue_amount,
         total_outstanding, time_zone, priority, priority_parts, broken_promises, updated_on)
    SELECT loan_id, borrower_id, %(open)s, '', %(d)s, dpd, bucket, overdue, total, %(tz)s::text,
           {_OPEN_SCORE}, {_OPEN_PARTS}, 0, %(d)s
    FROM figures
    WHERE delinquent AND loan_id NOT IN (SELECT loan_id FROM synced)
    ORDER BY loan_id
    ON CONFLICT (loan_id) WHERE status = %(open)s DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM opened),
       (SELECT count(*) FROM synced WHERE status = %(closed)s),
       (SELECT count(*) FROM synced s JOIN figures f ON f.loan_id = s.loan_id
         WHERE s.status = %(open)s
           AND (s.priority, s.priority_parts) IS DISTINCT FROM (f.old_priority, f.old_parts))
       + (SELECT count(*) FROM opened)
"""

# The chunk's open cases the night hands out, locked, in the order the hand-out takes them:
# the first active, in-house queue (by name) whose bucket range holds the case's bucket is its
# target (`services.nightly.queue_for`, resolved per bucket by the caller); a case moves when
# it is not in that queue, or is but its collector is no longer one of the queue's members
# (and the queue has members). Cases a manager sent to an outside agency stay there.
MOVING_SQL = """
SELECT c.id, c.bucket, c.queue_id, c.collector_id, r.queue_id
FROM collections_case c
JOIN unnest(%(route_buckets)s::text[], %(route_queues)s::bigint[]) AS r(bucket, queue_id)
  ON r.bucket = c.bucket
LEFT JOIN collections_queue q ON q.id = c.queue_id
WHERE c.loan_id = ANY(%(ids)s) AND c.status = %(open)s
  AND NOT coalesce(q.outside_agency, false)
  AND (c.queue_id IS DISTINCT FROM r.queue_id
       OR (NOT coalesce(c.collector_id = ANY(
                 SELECT m.user_id
                 FROM unnest(%(member_queues)s::bigint[], %(member_users)s::bigint[])
                      AS m(queue_id, user_id)
                 WHERE m.queue_id = r.queue_id), false)
           AND r.queue_id = ANY(%(staffed)s::bigint[])))
ORDER BY c.dpd DESC, c.id
FOR UPDATE OF c
"""

# Each collector's open cases and latest hand-out (`services.cases.member_loads`): the latest
# through the (collector, assigned_at) index, one probe per collector.
LOADS_SQL = """
SELECT u.id,
       (SELECT count(*) FROM collections_case c
         WHERE c.status = %(open)s AND c.collector_id = u.id),
       (SELECT max(a.assigned_at) FROM collections_caseassignment a WHERE a.collector_id = u.id)
FROM unnest(%(users)s::bigint[]) AS u(id)
"""


def _params(business_date: date, loan_ids: list[int], time_zone: str) -> dict:
    if not connection.in_atomic_block:
        raise RuntimeError("the set-based steps run inside the chunk's transaction")
    return {**CONSTANTS, "d": business_date, "ids": list(loan_ids), "tz": time_zone}


def sync_cases(*, business_date: date, loan_ids: list[int], time_zone: str) -> dict:
    """Close, update (with the priority) and open the chunk's cases: one statement."""
    params = _params(business_date, loan_ids, time_zone)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(SYNC_SQL, params)
        opened, closed, rescored = cursor.fetchone()
    return {"cases_opened": opened, "cases_closed": closed, "cases_rescored": rescored}


def moving_cases(
    *,
    business_date: date,
    loan_ids: list[int],
    time_zone: str,
    route: dict[str, int],
    members: dict[int, list[int]],
) -> list[tuple]:
    """(case id, bucket, queue id, collector id, target queue id) of the cases to hand out,
    locked, ordered by dpd descending then id. `route`: bucket code -> target queue id;
    `members`: queue id -> its active members' ids."""
    pairs = [(q, u) for q, users in members.items() for u in users]
    params = _params(business_date, loan_ids, time_zone) | {
        "route_buckets": list(route),
        "route_queues": list(route.values()),
        "member_queues": [q for q, _ in pairs],
        "member_users": [u for _, u in pairs],
        "staffed": [q for q, users in members.items() if users],
    }
    with connection.cursor() as cursor:
        cursor.execute(MOVING_SQL, params)
        return cursor.fetchall()


def member_loads(user_ids) -> dict[int, tuple[int, object]]:
    """user id -> (open cases, latest assignment or None)."""
    with connection.cursor() as cursor:
        cursor.execute(LOADS_SQL, {"open": CaseStatus.OPEN.value, "users": list(user_ids)})
        return {u: (n, at) for u, n, at in cursor.fetchall()}
