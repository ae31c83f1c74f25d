"""Vintage curves: pure, no Django.

A vintage is the month loans were disbursed in. At month on book k a loan counts as bad when it
had reached 30+ days past due within k whole months of its disbursement ("ever 30+": a loan
that cured or was written off stays counted, so each curve only rises). A cell is shown only
once every loan of the vintage has been on the book k months by the last closed date.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from debt_collection.rolls import month_end
from lending.money import share


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, month_end(year, month0 + 1).day))


def months_on_book(disbursed: date, when: date) -> int:
    """Whole months from disbursement to `when` (15 Jan → 14 Mar is 1, → 15 Mar is 2)."""
    months = (when.year - disbursed.year) * 12 + when.month - disbursed.month
    if add_months(disbursed, months) > when:
        months -= 1
    return max(months, 0)


@dataclass(frozen=True)
class Cohort:
    loans: int
    principal: Decimal


@dataclass(frozen=True)
class VintageCell:
    vintage: str  # "2026-03"
    mob: int
    loans: int
    bad_loans: int
    principal: Decimal
    bad_principal: Decimal

    @property
    def loan_share(self) -> Decimal | None:
        return share(self.bad_loans, self.loans)

    @property
    def principal_share(self) -> Decimal | None:
        return share(self.bad_principal, self.principal)


def vintage_curves(
    cohorts: dict[date, Cohort],
    bad: Iterable[tuple[date, Decimal, date]],
    *,
    as_of: date,
    max_mob: int,
) -> list[VintageCell]:
    """`cohorts`: per vintage (its first day) the loans disbursed and their principal; `bad`:
    (disbursement date, principal, first date at 30+ dpd) of the loans of those cohorts that
    went bad. One cell per vintage and month on book 1..max_mob that has been observed."""
    first_bad: dict[tuple[date, int], tuple[int, Decimal]] = {}
    for disbursed, principal, went_bad in bad:
        key = (disbursed.replace(day=1), months_on_book(disbursed, went_bad))
        count, amount = first_bad.get(key, (0, Decimal(0)))
        first_bad[key] = (count + 1, amount + principal)
    cells = []
    for vintage in sorted(cohorts):
        cohort = cohorts[vintage]
        last_disbursed = month_end(vintage.year, vintage.month)
        count, amount = 0, Decimal(0)
        # Bad before month on book 1 (rare: a first due date inside the month) counts from 1.
        early = first_bad.get((vintage, 0), (0, Decimal(0)))
        count, amount = count + early[0], amount + early[1]
        for mob in range(1, max_mob + 1):
            if add_months(last_disbursed, mob) > as_of:
                break
            new = first_bad.get((vintage, mob), (0, Decimal(0)))
            count, amount = count + new[0], amount + new[1]
            cells.append(
                VintageCell(f"{vintage:%Y-%m}", mob, cohort.loans, count, cohort.principal, amount)
            )
    return cells
