"""Roll rates from the bucket history: pure, no Django.

A loan's bucket at a date is the `to` of its last bucket change on or before it (M0 before its
first). The roll rate of bucket B in month m is, of the loans in B at the end of month m − 1,
the share in the next bucket at the end of month m. Current loans (M0) leave no history until
they go late, so M0 → M1 cannot be measured from it; rates start at M1.

`roll_rates` works from the changes themselves; `rolls_from_counts` from the number of loans per
(month start, bucket then, bucket at the month's end), which the database counts (kpis).
"""

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from lending.money import share

CURRENT = "M0"


@dataclass(frozen=True)
class Roll:
    month: str  # "2026-10": from the end of September to the end of October
    from_bucket: str
    to_bucket: str
    loans: int  # in from_bucket at the start
    rolled: int  # of them, in to_bucket at the end

    @property
    def rate(self) -> Decimal | None:
        return share(self.rolled, self.loans)


def month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def month_ends(last: date, months: int) -> list[date]:
    """The ends of the `months` months up to `last`'s month, and the one before them."""
    year, month = last.year, last.month
    ends = []
    for _ in range(months + 1):
        ends.append(month_end(year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(ends)


def bucket_at(history: Sequence[tuple[date, str]], when: date) -> str:
    """`history`: (business date, to bucket) sorted by date."""
    i = bisect_right([d for d, _ in history], when)
    return history[i - 1][1] if i else CURRENT


def roll_rates(
    changes: Iterable[tuple[int, date, str]], buckets: Sequence[str], ends: Sequence[date]
) -> list[Roll]:
    """`changes`: (loan, business date, to bucket) in any order; `buckets` in order, M0 first;
    `ends`: month ends, oldest first. One Roll per month and delinquent bucket with a next."""
    histories: dict[int, list[tuple[date, str]]] = {}
    for loan, when, to in sorted(changes, key=lambda c: (c[0], c[1])):
        histories.setdefault(loan, []).append((when, to))
    rolls = []
    for start, end in pairwise(ends):
        at_start = {loan: bucket_at(h, start) for loan, h in histories.items()}
        at_end = {loan: bucket_at(h, end) for loan, h in histories.items()}
        for here, following in pairwise(buckets[1:]):
            held = [loan for loan, b in at_start.items() if b == here]
            rolled = sum(1 for loan in held if at_end[loan] == following)
            rolls.append(Roll(f"{end:%Y-%m}", here, following, len(held), rolled))
    return rolls


def rolls_from_counts(
    counts: Mapping[tuple[date, str, str], int], buckets: Sequence[str], ends: Sequence[date]
) -> list[Roll]:
    """`counts`: (a month end, a loan's bucket then, its bucket at the next month end) -> loans,
    for the loans with a bucket change by the first of the two ends; the same Rolls as
    `roll_rates` on those changes."""
    held: dict[tuple[date, str], int] = {}
    for (start, here, _there), n in counts.items():
        held[start, here] = held.get((start, here), 0) + n
    rolls = []
    for start, end in pairwise(ends):
        for here, following in pairwise(buckets[1:]):
            loans = held.get((start, here), 0)
            rolled = counts.get((start, here, following), 0)
            rolls.append(Roll(f"{end:%Y-%m}", here, following, loans, rolled))
    return rolls
