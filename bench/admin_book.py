"""What the admin benchmark adds to the synthetic book of bench/book.py: the rest of a back
office at the same scale, set-based (INSERT … SELECT), so every admin list has rows to page.

Per borrower (one per loan): a risk profile, the approving decision and the approved application
that booked the loan, a credit limit (frozen for the late loans) with its opening change; one
borrower in ten has a second, recent application (declined, one in ten of them referred and
awaiting an officer) with its decision; one in a hundred current borrowers has a limit increase
awaiting approval.

Collections, on top of the open cases of bench/book.py: a closed (cured) case for one loan in
five of the others, two logged calls per open case, a pending promise on one open case in four,
a write-off proposal for every open case at or past 180 days, a waiver proposal on one in two
hundred; one sent reminder per loan (its next installment).

The transactions of bench/imports_book.py's ledger (disbursement, repayments so far, penalty
accrued; no lines: no admin page reads them), one audit event per loan (its migration) and per
recent application, and the borrowers' national ID and mobile as real Fernet tokens, so list
pages pay for decrypting them as they would in production.
"""

import time
from datetime import date, timedelta

from django.conf import settings

TOKENS = 1000  # distinct encrypted values (decrypting costs the same whichever one it is)


def _step(say, label: str, cur, sql: str, params=None) -> None:
    started = time.monotonic()
    cur.execute(sql, params)
    rows = cur.rowcount if cur.rowcount >= 0 else ""
    say(f"  {label}: {rows} rows ({time.monotonic() - started:.1f} s)")


def _tokens(prefix: str, width: int) -> list[str]:
    from cryptography.fernet import Fernet

    fernet = Fernet(settings.PII_ENCRYPTION_KEYS[0].encode())
    return [fernet.encrypt(f"{prefix}{k:0{width}d}".encode()).decode() for k in range(TOKENS)]


def _decisions() -> dict:
    """outcome -> (score, grade, reasons, trace, profile) as JSON: what the project's own policy
    engine says for three typical profiles under the default policy (traces are a few KB, as in
    production, and list pages that select them pay for it)."""
    import dataclasses
    import json
    from decimal import Decimal as D

    from risk.policy import DEFAULT_POLICY, LoanRequest, RiskProfile, evaluate, parse_policy

    policy = parse_policy(DEFAULT_POLICY)
    base = {
        "age": 35,
        "monthly_income": D("8000"),
        "income_verified": True,
        "employment_type": "salaried",
        "employment_months": 36,
        "existing_monthly_debt": D("500"),
        "bureau_score": 720,
        "bureau_inquiries_6m": 1,
        "bureau_worst_delinquency_days": 0,
        "bureau_current_delinquencies": 0,
        "blacklisted": False,
    }
    found = {}
    for changes in (
        {},
        {"bureau_score": 610, "income_verified": False},
        {"bureau_score": 560, "bureau_inquiries_6m": 8},
    ):
        profile = RiskProfile(**(base | changes))
        decision = evaluate(profile, policy, LoanRequest(D("10000"), D("900")))
        stored = decision.as_dict()
        # The old approvals keep the first steps of their trace only: small enough to stay in
        # the row (not TOASTed), which keeps the book's build minutes shorter; the recent
        # declines and referrals, first on every list that sorts by date, carry all of it.
        trace = stored["trace"][:4] if decision.outcome == "approve" else stored["trace"]
        found[decision.outcome] = (
            decision.score,
            decision.grade,
            json.dumps(stored["reasons"]),
            json.dumps(trace),
            json.dumps(dataclasses.asdict(profile), default=str),
        )
    return found


LEDGER_COLUMNS = (
    "loan_id, kind, effect, value_date, amount, principal, interest, fee, penalty, credit, "
    "idempotency_key, external_reference, channel, note, posted_at"
)


def _ledger(cur, p: dict, say) -> None:
    """The transactions of bench/imports_book.py's ledger, without their lines: no admin page
    reads a line, and the lines are most of that ledger's rows and minutes."""
    _step(
        say,
        "transactions",
        cur,
        f"""
        INSERT INTO lending_transaction ({LEDGER_COLUMNS})
        SELECT x.* FROM (
            SELECT l.id, 'disbursement', 'charge', l.start_date, l.principal, s.p, s.i,
                   0, 0, 0, '', '', '', '', l.start_date::timestamp AT TIME ZONE 'UTC'
            FROM lending_loan l
            JOIN (SELECT loan_id, sum(principal_due) AS p, sum(interest_due) AS i
                  FROM lending_installment GROUP BY loan_id) s ON s.loan_id = l.id
            UNION ALL
            SELECT loan_id, 'repayment', 'settle', max(settled_on),
                   sum(principal_settled + interest_settled), sum(principal_settled),
                   sum(interest_settled), 0, 0, 0, '', '', 'bench', '',
                   max(settled_on)::timestamp AT TIME ZONE 'UTC'
            FROM lending_installment WHERE settled_on IS NOT NULL GROUP BY loan_id
            UNION ALL
            SELECT loan_id, 'penalty_accrual', 'charge', %(prev)s, 0, 0, 0, 0,
                   sum(penalty_due), 0, '', '', '', '', %(prev)s::timestamp AT TIME ZONE 'UTC'
            FROM lending_installment WHERE penalty_due > 0 GROUP BY loan_id
        ) x ORDER BY 15, 1
        """,
        p,
    )


def add_back_office(conn, *, business_date: date, say) -> dict:
    """Fill in the back office around a book from bench.book.build_book (same connection)."""
    d = business_date
    p = {
        "d": d,
        "prev": d - timedelta(days=1),
        "ids": _tokens("11010519800101", 4),
        "mobiles": _tokens("1380000", 4),
        "tokens": TOKENS,
        "tz": settings.TIME_ZONE,
    }
    for outcome, (score, grade, reasons, trace, profile) in _decisions().items():
        p |= {
            f"{outcome}_score": score,
            f"{outcome}_grade": grade,
            f"{outcome}_reasons": reasons,
            f"{outcome}_trace": trace,
            f"{outcome}_profile": profile,
        }
    with conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET work_mem = '256MB'")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET synchronous_commit = off")
        cur.execute("SELECT max(id) FROM lending_loan")
        p["n"] = cur.fetchone()[0]
        cur.execute("SELECT id FROM risk_creditpolicy WHERE status = 'active'")
        p["policy"] = cur.fetchone()[0]
        cur.execute("SELECT id FROM collections_compliancepolicy WHERE status = 'active'")
        p["compliance"] = cur.fetchone()[0]
        cur.execute("SELECT id FROM lending_loanproduct ORDER BY id LIMIT 1")
        p["product"] = cur.fetchone()[0]

        _step(
            say,
            "encrypted PII",
            cur,
            """
            UPDATE lending_borrower
               SET national_id = (%(ids)s::text[])[1 + id %% %(tokens)s],
                   mobile = (%(mobiles)s::text[])[1 + id %% %(tokens)s]
            """,
            p,
        )
        _step(
            say,
            "risk profiles",
            cur,
            """
            INSERT INTO risk_riskprofile (borrower_id, income_source, employment_type,
                employment_months, existing_monthly_debt, bureau_score, bureau_inquiries_6m,
                bureau_worst_delinquency_days, bureau_current_delinquencies, bureau_reported_on,
                updated_at)
            SELECT id, (ARRAY['payroll','tax','bank','declared'])[1 + id %% 4], '',
                   12 + id %% 120, (id %% 5) * 500, 560 + (id * 7919) %% 280, id %% 6,
                   (id %% 9) * 10, 0, %(d)s::date - 400, now()
            FROM lending_borrower ORDER BY id
            """,
            p,
        )
        # Decision k is borrower k's approval; decisions n + k the recent second applications.
        _step(
            say,
            "decisions",
            cur,
            """
            INSERT INTO risk_decision (id, borrower_id, policy_id, outcome, score, grade, "limit",
                reasons, trace, profile, created_at)
            SELECT l.id, l.borrower_id, %(policy)s, 'approve', %(approve_score)s,
                   %(approve_grade)s, l.principal * 2, %(approve_reasons)s::jsonb,
                   %(approve_trace)s::jsonb, %(approve_profile)s::jsonb,
                   (l.start_date - 2)::timestamp AT TIME ZONE 'UTC'
            FROM lending_loan l
            UNION ALL
            SELECT %(n)s + b.id, b.id, %(policy)s,
                   CASE WHEN b.id %% 100 = 3 THEN 'refer' ELSE 'decline' END,
                   CASE WHEN b.id %% 100 = 3 THEN %(refer_score)s ELSE %(decline_score)s END,
                   CASE WHEN b.id %% 100 = 3 THEN %(refer_grade)s ELSE %(decline_grade)s END, 0,
                   CASE WHEN b.id %% 100 = 3 THEN %(refer_reasons)s::jsonb
                        ELSE %(decline_reasons)s::jsonb END,
                   CASE WHEN b.id %% 100 = 3 THEN %(refer_trace)s::jsonb
                        ELSE %(decline_trace)s::jsonb END,
                   CASE WHEN b.id %% 100 = 3 THEN %(refer_profile)s::jsonb
                        ELSE %(decline_profile)s::jsonb END,
                   %(d)s::timestamp AT TIME ZONE 'UTC' - make_interval(mins => (b.id %% 43200)::int)
            FROM lending_borrower b WHERE b.id %% 10 = 3
            ORDER BY 1
            """,
            p,
        )
        _step(
            say,
            "applications",
            cur,
            """
            INSERT INTO risk_loanapplication (amount, term_months, annual_rate, purpose, status,
                submitted_at, reviewed_at, review_note, borrower_id, decision_id, loan_id,
                product_id, reviewed_by_id, submitted_by_id)
            SELECT x.* FROM (
                SELECT l.principal, 12, 0.12, '', 'approved',
                       (l.start_date - 2)::timestamp AT TIME ZONE 'UTC', NULL::timestamptz, '',
                       l.borrower_id, l.id, l.id, l.product_id, NULL::int, NULL::int
                FROM lending_loan l
                UNION ALL
                SELECT 1000 * (1 + b.id %% 20), 12, 0.12, '',
                       CASE WHEN b.id %% 100 = 3 THEN 'referred' ELSE 'declined' END,
                       dc.created_at, NULL, '', b.id, dc.id, NULL, %(product)s, NULL, NULL
                FROM lending_borrower b JOIN risk_decision dc ON dc.id = %(n)s + b.id
            ) x ORDER BY 6
            """,
            p,
        )
        _step(
            say,
            "credit limits",
            cur,
            """
            INSERT INTO risk_creditlimit (id, borrower_id, amount, status, review_hold, review_on,
                updated_at)
            SELECT l.borrower_id, l.borrower_id, l.principal * 2,
                   CASE WHEN l.dpd > 30 THEN 'frozen' ELSE 'active' END,
                   CASE WHEN l.dpd > 30 THEN 'frozen' ELSE '' END,
                   %(d)s::date + (l.id %% 90)::int, now()
            FROM lending_loan l ORDER BY l.borrower_id
            """,
            p,
        )
        _step(
            say,
            "credit limit changes",
            cur,
            """
            INSERT INTO risk_creditlimitchange (credit_limit_id, kind, from_amount, to_amount,
                from_status, to_status, reason, reason_message, reason_params, adverse_action,
                policy_id, changed_at)
            SELECT id, 'set', 0, amount, '', 'active', 'approved application', '',
                   '{}'::jsonb, false, %(policy)s, updated_at - interval '200 days'
            FROM risk_creditlimit
            UNION ALL
            SELECT id, 'freeze', amount, amount, 'active', 'frozen', 'more than 30 days late', '',
                   '{}'::jsonb, true, %(policy)s, updated_at
            FROM risk_creditlimit WHERE status = 'frozen'
            ORDER BY 12, 1
            """,
            p,
        )
        _step(
            say,
            "limit increase proposals",
            cur,
            """
            INSERT INTO risk_limitincreaseproposal (credit_limit_id, as_of, current_amount,
                proposed_amount, on_time_installments, reason, reason_message, reason_params,
                status, created_at, decision_note, policy_id)
            SELECT c.id, %(prev)s, c.amount, c.amount * 1.5, 6, 'six installments on time', '',
                   '{}'::jsonb, 'proposed', now(), '', %(policy)s
            FROM risk_creditlimit c WHERE c.id %% 100 = 7 AND c.status = 'active'
            ORDER BY c.id
            """,
            p,
        )

        # Collections history: cases of loans that were late once and caught up.
        _step(
            say,
            "closed cases",
            cur,
            """
            INSERT INTO collections_case (loan_id, borrower_id, status, close_reason, opened_on,
                closed_on, dpd, bucket, overdue_amount, total_outstanding, time_zone,
                assigned_at, priority, priority_parts, broken_promises, last_contact_at,
                updated_on, collector_id, queue_id)
            SELECT l.id, l.borrower_id, 'closed', 'cured',
                   greatest(l.start_date + 32, %(d)s::date - 300 + (l.id %% 200)::int),
                   greatest(l.start_date + 32, %(d)s::date - 300 + (l.id %% 200)::int)
                       + 1 + (l.id %% 20)::int,
                   0, 'M0', 0, 0, %(tz)s::text, NULL, 0, '{}', 0, NULL,
                   greatest(l.start_date + 32, %(d)s::date - 300 + (l.id %% 200)::int)
                       + 1 + (l.id %% 20)::int,
                   NULL, NULL
            FROM lending_loan l
            WHERE l.id %% 5 = 1 AND l.dpd = 0 AND l.start_date < %(d)s::date - 60
            ORDER BY 5, 1
            """,
            p,
        )
        # Money recovered after a write-off (the recoveries list): a case closed as written
        # off and one recovery on one loan in a thousand (the loan itself is left as it is).
        _step(
            say,
            "written-off cases",
            cur,
            """
            INSERT INTO collections_case (loan_id, borrower_id, status, close_reason, opened_on,
                closed_on, dpd, bucket, overdue_amount, total_outstanding, time_zone,
                assigned_at, priority, priority_parts, broken_promises, last_contact_at,
                updated_on, collector_id, queue_id)
            SELECT l.id, l.borrower_id, 'closed', 'written_off', %(d)s::date - 400,
                   %(d)s::date - 200, 181, 'M7', l.principal, l.principal, %(tz)s::text,
                   NULL, 0, '{}', 0, NULL, %(d)s::date - 200,
                   (SELECT user_id FROM collections_queue_members m
                    ORDER BY m.user_id OFFSET (l.id %% 12)::int LIMIT 1),
                   (SELECT id FROM collections_queue WHERE from_bucket = 'M4')
            FROM lending_loan l WHERE l.id %% 1000 = 999 AND l.dpd = 0
            ORDER BY l.id
            """,
            p,
        )
        cur.execute(
            f"""
            INSERT INTO lending_transaction ({LEDGER_COLUMNS})
            SELECT c.loan_id, 'recovery', 'none', %(d)s::date - (c.loan_id %% 150)::int,
                   500, 0, 0, 0, 0, 0, 'bench-recovery-' || c.loan_id, '', 'bank_transfer', '',
                   (%(d)s::date - (c.loan_id %% 150)::int)::timestamp AT TIME ZONE 'UTC'
            FROM collections_case c WHERE c.close_reason = 'written_off' ORDER BY 4, 1
            """,
            p,
        )
        _step(
            say,
            "contact attempts",
            cur,
            """
            INSERT INTO collections_contactattempt (channel, party, contacted_at, connected,
                outcome, note, logged_at, agent_id, borrower_id, case_id, emergency_contact_id,
                policy_id)
            SELECT 'call', 'borrower', t.at, k = 2,
                   CASE WHEN k = 2 AND c.id %% 4 = 0 THEN 'promise_to_pay'
                        WHEN k = 2 THEN 'refused' ELSE 'no_answer' END,
                   '', t.at, c.collector_id, c.borrower_id, c.id, NULL, %(compliance)s
            FROM collections_case c
            CROSS JOIN generate_series(1, 2) k
            CROSS JOIN LATERAL (
                SELECT ((%(prev)s::date - (2 - k) - (c.id %% 5)::int)::timestamp
                        + make_interval(hours => 9 + (c.id %% 9)::int))
                       AT TIME ZONE %(tz)s::text AS at
            ) t
            WHERE c.status = 'open'
            ORDER BY t.at, c.id
            """,
            p,
        )
        cur.execute(
            """
            UPDATE collections_case c SET last_contact_at = x.at
              FROM (SELECT case_id, max(contacted_at) AS at FROM collections_contactattempt
                    GROUP BY case_id) x
             WHERE c.id = x.case_id
            """
        )
        _step(
            say,
            "promises",
            cur,
            """
            INSERT INTO collections_promisetopay (amount, promised_for, made_on, grace_days,
                state, paid, resolved_on, recorded_at, case_id, contact_id, recorded_by_id)
            SELECT c.overdue_amount, %(d)s::date + 3, (a.contacted_at AT TIME ZONE 'UTC')::date,
                   2, 'pending', 0, NULL, a.logged_at, c.id, a.id, a.agent_id
            FROM collections_case c
            JOIN collections_contactattempt a
              ON a.case_id = c.id AND a.outcome = 'promise_to_pay'
            WHERE c.status = 'open' AND c.overdue_amount > 0
            ORDER BY a.id
            """,
            p,
        )
        _step(
            say,
            "write-off proposals",
            cur,
            """
            INSERT INTO collections_writeoffproposal (state, reason, proposed_at, decision_note,
                dpd, outstanding, case_id)
            SELECT 'pending', c.dpd || ' days past due', now(), '', c.dpd, c.total_outstanding,
                   c.id
            FROM collections_case c WHERE c.status = 'open' AND c.dpd >= 180 ORDER BY c.id
            """,
        )
        _step(
            say,
            "waiver proposals",
            cur,
            """
            INSERT INTO collections_waiverproposal (state, reason, proposed_at, decision_note,
                penalty, interest, case_id, proposed_by_id)
            SELECT 'pending', 'hardship', now(), '', l.penalty_outstanding, 0, c.id,
                   c.collector_id
            FROM collections_case c JOIN lending_loan l ON l.id = c.loan_id
            WHERE c.status = 'open' AND c.id %% 50 = 0 AND l.penalty_outstanding > 0
            ORDER BY c.id
            """,
            p,
        )
        _step(
            say,
            "reminders",
            cur,
            """
            INSERT INTO collections_reminder (kind, language, business_date, send_on, time_zone,
                due_date, amount_due, currency, penalty_rate, penalty_from, grace_until,
                cost_cap_rate, state, attempts, last_error, sender, subject, body, sent_at,
                created_at, borrower_id, installment_id, loan_id)
            SELECT 'before_due', 'zh-hans', i.due_date - 4, i.due_date - 3, %(tz)s::text,
                   i.due_date, i.principal_due + i.interest_due, 'CNY', 0.18, i.due_date,
                   i.due_date + 3, 0.24, 'sent', 1, '', 'bench',
                   '还款提醒 ' || l.reference,
                   '您的贷款 ' || l.reference || ' 将于 ' || i.due_date || ' 到期。',
                   (i.due_date - 3)::timestamp + interval '9 hours',
                   (i.due_date - 4)::timestamp + interval '22 hours', l.borrower_id, i.id, l.id
            FROM lending_loan l
            JOIN lending_installment i ON i.loan_id = l.id
             AND i.due_date BETWEEN %(d)s::date - 31 AND %(d)s::date + 3
            ORDER BY i.due_date, l.id
            """,
            p,
        )
        _step(
            say,
            "audit events",
            cur,
            """
            INSERT INTO lending_auditevent (occurred_at, action, object_type, object_id,
                summary, data, actor_id)
            SELECT x.* FROM (
                SELECT l.start_date::timestamp AT TIME ZONE 'UTC', 'loan.migrate', 'loan',
                       l.id::text, 'loan ' || l.reference || ' migrated', '{}'::jsonb,
                       NULL::int
                FROM lending_loan l
                UNION ALL
                SELECT a.submitted_at, 'application.submit', 'loanapplication', a.id::text,
                       'application ' || a.id || ' ' || a.status, '{}', NULL
                FROM risk_loanapplication a WHERE a.loan_id IS NULL
            ) x ORDER BY 1
            """,
        )
        for table in ("risk_decision", "risk_creditlimit"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        _ledger(cur, p, say)
    conn.commit()
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT (SELECT count(*) FROM risk_loanapplication),
                   (SELECT count(*) FROM risk_creditlimit),
                   (SELECT count(*) FROM collections_case),
                   (SELECT count(*) FROM lending_transaction)
            """
        )
        applications, limits, cases, transactions = cur.fetchone()
    conn.commit()
    return {
        "applications": applications,
        "credit_limits": limits,
        "cases": cases,
        "transactions": transactions,
    }
