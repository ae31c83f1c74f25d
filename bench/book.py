"""A synthetic loan book built straight in PostgreSQL with set-based SQL (INSERT … SELECT).

The book as it stands after the close of the date before the benchmark date D:

- one product (12-month equal installments at 12 %, ACT/360, 3 grace days, penalty at 1.5 × the
  contract rate counted from the due date, all-in cost capped at a fixed 24 %);
- N borrowers, one active loan each, principal 1,000–20,000 in twenty classes; each class's
  schedule comes from the project's own `lending.schedules.build_schedule`, so the amounts are
  exactly what `loan_disburse` would have written;
- 90 % of the loans are current: disbursed 0–359 days before D, every installment due before D
  settled on its due date (about one in thirty falls due on D itself, as in any real book);
- the rest are overdue by 1–200 days (a few by up to 203, where a month-end clamps the due date):
  the installments from the first unpaid one on are unsettled, and each carries the penalty the
  earlier nights accrued (exact and rounded, through D − 1), so the loan's penalty_outstanding,
  dpd, bucket and bucket-change history are those the nights before would have left;
- the collections book the nights before would have left: a few collector users, members of the
  shipped default queues (four each), and for every loan already past due on D − 1 one open
  case with that night's dpd, bucket, overdue and total amounts and priority (never contacted,
  no promises), in the queue its bucket routes to, with a collector (evenly spread), and one
  CaseAssignment row for each queue the case went through on its way there;
- a BusinessDayRun for D − 1 marked done, so D is the next date to close.

Not generated: the transaction ledger (disbursements, repayments, past accruals). The night never
reads it, it only appends to it; `manage.py reconcile` will therefore not agree on this book.
"""

import time
from datetime import date, timedelta
from decimal import Decimal

from debt_collection import priority
from lending.schedules import DayCount, RepaymentMethod, ScheduleTerms, build_schedule

RATE = Decimal("0.12")
TERM = 12
PRINCIPAL_CLASSES = [Decimal(1000 * (c + 1)) for c in range(20)]
GRACE_DAYS = 3
COLLECTORS_PER_QUEUE = 4
PENALTY_MULTIPLE = Decimal("1.5")
BASIS = 360  # ACT/360


def schedule_rows() -> list[tuple]:
    """(class, seq, principal, interest, principal from seq on, interest from seq on)."""
    rows = []
    for cls, principal in enumerate(PRINCIPAL_CLASSES):
        sched = build_schedule(
            ScheduleTerms(
                principal=principal,
                annual_rate=RATE,
                term_months=TERM,
                start_date=date(2025, 1, 15),
                method=RepaymentMethod.EQUAL_INSTALLMENT,
                day_count=DayCount.ACT_360,
            )
        )
        for row in sched:
            rest = [r for r in sched if r.seq >= row.seq]
            rows.append(
                (
                    cls,
                    row.seq,
                    row.principal,
                    row.interest,
                    sum(r.principal for r in rest),
                    sum(r.interest for r in rest),
                )
            )
    return rows


def _hash(expr: str, modulus: int) -> str:
    """A deterministic pseudo-random integer in [0, modulus) from a SQL expression."""
    return f"((hashint8(({expr})::bigint) & 2147483647) %% {modulus})"


def _step(say, label: str, cur, sql: str, params=None) -> None:
    started = time.monotonic()
    cur.execute(sql, params)
    rows = cur.rowcount if cur.rowcount >= 0 else ""
    say(f"  {label}: {rows} rows ({time.monotonic() - started:.1f} s)")


def build_book(
    conn, *, loans: int, overdue: int, business_date: date, say, fillfactor: int | None = None
) -> dict:
    """Fill a freshly migrated database. `conn` is a psycopg connection (not autocommit).

    `fillfactor` overrides the one the migrations give the loan and installment tables (room on
    each page for the night's updates to stay on it, HOT) — a what-if for docs/scaling.md."""
    if not 0 < overdue <= loans:
        raise ValueError("overdue loans must be between 1 and the number of loans")
    step = loans // overdue  # loan ids divisible by `step` (the first `overdue` of them) are late
    d = business_date
    prev = d - timedelta(days=1)
    penalty_rate = RATE * PENALTY_MULTIPLE
    p = {
        "n": loans,
        "step": step,
        "overdue": overdue,
        "d": d,
        "prev": prev,
        "grace": GRACE_DAYS,
        "mult": PENALTY_MULTIPLE,
    }
    with conn.cursor() as cur:
        # FK triggers off for the load (all ids are generated consistently below); the check
        # constraints still hold every row. Plenty of memory for the sorts and index builds.
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET work_mem = '256MB'")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET synchronous_commit = off")
        if fillfactor is not None:
            for table in ("lending_loan", "lending_installment"):
                cur.execute(f"ALTER TABLE {table} SET (fillfactor = {int(fillfactor)})")

        cur.execute(
            """
            INSERT INTO lending_loanproduct (code, name, currency, repayment_method, min_rate,
                max_rate, min_term_months, max_term_months, day_count, min_amount, max_amount,
                fee_type, fee_value, fee_collection, grace_days, arrears_tolerance,
                allocation_order, penalty_base, penalty_rate_type, penalty_rate_value,
                penalty_start, cost_cap_type, cost_cap_value, apr_ceiling, write_off_dpd,
                is_active, created_at, updated_at, max_first_period_days, max_overpayment)
            VALUES ('bench-12m', 'Benchmark 12-month cash loan', 'CNY', 'equal_installment',
                0.05, 0.24, 1, 36, 'act360', 500, 50000, 'none', 0, 'upfront', %(grace)s, 1.00,
                'penalty,fee,interest,principal', 'overdue_principal', 'contract_multiple',
                %(mult)s, 'due_date', 'fixed', 0.24, 0.24, 180, true, now(), now(), 62, 1000)
            RETURNING id
            """,
            {"grace": GRACE_DAYS, "mult": PENALTY_MULTIPLE},
        )
        p["product"] = cur.fetchone()[0]

        cur.execute(
            """
            CREATE TEMP TABLE bench_sched (
                cls int, seq int, principal_due numeric, interest_due numeric,
                principal_from numeric, interest_from numeric, PRIMARY KEY (cls, seq))
            """
        )
        cur.executemany("INSERT INTO bench_sched VALUES (%s, %s, %s, %s, %s, %s)", schedule_rows())

        # The plan: per loan its principal class, disbursement date and first unpaid installment.
        _step(
            say,
            "plan",
            cur,
            """
            CREATE TEMP TABLE bench_plan AS
            WITH base AS (
                SELECT g AS id,
                       {cls} AS cls,
                       (g %% %(step)s = 0 AND g / %(step)s <= %(overdue)s) AS late,
                       1 + {days_late} AS days_late,
                       1 + {first_unpaid} AS first_unpaid,
                       {age} AS age_days
                FROM generate_series(1, %(n)s) g
            ), dated AS (
                SELECT id, cls, late, first_unpaid,
                       CASE WHEN late
                            THEN (%(d)s::date - days_late
                                  - make_interval(months => first_unpaid))::date
                            ELSE %(d)s::date - age_days END AS start_date
                FROM base
            )
            SELECT id, cls, late, start_date,
                   CASE WHEN late THEN first_unpaid
                        ELSE 1 + (SELECT count(*)::int FROM generate_series(1, 12) s
                                  WHERE (start_date + make_interval(months => s))::date
                                        < %(d)s::date) END AS u
            FROM dated
            """.format(
                cls=_hash("g * 31 + 17", 20),
                days_late=_hash("g", 200),
                first_unpaid=_hash("g * 7 + 3", 4),
                age=_hash("g * 13 + 5", 360),
            ),
            p,
        )
        cur.execute("ALTER TABLE bench_plan ADD PRIMARY KEY (id)")
        cur.execute("ANALYZE bench_plan")

        _step(
            say,
            "borrowers",
            cur,
            """
            INSERT INTO lending_borrower (id, full_name, national_id, national_id_digest,
                date_of_birth, sex, mobile, mobile_digest,
                address, employer, monthly_income, kyc_status, is_blacklisted, blacklist_reason,
                created_at, updated_at)
            SELECT g, 'Bench borrower ' || g, 'B' || lpad(g::text, 17, '0'), 'bench' || g,
                   date '1970-01-01' + (g %% 12000)::int,
                   CASE WHEN g %% 2 = 0 THEN 'F' ELSE 'M' END,
                   '13' || lpad((g %% 1000000000)::text, 9, '0'), 'bench' || g, '', '', 8000,
                   'verified',
                   false, '', now(), now()
            FROM generate_series(1, %(n)s) g
            """,
            p,
        )

        # dpd and bucket as the night of D − 1 left them; dpd_as_of D − 1 for late loans, the
        # last due date (examined that night) for current ones.
        _step(
            say,
            "loans",
            cur,
            """
            INSERT INTO lending_loan (id, reference, borrower_id, product_id, status, origin,
                purpose,
                currency, principal, annual_rate, term_months, repayment_method, day_count,
                origination_fee, fee_collection, start_date, first_due_date, maturity_date,
                principal_outstanding, interest_outstanding, fee_outstanding,
                penalty_outstanding, credit_balance, next_due_date, dpd, bucket, dpd_as_of,
                status_reason, created_at, approved_at, disbursed_at, updated_at,
                grace_days, arrears_tolerance, allocation_order, penalty_base,
                penalty_rate_type, penalty_rate_value, penalty_start, cost_cap_type,
                cost_cap_value)
            SELECT x.id, 'BN' || lpad(x.id::text, 12, '0'), x.id, %(product)s, 'active',
                   'migrated', '',
                   'CNY', s1.principal_from, 0.12, 12, 'equal_installment', 'act360', 0, 'upfront',
                   x.start_date, (x.start_date + interval '1 month')::date,
                   (x.start_date + interval '12 months')::date,
                   s.principal_from, s.interest_from, 0, 0, 0, x.next_due, x.dpd,
                   b.code, CASE WHEN x.late THEN %(prev)s::date
                                WHEN x.u > 1 THEN (x.start_date
                                    + make_interval(months => x.u - 1))::date END,
                   '', now(), now(), now(), now(),
                   %(grace)s, 1.00, 'penalty,fee,interest,principal', 'overdue_principal',
                   'contract_multiple', %(mult)s, 'due_date', 'fixed', 0.24
            FROM (
                SELECT pl.*, nd.next_due,
                       CASE WHEN pl.late AND nd.next_due < %(prev)s::date
                            THEN %(prev)s::date - nd.next_due ELSE 0 END AS dpd
                FROM bench_plan pl
                CROSS JOIN LATERAL (
                    SELECT (pl.start_date + make_interval(months => pl.u))::date AS next_due
                ) nd
            ) x
            JOIN bench_sched s1 ON s1.cls = x.cls AND s1.seq = 1
            JOIN bench_sched s ON s.cls = x.cls AND s.seq = x.u
            JOIN lending_delinquencybucket b
              ON x.dpd >= b.min_dpd AND (b.max_dpd IS NULL OR x.dpd <= b.max_dpd)
            ORDER BY x.id
            """,
            p,
        )
        # Twelve installments per loan, in loan order (as disbursement writes them). Penalty on
        # the late ones: everything the nights up to D − 1 accrued, on the overdue principal;
        # an installment still inside grace has accrued nothing and is marked accrued nowhere.
        _step(
            say,
            "installments",
            cur,
            """
            INSERT INTO lending_installment (loan_id, seq, period_start, due_date, principal_due,
                interest_due, fee_due, penalty_due, principal_settled, interest_settled,
                fee_settled, penalty_settled, settled_on, penalty_accrued,
                penalty_accrued_through)
            SELECT pl.id, k.seq,
                   (pl.start_date + make_interval(months => k.seq - 1))::date,
                   k.due, s.principal_due, s.interest_due, 0, round(k.accrued / %(basis)s, 2),
                   CASE WHEN k.seq < pl.u THEN s.principal_due ELSE 0 END,
                   CASE WHEN k.seq < pl.u THEN s.interest_due ELSE 0 END, 0, 0,
                   CASE WHEN k.seq < pl.u THEN k.due END, k.accrued,
                   CASE WHEN k.seq >= pl.u AND %(prev)s::date - k.due > %(grace)s
                        THEN %(prev)s::date END
            FROM bench_plan pl
            CROSS JOIN LATERAL (
                SELECT g.seq, g.due,
                       CASE WHEN g.seq >= pl.u AND %(prev)s::date - g.due > %(grace)s
                            THEN sc.principal_due * %(rate)s * (%(prev)s::date - g.due)
                            ELSE 0 END AS accrued
                FROM (SELECT s AS seq, (pl.start_date + make_interval(months => s))::date AS due
                      FROM generate_series(1, 12) s) g
                JOIN bench_sched sc ON sc.cls = pl.cls AND sc.seq = g.seq
            ) k
            JOIN bench_sched s ON s.cls = pl.cls AND s.seq = k.seq
            ORDER BY pl.id, k.seq
            """,
            p | {"grace": GRACE_DAYS, "rate": penalty_rate, "basis": BASIS},
        )
        _step(
            say,
            "loan penalty",
            cur,
            """
            UPDATE lending_loan l SET penalty_outstanding = x.penalty
              FROM (SELECT loan_id, sum(penalty_due) AS penalty FROM lending_installment
                    WHERE settled_on IS NULL AND due_date < %(prev)s GROUP BY loan_id
                    HAVING sum(penalty_due) > 0) x
             WHERE l.id = x.loan_id
            """,
            p,
        )
        # Each late loan's climb through the buckets on the nights before.
        _step(
            say,
            "bucket history",
            cur,
            """
            INSERT INTO lending_bucketchange (loan_id, business_date, from_bucket, to_bucket, dpd,
                overdue_amount, recorded_at)
            SELECT l.id, l.next_due_date + b.min_dpd, f.code, b.code, b.min_dpd,
                   l.principal_outstanding, now()
            FROM lending_loan l
            JOIN lending_delinquencybucket b ON b.min_dpd BETWEEN 1 AND l.dpd
            JOIN lending_delinquencybucket f ON f.max_dpd = b.min_dpd - 1
            WHERE l.dpd > 0
            ORDER BY 2, 1
            """,
        )
        _seed_collections(cur, p, say)
        cur.execute(
            """
            INSERT INTO lending_businessdayrun (business_date, status, started_at, finished_at,
                seconds, attempts, chunks_total, chunks_done, loans_examined,
                installments_newly_overdue, loans_newly_overdue, loans_cured, bucket_moves,
                accruals_posted, accrual_total, loans_capped, failed_loan_ids, error)
            VALUES (%(prev)s, 'done', now(), now(), 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[]', '')
            """,
            p,
        )
        for table in ("lending_borrower", "lending_loan"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cur.execute("SELECT count(*) FILTER (WHERE dpd > 0), count(*) FROM lending_loan")
        late_before, total = cur.fetchone()
    conn.commit()
    return {"loans": total, "overdue_loans": overdue, "late_as_of_previous_night": late_before}


# The first active in-house queue (by name) whose bucket range holds each bucket, as
# `debt_collection.services.nightly.queue_for` routes (buckets ranked by their first dpd).
ROUTE_SQL = """
CREATE TEMP TABLE bench_route AS
WITH b AS (SELECT code, min_dpd, row_number() OVER (ORDER BY min_dpd) AS r
           FROM lending_delinquencybucket)
SELECT DISTINCT ON (b.code) b.code, b.min_dpd, q.id AS queue_id, q.name
FROM b
JOIN collections_queue q ON q.active AND NOT q.outside_agency AND q.from_bucket <> ''
JOIN b lo ON lo.code = q.from_bucket
LEFT JOIN b hi ON hi.code = q.to_bucket
WHERE b.r >= lo.r AND (q.to_bucket = '' OR b.r <= hi.r)
ORDER BY b.code, q.name, q.id
"""


def _seed_collections(cur, p: dict, say) -> None:
    """Collectors, queue members, the open cases and their assignment history as of D − 1."""
    from django.conf import settings

    q = p | {
        "tz": settings.TIME_ZONE,
        "per_queue": COLLECTORS_PER_QUEUE,
        "dpd_full": priority.DPD_FULL,
        "dpd_points": priority.DPD_POINTS,
        "amount_full": priority.AMOUNT_FULL,
        "amount_points": priority.AMOUNT_POINTS,
        # never contacted: the full no-contact points; no promises
        "quiet_points": priority.QUIET_FULL * priority.QUIET_POINTS // priority.QUIET_FULL,
    }
    cur.execute(ROUTE_SQL)
    cur.execute(
        """
        CREATE TEMP TABLE bench_queue AS
        SELECT id, row_number() OVER (ORDER BY name, id) AS n FROM collections_queue
        WHERE active AND NOT outside_agency AND from_bucket <> ''
        """
    )
    _step(
        say,
        "collectors",
        cur,
        """
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
            is_staff, is_active, date_joined)
        SELECT '!', false, 'bench-collector-' || g, 'Bench', 'Collector ' || g, '', false,
               true, now()
        FROM generate_series(1, %(per_queue)s * (SELECT count(*) FROM bench_queue)) g
        """,
        q,
    )
    cur.execute(
        """
        INSERT INTO collections_queue_members (queue_id, user_id)
        SELECT bq.id, u.id FROM bench_queue bq
        JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM auth_user
              WHERE username LIKE 'bench-collector-%%') u
          ON (u.n - 1) / %(per_queue)s = bq.n - 1
        """,
        q,
    )
    cur.execute(
        """
        CREATE TEMP TABLE bench_member AS
        SELECT queue_id, user_id,
               row_number() OVER (PARTITION BY queue_id ORDER BY user_id) - 1 AS k,
               count(*) OVER (PARTITION BY queue_id) AS size
        FROM collections_queue_members
        """
    )
    # Each late loan's stay in each queue: entered the night its dpd reached the queue's first
    # bucket; the current stay's collector round-robin (even loads), earlier ones by hash.
    _step(
        say,
        "queue stays",
        cur,
        """
        CREATE TEMP TABLE bench_visit AS
        SELECT x.*, m.user_id AS collector_id,
               lag(m.user_id) OVER (PARTITION BY x.loan_id ORDER BY x.entered)
                   AS from_collector_id
        FROM (
            SELECT y.*, row_number() OVER (PARTITION BY y.queue_id, y.current
                                           ORDER BY y.loan_id) - 1 AS turn
            FROM (
                SELECT z.*, z.entered = max(z.entered) OVER (PARTITION BY z.loan_id) AS current
                FROM (
                    SELECT l.id AS loan_id, r.queue_id, r.name,
                           min(l.next_due_date + r.min_dpd) AS entered,
                           (array_agg(r.code ORDER BY r.min_dpd))[1] AS bucket
                    FROM lending_loan l
                    JOIN bench_route r ON r.min_dpd BETWEEN 1 AND l.dpd
                    WHERE l.dpd > 0
                    GROUP BY l.id, r.queue_id, r.name
                ) z
            ) y
        ) x
        JOIN bench_member m ON m.queue_id = x.queue_id
         AND m.k = CASE WHEN x.current THEN x.turn %% m.size
                        ELSE (hashint8(x.loan_id * 7 + x.queue_id) & 2147483647) %% m.size END
        """,
        q,
    )
    _step(
        say,
        "open cases",
        cur,
        """
        INSERT INTO collections_case (loan_id, borrower_id, status, close_reason, opened_on,
            dpd, bucket, overdue_amount, total_outstanding, time_zone, queue_id, collector_id,
            assigned_at, priority, priority_parts, broken_promises, updated_on)
        SELECT x.id, x.borrower_id, 'open', '', x.next_due_date + 1, x.dpd, x.bucket,
               x.overdue, x.total, %(tz)s::text, x.queue_id, x.collector_id,
               (x.entered + 1)::timestamp AT TIME ZONE %(tz)s::text,
               x.p_dpd + x.p_amount + %(quiet_points)s,
               jsonb_build_object('dpd', x.p_dpd, 'amount', x.p_amount, 'broken_promises', 0,
                                  'no_contact', %(quiet_points)s),
               0, %(prev)s
        FROM (
            SELECT l.id, l.borrower_id, l.next_due_date, l.dpd, l.bucket, o.amount AS overdue,
                   l.principal_outstanding + l.interest_outstanding + l.fee_outstanding
                       + l.penalty_outstanding AS total,
                   v.queue_id, v.collector_id, v.entered,
                   least(l.dpd, %(dpd_full)s) * %(dpd_points)s / %(dpd_full)s AS p_dpd,
                   floor(least(o.amount, %(amount_full)s) * %(amount_points)s
                         / %(amount_full)s)::int AS p_amount
            FROM lending_loan l
            JOIN bench_visit v ON v.loan_id = l.id AND v.current
            JOIN (SELECT loan_id,
                         sum(principal_due - principal_settled + interest_due - interest_settled
                             + fee_due - fee_settled + penalty_due - penalty_settled) AS amount
                  FROM lending_installment WHERE due_date < %(prev)s AND settled_on IS NULL
                  GROUP BY loan_id) o ON o.loan_id = l.id
        ) x
        ORDER BY x.id
        """,
        q,
    )
    _step(
        say,
        "case assignments",
        cur,
        """
        INSERT INTO collections_caseassignment (case_id, queue_id, collector_id,
            from_collector_id, assigned_at, business_date, reason)
        SELECT c.id, v.queue_id, v.collector_id, v.from_collector_id,
               (v.entered + 1)::timestamp AT TIME ZONE %(tz)s::text, v.entered,
               'nightly: bucket ' || v.bucket || ' → queue ' || v.name
        FROM bench_visit v JOIN collections_case c ON c.loan_id = v.loan_id
        ORDER BY v.entered, c.id
        """,
        q,
    )
