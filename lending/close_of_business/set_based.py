"""Overdue flagging and penalty accrual as set-based SQL per chunk, on PostgreSQL (DESIGN §6).

The rules are the pure modules' (`lending.delinquency`, `lending.penalty`): these statements do
the same arithmetic on every row of a chunk at once, and the tests hold them to the pure
reference to the cent. A chunk costs a handful of statements whatever its size:

- flagging: lock the chunk's loans, compute dpd and bucket into a temporary table, insert the
  bucket moves, update the loans;
- accrual: compute each overdue installment's penalty for the day within its loan's cap into a
  temporary table, insert the accrual transactions with RETURNING and their lines from it, add
  the amounts to the installments and to the loans.

The loans are locked first so every later statement reads the balances as they are after any
repayment that committed before the chunk began, and none can commit until the chunk does.
Adding only the day's amounts (never re-summing history) keeps the step incremental; the
unique (loan, date) accrual constraint and `penalty_accrued_through` make a re-run post nothing.
"""

from datetime import date
from decimal import Decimal

from django.db import connection

from lending.delinquency import Bucket
from lending.models import LoanStatus, TransactionKind
from lending.models.products import (
    CostCapType,
    FeeCollectionChoices,
    PenaltyBase,
    PenaltyRateType,
    PenaltyStart,
)
from lending.models.transactions import EFFECT_OF_KIND, Effect
from lending.money import MINOR_UNITS
from lending.penalty import DAYS_PER_YEAR_FOR_CAP
from lending.schedules import DAY_COUNT_BASIS

# The choices and constants the statements compare with, from where they are defined: the SQL
# states the rules of `lending.penalty` and `lending.delinquency`, never its own copy of them.
CONSTANTS = {
    "active": LoanStatus.ACTIVE.value,
    "upfront": FeeCollectionChoices.UPFRONT.value,
    "lpr_multiple": CostCapType.LPR_MULTIPLE.value,
    "absolute": PenaltyRateType.ABSOLUTE.value,
    "principal_and_interest": PenaltyBase.OVERDUE_PRINCIPAL_INTEREST.value,
    "from_due_date": PenaltyStart.DUE_DATE.value,
    "accrual_kind": TransactionKind.PENALTY_ACCRUAL.value,
    "accrual_effect": EFFECT_OF_KIND[TransactionKind.PENALTY_ACCRUAL].value,
    "charge": Effect.CHARGE.value,
    "cap_year": DAYS_PER_YEAR_FOR_CAP,
    "day_counts": [day_count.value for day_count in DAY_COUNT_BASIS],
    "day_count_basis": list(DAY_COUNT_BASIS.values()),
    "currencies": list(MINOR_UNITS),
    "minor_places": list(MINOR_UNITS.values()),
}

FLAG_SQL = """
CREATE TEMP TABLE cob_flag ON COMMIT DROP AS
SELECT c.id, c.old_dpd, c.old_bucket, c.dpd, b.code AS bucket, c.amount, c.newly
FROM (
    SELECT l.id, l.dpd AS old_dpd, l.bucket AS old_bucket,
           coalesce(o.amount, 0) AS amount, coalesce(o.newly, 0) AS newly,
           CASE WHEN o.oldest IS NULL OR o.amount <= l.arrears_tolerance THEN 0
                ELSE %(d)s::date - o.oldest END AS dpd
    FROM lending_loan l
    LEFT JOIN (
        SELECT loan_id, min(due_date) AS oldest,
               count(*) FILTER (WHERE due_date = %(d)s::date - 1) AS newly,
               sum(principal_due - principal_settled + interest_due - interest_settled
                   + fee_due - fee_settled + penalty_due - penalty_settled) AS amount
        FROM lending_installment
        WHERE loan_id = ANY(%(ids)s) AND due_date < %(d)s AND settled_on IS NULL
        GROUP BY loan_id
    ) o ON o.loan_id = l.id
    WHERE l.id = ANY(%(ids)s) AND l.status = %(active)s
) c
JOIN unnest(%(codes)s::text[], %(min_dpd)s::int[], %(max_dpd)s::int[]) AS b(code, lo, hi)
  ON c.dpd >= b.lo AND (b.hi IS NULL OR c.dpd <= b.hi)
"""

BUCKET_MOVES_SQL = """
INSERT INTO lending_bucketchange
    (loan_id, business_date, from_bucket, to_bucket, dpd, overdue_amount, recorded_at)
SELECT id, %(d)s, old_bucket, bucket, dpd, CASE WHEN dpd > 0 THEN amount ELSE 0 END, now()
FROM cob_flag WHERE bucket <> old_bucket ORDER BY id
"""

LOAN_FLAG_SQL = """
UPDATE lending_loan l SET dpd = f.dpd, bucket = f.bucket, dpd_as_of = %(d)s
FROM cob_flag f WHERE l.id = f.id
"""

FLAG_COUNTS_SQL = """
SELECT count(*),
       count(*) FILTER (WHERE dpd > 0 AND old_dpd = 0),
       count(*) FILTER (WHERE old_dpd > 0 AND dpd = 0),
       coalesce(sum(newly) FILTER (WHERE dpd > 0), 0)
FROM cob_flag
"""

# The LPR multiple needs the one-year LPR in force on the contract date; without one the cap
# would silently come out at nothing, so a chunk that meets such a loan stops and says so.
MISSING_LPR_SQL = """
SELECT l.start_date FROM lending_loan l
WHERE l.id = ANY(%(ids)s) AND l.status = %(active)s AND l.dpd > 0
  AND l.cost_cap_type = %(lpr_multiple)s
  AND NOT EXISTS (SELECT 1 FROM lending_lprrate r WHERE r.effective_date <= l.start_date)
ORDER BY l.start_date LIMIT 1
"""

# A day count the basis table does not know would drop the loan's installments from the join.
UNKNOWN_DAY_COUNT_SQL = """
SELECT day_count FROM lending_loan
WHERE id = ANY(%(ids)s) AND status = %(active)s AND dpd > 0
  AND NOT (day_count = ANY(%(day_counts)s))
LIMIT 1
"""

# Per installment: the days the date adds (`lending.penalty.days_to_accrue`: 0 inside grace,
# else every day since the last one accrued or since the penalty's start), the exact accrual
# added — each day on that day's base: today's base × days, less what each posting valued inside
# the days changed it, times the days before it (`day_penalty_accrued`) — the amount
# round(new ÷ basis) − round(old ÷ basis), and the cap applied oldest first: the room left
# before an installment is the loan's headroom less what the earlier ones post. The postings are
# found through the partial index on (loan, value date) that leaves out the nightly accruals.
ACCRUAL_SQL = """
CREATE TEMP TABLE cob_accrual ON COMMIT DROP AS
WITH loans AS (
    SELECT l.id, l.start_date, l.maturity_date, l.principal, l.day_count,
           CASE WHEN l.fee_collection = %(upfront)s THEN l.origination_fee ELSE 0 END AS upfront,
           mu.places AS minor_places, l.penalty_base, l.grace_days, l.penalty_start,
           CASE WHEN l.penalty_rate_type = %(absolute)s THEN l.penalty_rate_value
                ELSE l.annual_rate * l.penalty_rate_value END AS rate,
           CASE WHEN l.cost_cap_type = %(lpr_multiple)s
                THEN l.cost_cap_value * (
                    SELECT one_year_rate FROM lending_lprrate
                    WHERE effective_date <= l.start_date
                    ORDER BY effective_date DESC LIMIT 1)
                ELSE l.cost_cap_value END AS cap_rate
    FROM lending_loan l
    JOIN unnest(%(currencies)s::text[], %(minor_places)s::int[]) AS mu(code, places)
      ON mu.code = l.currency
    WHERE l.id = ANY(%(ids)s) AND l.status = %(active)s AND l.dpd > 0
), costs AS (
    SELECT i.loan_id, sum(i.interest_due + i.fee_due + i.penalty_due) AS cost
    FROM lending_installment i WHERE i.loan_id IN (SELECT id FROM loans)
    GROUP BY i.loan_id
), headroom AS (
    SELECT loans.*, greatest(0, round(
        (loans.principal - loans.upfront) * loans.cap_rate
        * (greatest(%(d)s::date, loans.maturity_date) - loans.start_date) / %(cap_year)s,
        loans.minor_places) - (costs.cost + loans.upfront)) AS headroom
    FROM loans JOIN costs ON costs.loan_id = loans.id
), days AS (
    SELECT i.id, i.loan_id, i.due_date, i.penalty_accrued, h.headroom, h.rate, h.penalty_base,
           h.minor_places,
           CASE WHEN h.penalty_base = %(principal_and_interest)s
                THEN i.principal_due - i.principal_settled + i.interest_due - i.interest_settled
                ELSE i.principal_due - i.principal_settled END AS base,
           dc.basis, c.counted_from,
           CASE WHEN %(d)s::date - i.due_date <= h.grace_days THEN 0
                ELSE %(d)s::date - c.counted_from END AS days
    FROM headroom h
    JOIN lending_installment i
      ON i.loan_id = h.id AND i.due_date < %(d)s AND i.settled_on IS NULL
    JOIN unnest(%(day_counts)s::text[], %(day_count_basis)s::int[]) AS dc(code, basis)
      ON dc.code = h.day_count
    CROSS JOIN LATERAL (
        SELECT greatest(coalesce(i.penalty_accrued_through, s.start), s.start) AS counted_from
        FROM (SELECT CASE WHEN h.penalty_start = %(from_due_date)s THEN i.due_date
                          ELSE i.due_date + h.grace_days END AS start) s
    ) c
    WHERE i.penalty_accrued_through IS NULL OR i.penalty_accrued_through < %(d)s
), changed AS (
    SELECT d.id, sum(
        CASE WHEN t.effect = %(charge)s THEN 1 ELSE -1 END
        * (ln.principal + CASE WHEN d.penalty_base = %(principal_and_interest)s
                               THEN ln.interest ELSE 0 END)
        * least(t.value_date - d.counted_from - 1, d.days)) AS carried
    FROM days d
    JOIN lending_transaction t
      ON t.loan_id = d.loan_id AND t.kind <> %(accrual_kind)s
     AND t.value_date > d.counted_from + 1
    JOIN lending_transactionline ln ON ln.transaction_id = t.id AND ln.installment_id = d.id
    WHERE d.days > 0
    GROUP BY d.id
), raw AS (
    SELECT d.*, (d.base * d.days - coalesce(c.carried, 0)) * d.rate AS added
    FROM days d LEFT JOIN changed c ON c.id = d.id
    WHERE d.days > 0  -- inside grace: untouched, its accrued-through date stays as it was
), rounded AS (
    SELECT r.*, round((r.penalty_accrued + r.added) / r.basis, r.minor_places)
                - round(r.penalty_accrued / r.basis, r.minor_places) AS uncapped
    FROM raw r
), room AS (
    SELECT r.*, greatest(0, r.headroom - coalesce(sum(r.uncapped) OVER (
        PARTITION BY r.loan_id ORDER BY r.due_date, r.id
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)) AS remaining
    FROM rounded r
)
SELECT id, loan_id, capped,
       CASE WHEN capped THEN remaining ELSE uncapped END AS amount,
       -- at the cap the exact figure is what was posted: no fraction past the cap carries on
       CASE WHEN capped THEN (round(penalty_accrued / basis, minor_places) + remaining) * basis
            ELSE penalty_accrued + added END AS accrued
FROM (SELECT room.*, (uncapped > remaining OR (added > 0 AND remaining <= 0)) AS capped
      FROM room) x
"""

POSTING_SQL = """
WITH txn AS (
    INSERT INTO lending_transaction (loan_id, kind, effect, value_date, amount, principal,
        interest, fee, penalty, credit, idempotency_key, external_reference, channel, note,
        posted_at)
    SELECT loan_id, %(accrual_kind)s, %(accrual_effect)s, %(d)s, 0, 0, 0, 0, sum(amount), 0,
           '', '', '', 'nightly penalty accrual', now()
    FROM cob_accrual GROUP BY loan_id HAVING sum(amount) > 0
    ORDER BY loan_id
    RETURNING id, loan_id
)
INSERT INTO lending_transactionline (transaction_id, installment_id, principal, interest, fee,
    penalty)
SELECT txn.id, a.id, 0, 0, 0, a.amount
FROM txn JOIN cob_accrual a ON a.loan_id = txn.loan_id
WHERE a.amount > 0
"""

INSTALLMENT_PENALTY_SQL = """
UPDATE lending_installment i
   SET penalty_accrued = a.accrued, penalty_due = i.penalty_due + a.amount,
       penalty_accrued_through = %(d)s
  FROM cob_accrual a WHERE i.id = a.id
"""

LOAN_PENALTY_SQL = """
UPDATE lending_loan l SET penalty_outstanding = l.penalty_outstanding + s.total
  FROM (SELECT loan_id, sum(amount) AS total FROM cob_accrual
        GROUP BY loan_id HAVING sum(amount) > 0) s
 WHERE l.id = s.loan_id
"""

# Past grace but within the arrears tolerance the loan is not overdue (dpd 0): those nights
# owe no penalty, so they count as accrued — a later catch-up starts after them.
WITHIN_TOLERANCE_SQL = """
UPDATE lending_installment i SET penalty_accrued_through = %(d)s
  FROM lending_loan l
 WHERE i.loan_id = l.id AND l.id = ANY(%(ids)s) AND l.status = %(active)s AND l.dpd = 0
   AND i.due_date < %(d)s AND i.settled_on IS NULL AND %(d)s::date - i.due_date > l.grace_days
   AND (i.penalty_accrued_through IS NULL OR i.penalty_accrued_through < %(d)s)
"""

ACCRUAL_COUNTS_SQL = """
SELECT count(DISTINCT loan_id) FILTER (WHERE amount > 0), coalesce(sum(amount), 0),
       count(DISTINCT loan_id) FILTER (WHERE capped)
FROM cob_accrual
"""


def _prepare(cursor) -> None:
    # The temporary tables live until commit and the loan locks must last the whole chunk:
    # outside a transaction both would vanish after each statement.
    if not connection.in_atomic_block:
        raise RuntimeError("the set-based steps run inside the chunk's transaction")
    # Small statements run once each: JIT compilation would cost more than it saves.
    cursor.execute("SET LOCAL jit = off")


def flag_overdue(*, business_date: date, loan_ids: list[int], buckets: tuple[Bucket, ...]):
    params = {
        **CONSTANTS,
        "d": business_date,
        "ids": list(loan_ids),
        "codes": [b.code for b in buckets],
        "min_dpd": [b.min_dpd for b in buckets],
        "max_dpd": [b.max_dpd for b in buckets],
    }
    with connection.cursor() as cursor:
        _prepare(cursor)
        cursor.execute(
            "SELECT id FROM lending_loan WHERE id = ANY(%(ids)s) AND status = %(active)s "
            "ORDER BY id FOR UPDATE",
            params,
        )
        cursor.execute(FLAG_SQL, params)
        cursor.execute(BUCKET_MOVES_SQL, params)
        moves = cursor.rowcount
        cursor.execute(LOAN_FLAG_SQL, params)
        cursor.execute(FLAG_COUNTS_SQL)
        examined, newly_overdue, cured, installments = cursor.fetchone()
        cursor.execute("DROP TABLE cob_flag")
    return {
        "loans_examined": examined,
        "loans_newly_overdue": newly_overdue,
        "loans_cured": cured,
        "installments_newly_overdue": int(installments),
        "bucket_moves": moves,
    }


def accrue_penalty(*, business_date: date, loan_ids: list[int]) -> dict:
    params = {**CONSTANTS, "d": business_date, "ids": list(loan_ids)}
    with connection.cursor() as cursor:
        _prepare(cursor)
        cursor.execute(MISSING_LPR_SQL, params)
        missing = cursor.fetchone()
        if missing:
            raise LookupError(f"no LPR in force on {missing[0]}; add it in the admin")
        cursor.execute(UNKNOWN_DAY_COUNT_SQL, params)
        unknown = cursor.fetchone()
        if unknown:
            raise LookupError(f"day count {unknown[0]!r} has no basis in lending.schedules")
        cursor.execute(ACCRUAL_SQL, params)
        cursor.execute(POSTING_SQL, params)
        cursor.execute(INSTALLMENT_PENALTY_SQL, params)
        cursor.execute(LOAN_PENALTY_SQL, params)
        cursor.execute(WITHIN_TOLERANCE_SQL, params)
        cursor.execute(ACCRUAL_COUNTS_SQL)
        posted, total, capped = cursor.fetchone()
        cursor.execute("DROP TABLE cob_accrual")
    return {
        "accruals_posted": posted,
        "accrual_total": Decimal(total),
        "loans_capped": capped,
    }
