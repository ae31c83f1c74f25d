"""The book as it stood at the end of past dates, rebuilt from the ledger: pure, no Django.

Used by `snapshot_backfill` for dates no night snapshotted. Every installment's balance at the
end of a date is the sum of its ledger lines valued on or before it (charges add, settlements
subtract); the loan's dpd and bucket then follow from lending's own pure rules
(`days_past_due`, `bucket_for`) applied to those balances, exactly as the night applies them
to the cached ones. One pass over the dates; each date recomputes only the loans something
happened to and the late ones, and moves the book's sums by their difference.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
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


@dataclass(frozen=True)
class _Standing:
    """What one loan adds to a day's figures."""

    bucket: str
    principal: Decimal
    total: Decimal
    overdue: Decimal
    late: bool  # dpd > 0


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
    arriving = defaultdict(list)  # first date a loan counts -> its ids
    disbursed = defaultdict(lambda: (0, ZERO))  # date -> (loans, principal) disbursed on it
    for loan in facts.values():
        arriving[max(loan.disbursed, start)].append(loan.id)
        count, amount = disbursed[loan.disbursed]
        disbursed[loan.disbursed] = (count + 1, amount + loan.principal)
    owed: dict[int, Decimal] = defaultdict(Decimal)  # installment -> total outstanding
    principal: dict[int, Decimal] = defaultdict(Decimal)  # loan -> principal outstanding
    total: dict[int, Decimal] = defaultdict(Decimal)
    late: dict[int, set[int]] = {}  # loan -> its late installments (never an empty set)
    standing: dict[int, _Standing] = {}  # loan -> what it adds to today's figures
    book = DayFigures(start, buckets={b.code: BucketFigures() for b in buckets})

    def place(iid: int, today: date) -> None:
        loan_id, due_date = due[iid]
        if due_date < today and owed[iid] > 0:
            late.setdefault(loan_id, set()).add(iid)
        elif iid in late.get(loan_id, ()):
            late[loan_id].discard(iid)
            if not late[loan_id]:
                del late[loan_id]

    def stand(loan: LoanFact, today: date) -> _Standing | None:
        if not loan.still_active and total[loan.id] <= 0:
            return None  # paid off or written off by then
        iids = late.get(loan.id, ())
        overdue = sum((owed[i] for i in iids), ZERO)
        dpd = days_past_due(
            oldest_unpaid_due=min((due[i][1] for i in iids), default=None),
            overdue_amount=overdue,
            tolerance=loan.tolerance,
            as_of=today,
        )
        return _Standing(
            bucket_for(dpd, buckets),
            principal[loan.id],
            total[loan.id],
            overdue,
            dpd > 0,
        )

    # A loan's figures change only on a date something happens to it (a line, an installment
    # falling due, its disbursement) or, while it has late installments, every date (its dpd
    # grows): each date looks at those loans only and moves the book's sums by the difference,
    # instead of summing every loan again.
    days = []
    today = start
    while today <= end:
        touched = set(falling_due.get(today, ()))
        changed = set(arriving.get(today, ()))
        for line in by_day.get(today, ()):
            owed[line.installment] += line.total
            principal[line.loan] += line.principal
            total[line.loan] += line.total
            touched.add(line.installment)
            changed.add(line.loan)
        for iid in touched:
            place(iid, today)
            changed.add(due[iid][0])
        changed.update(late)
        for loan_id in changed:
            loan = facts[loan_id]
            if loan.disbursed > today:
                continue  # not on the book yet: counted from the date it arrives
            _move(book, standing.pop(loan_id, None), -1)
            now = stand(loan, today)
            if now is not None:
                standing[loan_id] = now
                _move(book, now, 1)
        days.append(_copy(book, today, *disbursed.get(today, (0, ZERO))))
        today += timedelta(days=1)
    return days


def _move(book: DayFigures, loan: _Standing | None, sign: int) -> None:
    """Add a loan's figures to the book (sign 1) or take them out (−1)."""
    if loan is None:
        return
    row = book.buckets[loan.bucket]
    row.loans += sign
    row.principal_outstanding += sign * loan.principal
    row.total_outstanding += sign * loan.total
    row.overdue_amount += sign * loan.overdue
    book.active_loans += sign
    book.principal_outstanding += sign * loan.principal
    book.total_outstanding += sign * loan.total
    book.overdue_amount += sign * loan.overdue
    if loan.late:
        book.overdue_loans += sign
        book.overdue_principal += sign * loan.principal


def _copy(book: DayFigures, today: date, loans: int, principal: Decimal) -> DayFigures:
    return DayFigures(
        today,
        active_loans=book.active_loans,
        principal_outstanding=book.principal_outstanding,
        total_outstanding=book.total_outstanding,
        overdue_loans=book.overdue_loans,
        overdue_principal=book.overdue_principal,
        overdue_amount=book.overdue_amount,
        disbursed_loans=loans,
        disbursed_principal=principal,
        buckets={code: replace(row) for code, row in book.buckets.items()},
    )
