"""Writing the night's reminders as one SQL statement (PostgreSQL).

The rule is `services.reminders._write_by_rows`; this applies it to every unsettled installment
due on the kinds' dates at once (tests hold both paths to the same rows), found through the
partial index `inst_unsettled_due`: four days' share of the book, with no id list read into
Python first. A re-run of the date writes nothing: an installment that has its reminder of a kind
is left out (NOT EXISTS through the unique (installment, kind) index; cheaper than ON CONFLICT's
speculative insertion per row, and the night runs one date at a time under the run's lock).
"""

from django.db import connection

from debt_collection.models import ReminderState
from lending.models import LoanStatus

INSERT_SQL = """
INSERT INTO collections_reminder
    (installment_id, loan_id, borrower_id, kind, language, business_date, send_on, time_zone,
     due_date, amount_due, currency, penalty_rate, penalty_from, grace_until, cost_cap_rate,
     state, attempts, last_error, sender, subject, body, created_at)
SELECT i.id, l.id, l.borrower_id, k.kind, %(language)s, %(d)s, %(send_on)s,
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
FROM unnest(%(kinds)s::text[], %(dues)s::date[], %(overdue)s::boolean[]) k (kind, due, overdue)
JOIN lending_installment i ON i.due_date = k.due AND i.settled_on IS NULL
JOIN lending_loan l ON l.id = i.loan_id AND l.status = %(active)s
CROSS JOIN LATERAL (
    SELECT i.principal_due - i.principal_settled + i.interest_due - i.interest_settled
           + i.fee_due - i.fee_settled + i.penalty_due - i.penalty_settled
           - l.credit_balance AS amount
) o
LEFT JOIN collections_case c ON c.loan_id = l.id AND c.status = 'open'
WHERE o.amount > CASE WHEN k.overdue THEN l.arrears_tolerance ELSE 0 END
  AND NOT EXISTS (
      SELECT 1 FROM collections_reminder r WHERE r.installment_id = i.id AND r.kind = k.kind)
ORDER BY i.id, k.kind
"""


def write_reminders(*, overdue: list[bool], params: dict) -> int:
    """params: the step's, with `kinds` and `dues` in the same order as `overdue`."""
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_SQL,
            {
                **params,
                "overdue": overdue,
                "pending": ReminderState.PENDING.value,
                "active": LoanStatus.ACTIVE.value,
            },
        )
        return cursor.rowcount
