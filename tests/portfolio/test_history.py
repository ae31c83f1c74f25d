"""The backfill's rebuild (pure `portfolio.history`) against a plain recount: for every date,
each loan's balances summed afresh from the ledger lines valued on or before it, its dpd and
bucket from lending's rules. The rebuild only revisits the loans something happened to (and the
late ones); whatever the ledger, it must say what the recount says."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from lending.delinquency import Bucket, bucket_for, days_past_due
from portfolio.history import Line, LoanFact, rebuild

# Narrow buckets, so a few weeks of history move loans through all of them.
BUCKETS = (Bucket("A", 0, 0), Bucket("B", 1, 3), Bucket("C", 4, 10), Bucket("D", 11, None))
START, END = date(2026, 3, 1), date(2026, 4, 10)
ZERO = Decimal(0)


def recount(loans, installments, lines, today):
    """The book at the end of `today`, from nothing but its definition."""
    owed = {iid: ZERO for iid, _, _ in installments}
    principal = {loan.id: ZERO for loan in loans}
    total = dict(principal)
    for line in lines:
        if line.value_date <= today:
            owed[line.installment] += line.total
            principal[line.loan] += line.principal
            total[line.loan] += line.total
    figures = {"active": 0, "principal": ZERO, "total": ZERO, "late": 0, "late_principal": ZERO}
    figures["overdue"] = ZERO
    buckets = {b.code: (0, ZERO, ZERO, ZERO) for b in BUCKETS}
    disbursed = [loan for loan in loans if loan.disbursed == today]
    for loan in loans:
        if loan.disbursed > today or (not loan.still_active and total[loan.id] <= 0):
            continue
        late = [(d, owed[i]) for i, lid, d in installments if lid == loan.id and d < today]
        late = [(d, amount) for d, amount in late if amount > 0]
        overdue = sum((amount for _, amount in late), ZERO)
        dpd = days_past_due(
            oldest_unpaid_due=min((d for d, _ in late), default=None),
            overdue_amount=overdue,
            tolerance=loan.tolerance,
            as_of=today,
        )
        code = bucket_for(dpd, BUCKETS)
        n, p, t, o = buckets[code]
        buckets[code] = (n + 1, p + principal[loan.id], t + total[loan.id], o + overdue)
        figures["active"] += 1
        figures["principal"] += principal[loan.id]
        figures["total"] += total[loan.id]
        figures["overdue"] += overdue
        if dpd:
            figures["late"] += 1
            figures["late_principal"] += principal[loan.id]
    figures["disbursed"] = (len(disbursed), sum((x.principal for x in disbursed), ZERO))
    return figures, buckets


def as_read(day):
    figures = {
        "active": day.active_loans,
        "principal": day.principal_outstanding,
        "total": day.total_outstanding,
        "late": day.overdue_loans,
        "late_principal": day.overdue_principal,
        "overdue": day.overdue_amount,
        "disbursed": (day.disbursed_loans, day.disbursed_principal),
    }
    buckets = {
        code: (b.loans, b.principal_outstanding, b.total_outstanding, b.overdue_amount)
        for code, b in day.buckets.items()
    }
    return figures, buckets


dates = st.dates(START - timedelta(days=10), END)
amounts = st.decimals(Decimal("-500"), Decimal("1000"), places=2)
days_to_due = st.integers(1, 30)


@st.composite
def ledgers(draw):
    loans = [
        LoanFact(
            n,
            draw(dates),
            draw(st.decimals(Decimal("100"), Decimal("5000"), places=2)),
            draw(st.sampled_from([ZERO, Decimal("5.00")])),
            draw(st.booleans()),
        )
        for n in range(draw(st.integers(1, 5)))
    ]
    installments = [
        (len(loans) * k + loan.id, loan.id, loan.disbursed + timedelta(days=draw(days_to_due)))
        for loan in loans
        for k in range(draw(st.integers(1, 3)))
    ]
    lines = []
    for iid, loan_id, _ in draw(st.lists(st.sampled_from(installments), max_size=25)):
        principal = draw(amounts)
        lines.append(Line(iid, loan_id, draw(dates), principal, principal + draw(amounts)))
    return loans, installments, lines


@settings(max_examples=200, deadline=None)
@given(ledgers())
def test_every_date_reads_as_a_recount_of_the_ledger(ledger):
    loans, installments, lines = ledger
    days = rebuild(
        loans=loans,
        installments=installments,
        lines=lines,
        buckets=BUCKETS,
        start=START,
        end=END,
    )
    assert [d.business_date for d in days] == [
        START + timedelta(days=n) for n in range((END - START).days + 1)
    ]
    for day in days:
        assert as_read(day) == recount(loans, installments, lines, day.business_date), day
