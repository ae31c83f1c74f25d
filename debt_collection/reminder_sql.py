"""Writing reminders as one SQL statement per kind (PostgreSQL).

The rule is `services.reminders._write_by_rows`; this applies it to every unsettled installment
due on one date at once (tests hold both paths to the same rows). The chunk is that date's
installments, found through the partial index `inst_unsettled_due`: a day's share of the book,
with no id list read into Python first. The unique constraint on (installment, kind) makes a
re-run of the date write nothing (ON CONFLICT DO NOTHING).
"""

from django.db import connection

from debt_collection.models import ReminderState
from lending.models import LoanStatus

INSERT_SQL = """
INSERT INTO collections_reminder
    (installment_id, loan_id, borrower_id, kind, language, business_date, send_on, time_zone,
     due_date, amount_due, currency, penalty_rate, penalty_from, grace_until, cost_cap_rate,
     state, attempts, last_error, sender, subject, body, created_at)
SELECT i.id, l.id, l.borrower_id, %(kind)s, %(language)s, %(d)s, %(send_on)s,
       coalesce(c.time_zone, %(tz)s), i.due_date, o.amount, l.currency,
       CASE WHEN l.penalty_rate_type = 'absolute' THEN l.penalty_rate_value
            ELSE round(l.annual_rate * l.penalty_rate_value, 6) END,
       CASE WHEN l.penalty_start = 'due_date' THEN i.due_date
            ELSE i.due_date + l.grace_days END,
       i.due_date + l.grace_days,
       CASE WHEN l.cost_cap_type = 'lpr_multiple'
            THEN round(l.cost_cap_value * (
                SELECT one_year_rate FROM lending_lprrate
                WHERE effective_date <= l.start_date
                ORDER BY effective_date DESC LIMIT 1), 6)
            ELSE l.cost_cap_value END,
       %(pending)s, 0, '', '', '', '', now()
FROM lending_installment i
JOIN lending_loan l ON l.id = i.loan_id
CROSS JOIN LATERAL (
    SELECT i.principal_due - i.principal_settled + i.interest_due - i.interest_settled
           + i.fee_due - i.fee_settled + i.penalty_due - i.penalty_settled
           - l.credit_balance AS amount
) o
LEFT JOIN collections_case c ON c.loan_id = l.id AND c.status = 'open'
WHERE i.due_date = %(due)s AND i.settled_on IS NULL AND l.status = %(active)s
  AND o.amount > CASE WHEN %(overdue)s THEN l.arrears_tolerance ELSE 0 END
ON CONFLICT ON CONSTRAINT collections_one_reminder_per_kind DO NOTHING
"""


def write_day(*, kind: str, due, overdue: bool, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_SQL,
            {
                **params,
                "kind": kind,
                "due": due,
                "overdue": overdue,
                "pending": ReminderState.PENDING.value,
                "active": LoanStatus.ACTIVE.value,
            },
        )
        return cursor.rowcount
