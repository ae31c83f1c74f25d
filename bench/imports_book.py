"""What the import benchmark adds to the synthetic book of bench/book.py, and its files.

`add_ledger`: the transactions the book's caches stand for, so `reconcile` agrees with the book
before (and, the benchmark checks, after) an import. Per loan, as `loan_disburse`, the nights
and the repayments would have written them:

- one disbursement (charge) on its start date, a line per installment with its principal and
  interest;
- the settled installments' repayment (settle), one transaction valued on the last of their due
  dates, a line per settled installment;
- for a late loan, the penalty the nights accrued (charge) valued on D − 1, a line per
  installment carrying penalty.

`repayment_rows`: one repayment per loan valued on D, as a bank statement matched to the book
would hold it — a late loan pays its arrears (every third one half of them, staying late), a
current loan its next installment (held as a credit balance until it falls due, unless it falls
due on D). `write_csv` / `write_xlsx` write them with the Chinese headers.
"""

import csv
import io
import time
from datetime import date
from decimal import Decimal

HEADERS = ("贷款编号", "还款金额", "还款日期", "渠道", "流水号")


def _step(say, label: str, cur, sql: str, params=None) -> None:
    started = time.monotonic()
    cur.execute(sql, params)
    rows = cur.rowcount if cur.rowcount >= 0 else ""
    say(f"  {label}: {rows} rows ({time.monotonic() - started:.1f} s)")


def add_ledger(conn, *, business_date: date, say) -> None:
    """The transactions and lines behind the book's balances (see the module docstring)."""
    p = {"d": business_date}
    with conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET work_mem = '256MB'")
        cur.execute("SET synchronous_commit = off")
        columns = (
            "loan_id, kind, effect, value_date, amount, principal, interest, fee, penalty, "
            "credit, idempotency_key, external_reference, channel, note, posted_at"
        )
        _step(
            say,
            "disbursements",
            cur,
            f"""
            INSERT INTO lending_transaction ({columns})
            SELECT l.id, 'disbursement', 'charge', l.start_date, l.principal, s.p, s.i, 0, 0, 0,
                   '', '', '', '', now()
            FROM lending_loan l
            JOIN (SELECT loan_id, sum(principal_due) AS p, sum(interest_due) AS i
                  FROM lending_installment GROUP BY loan_id) s ON s.loan_id = l.id
            ORDER BY l.id
            """,
        )
        _step(
            say,
            "repayments so far",
            cur,
            f"""
            INSERT INTO lending_transaction ({columns})
            SELECT loan_id, 'repayment', 'settle', max(settled_on),
                   sum(principal_settled + interest_settled), sum(principal_settled),
                   sum(interest_settled), 0, 0, 0, '', '', 'bench', '', now()
            FROM lending_installment WHERE settled_on IS NOT NULL
            GROUP BY loan_id ORDER BY loan_id
            """,
        )
        _step(
            say,
            "penalty accrued",
            cur,
            f"""
            INSERT INTO lending_transaction ({columns})
            SELECT loan_id, 'penalty_accrual', 'charge', %(d)s::date - 1, 0, 0, 0, 0,
                   sum(penalty_due), 0, '', '', '', '', now()
            FROM lending_installment WHERE penalty_due > 0
            GROUP BY loan_id ORDER BY loan_id
            """,
            p,
        )
        _step(
            say,
            "lines",
            cur,
            """
            INSERT INTO lending_transactionline (transaction_id, installment_id, principal,
                interest, fee, penalty)
            SELECT t.id, i.id,
                   CASE WHEN t.kind = 'penalty_accrual' THEN 0 ELSE i.principal_due END,
                   CASE WHEN t.kind = 'penalty_accrual' THEN 0 ELSE i.interest_due END,
                   0,
                   CASE WHEN t.kind = 'penalty_accrual' THEN i.penalty_due ELSE 0 END
            FROM lending_transaction t
            JOIN lending_installment i ON i.loan_id = t.loan_id
             AND CASE t.kind WHEN 'disbursement' THEN true
                             WHEN 'repayment' THEN i.settled_on IS NOT NULL
                             ELSE i.penalty_due > 0 END
            ORDER BY t.id, i.seq
            """,
        )
    conn.commit()


REPAYMENTS_SQL = """
SELECT l.reference,
       CASE WHEN o.due_now > 0 AND l.id %% 3 = 0 THEN round(o.due_now / 2, 2)
            WHEN o.due_now > 0 THEN o.due_now
            ELSE o.next_amount END AS amount,
       'BNK' || lpad(l.id::text, 12, '0') AS external_id
FROM lending_loan l
CROSS JOIN LATERAL (
    SELECT coalesce(sum(i.principal_due - i.principal_settled + i.interest_due
                        - i.interest_settled + i.fee_due - i.fee_settled + i.penalty_due
                        - i.penalty_settled) FILTER (WHERE i.due_date <= %(d)s), 0) AS due_now,
           (array_agg(i.principal_due + i.interest_due + i.fee_due ORDER BY i.seq))[1]
               AS next_amount
    FROM lending_installment i WHERE i.loan_id = l.id AND i.settled_on IS NULL
) o
WHERE l.status = 'active'
ORDER BY l.id
LIMIT %(rows)s
"""


def repayment_rows(conn, *, rows: int, business_date: date):
    """(reference, amount, external id) for the first `rows` active loans, streamed."""
    with conn.cursor(name="bench_repayments") as cur:
        cur.itersize = 5000
        cur.execute(REPAYMENTS_SQL, {"d": business_date, "rows": rows})
        yield from cur


def write_csv(path, rows, business_date: date) -> int:
    """UTF-8 with a BOM (as Excel saves "CSV UTF-8"), amounts as plain numbers."""
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADERS)
        day = business_date.isoformat()
        for reference, amount, external_id in rows:
            writer.writerow((reference, f"{amount:.2f}", day, "bank_transfer", external_id))
            n += 1
    return n


def write_xlsx(csv_path, xlsx_path) -> None:
    """The same rows as an XLSX workbook: amounts as numbers, value dates as date cells."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("还款")
    with open(csv_path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        sheet.append(next(reader))
        for reference, amount, day, channel, external_id in reader:
            sheet.append(
                (reference, float(Decimal(amount)), date.fromisoformat(day), channel, external_id)
            )
    buffer = io.BytesIO()
    book.save(buffer)
    with open(xlsx_path, "wb") as f:
        f.write(buffer.getvalue())
