"""The book as it stood at the end of past dates, rebuilt from the ledger: pure, no Django.

Used by `snapshot_backfill` for dates no night snapshotted. Every installment's balance at the
end of a date is the sum of its ledger lines valued on or before it (charges add, settlements
subtract); the loan's dpd and bucket then follow from lending's own pure rules
(`days_past_due`, `bucket_for`) applied to those balances, exactly as the night applies them
to the cached ones. One pass over the dates, touching only what changed each day.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from lending.delinquency import Bucket, bucket_for, days_past_due

ZERO = Decimal("0")


@dataclass(frozen=True)
class LoanFact:
    id: int
    disbursed: date
    principal: Decimal
    tolerance: Decimal
    still_active: bool  # active today: counted while disbursed, whatever its balance


@dataclass(frozen=True)
class Line:
    """One ledger line, signed: + owed more (a charge), − owed less (a settlement)."""

    installment: int
    loan: int
    value_date: date
    principal: Decimal
    total: Decimal


@dataclass
class BucketFigures:
    loans: int = 0
    principal_outstanding: Decimal = ZERO
    total_outstanding: Decimal = ZERO
    overdue_amount: Decimal = ZERO


@dataclass
class DayFigures:
    business_date: date
    active_loans: int = 0
    principal_outstanding: Decimal = ZERO
    total_outstanding: Decimal = ZERO
    overdue_loans: int = 0
    overdue_principal: Decimal = ZERO
    overdue_amount: Decimal = ZERO
    disbursed_loans: int = 0
    disbursed_principal: Decimal = ZERO
    buckets: dict[str, BucketFigures] = field(default_factory=dict)


def rebuild(
    *,
    loans: Sequence[LoanFact],
    installments: Iterable[tuple[int, int, date]],  # (id, loan, due date)
    lines: Iterable[Line],
    buckets: Sequence[Bucket],
    start: date,
    end: date,
) -> list[DayFigures]:
    facts = {loan.id: loan for loan in loans}
    due = {}
    falling_due = defaultdict(list)  # date an installment becomes late -> its ids
    for iid, loan_id, due_date in installments:
        due[iid] = (loan_id, due_date)
        falling_due[due_date + timedelta(days=1)].append(iid)
    by_day = defaultdict(list)
    for line in lines:
        by_day[max(line.value_date, start)].append(line)  # earlier lines: the opening balance
    owed: dict[int, Decimal] = defaultdict(Decimal)  # installment -> total outstanding
    principal: dict[int, Decimal] = defaultdict(Decimal)  # loan -> principal outstanding
    total: dict[int, Decimal] = defaultdict(Decimal)
    late: dict[int, set[int]] = defaultdict(set)  # loan -> its late installments

    def place(iid: int, today: date) -> None:
        loan_id, due_date = due[iid]
        if due_date < today and owed[iid] > 0:
            late[loan_id].add(iid)
        else:
            late[loan_id].discard(iid)

    days = []
    today = start
    while today <= end:
        touched = set(falling_due.get(today, ()))
        for line in by_day.get(today, ()):
            owed[line.installment] += line.total
            principal[line.loan] += line.principal
            total[line.loan] += line.total
            touched.add(line.installment)
        for iid in touched:
            place(iid, today)
        days.append(_figures(today, facts, principal, total, late, owed, due, buckets))
        today += timedelta(days=1)
    return days


def _figures(today, facts, principal, total, late, owed, due, buckets) -> DayFigures:
    day = DayFigures(today, buckets={b.code: BucketFigures() for b in buckets})
    for loan in facts.values():
        if loan.disbursed > today:
            continue
        if loan.disbursed == today:
            day.disbursed_loans += 1
            day.disbursed_principal += loan.principal
        if not loan.still_active and total[loan.id] <= 0:
            continue  # paid off or written off by then
        iids = late.get(loan.id) or ()
        overdue = sum((owed[i] for i in iids), ZERO)
        dpd = days_past_due(
            oldest_unpaid_due=min((due[i][1] for i in iids), default=None),
            overdue_amount=overdue,
            tolerance=loan.tolerance,
            as_of=today,
        )
        row = day.buckets[bucket_for(dpd, buckets)]
        row.loans += 1
        row.principal_outstanding += principal[loan.id]
        row.total_outstanding += total[loan.id]
        row.overdue_amount += overdue
        day.active_loans += 1
        day.principal_outstanding += principal[loan.id]
        day.total_outstanding += total[loan.id]
        day.overdue_amount += overdue
        if dpd:
            day.overdue_loans += 1
            day.overdue_principal += principal[loan.id]
    return day
