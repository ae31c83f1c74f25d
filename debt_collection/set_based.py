"""Opening, updating and closing collection cases as set-based SQL per chunk (PostgreSQL).

The rules are `debt_collection.services.cases.close_reason_for` and the portable
`services.nightly._sync_by_rows`; these statements apply them to every loan of a chunk at once
(tests hold both paths to the same rows). Five statements whatever the chunk's size: lock the
chunk's open cases, gather each loan's figures and open case into a temporary table, close,
update, open. The chunk's loans are already locked by lending's flagging in this transaction.
"""

from datetime import date

from django.db import connection

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
}

LOCK_SQL = """
SELECT id FROM collections_case WHERE loan_id = ANY(%(ids)s) AND status = %(open)s
ORDER BY id FOR UPDATE
"""

GATHER_SQL = """
CREATE TEMP TABLE coll_sync ON COMMIT DROP AS
SELECT l.id AS loan_id, l.borrower_id, l.status, l.dpd, l.bucket,
       l.principal_outstanding + l.interest_outstanding + l.fee_outstanding
           + l.penalty_outstanding AS total,
       coalesce(o.amount, 0) AS overdue, c.id AS case_id,
       (l.status = %(active)s AND l.dpd > 0) AS delinquent
FROM lending_loan l
LEFT JOIN (
    SELECT loan_id, sum(principal_due - principal_settled + interest_due - interest_settled
                        + fee_due - fee_settled + penalty_due - penalty_settled) AS amount
    FROM lending_installment
    WHERE loan_id = ANY(%(ids)s) AND due_date < %(d)s AND settled_on IS NULL
    GROUP BY loan_id
) o ON o.loan_id = l.id
LEFT JOIN collections_case c ON c.loan_id = l.id AND c.status = %(open)s
WHERE l.id = ANY(%(ids)s)
"""

CLOSE_SQL = """
UPDATE collections_case c
   SET status = %(closed)s, closed_on = %(d)s,
       close_reason = CASE s.status WHEN %(loan_closed)s THEN %(paid_off)s
                                    WHEN %(loan_written_off)s THEN %(written_off)s
                                    ELSE %(cured)s END
  FROM coll_sync s
 WHERE c.id = s.case_id AND NOT s.delinquent
"""

UPDATE_SQL = """
UPDATE collections_case c
   SET dpd = s.dpd, bucket = s.bucket, overdue_amount = s.overdue,
       total_outstanding = s.total, updated_on = %(d)s
  FROM coll_sync s
 WHERE c.id = s.case_id AND s.delinquent
"""

OPEN_SQL = """
INSERT INTO collections_case
    (loan_id, borrower_id, status, close_reason, opened_on, dpd, bucket, overdue_amount,
     total_outstanding, time_zone, priority, priority_parts, broken_promises, updated_on)
SELECT loan_id, borrower_id, %(open)s, '', %(d)s, dpd, bucket, overdue, total, %(tz)s, 0,
       '{}'::jsonb, 0, %(d)s
FROM coll_sync WHERE case_id IS NULL AND delinquent ORDER BY loan_id
"""


def sync_cases(*, business_date: date, loan_ids: list[int], time_zone: str) -> dict:
    if not connection.in_atomic_block:
        raise RuntimeError("the set-based steps run inside the chunk's transaction")
    params = {**CONSTANTS, "d": business_date, "ids": list(loan_ids), "tz": time_zone}
    with connection.cursor() as cursor:
        cursor.execute(LOCK_SQL, params)
        cursor.execute(GATHER_SQL, params)
        cursor.execute(CLOSE_SQL, params)
        closed = cursor.rowcount
        cursor.execute(UPDATE_SQL, params)
        cursor.execute(OPEN_SQL, params)
        opened = cursor.rowcount
        cursor.execute("DROP TABLE coll_sync")
    return {"cases_opened": opened, "cases_closed": closed}
