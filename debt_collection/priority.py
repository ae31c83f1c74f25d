"""A case's priority score and the parts it is made of. Pure Python, no Django.

Out of 100: days past due up to 40 (full at 180), the overdue amount up to 30 (full at
20,000), broken promises 10 each up to 20, and days without contact up to 10 (full at 14 days
or never contacted). Whole points, rounded down, so the parts add up to the score exactly.
"""

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

DPD_FULL, DPD_POINTS = 180, 40
AMOUNT_FULL, AMOUNT_POINTS = Decimal("20000"), 30
PROMISE_POINTS, PROMISES_COUNTED = 10, 2
QUIET_FULL, QUIET_POINTS = 14, 10


@dataclass(frozen=True, slots=True)
class Priority:
    score: int
    parts: dict[str, int]  # "dpd", "amount", "broken_promises", "no_contact"


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def priority(
    *, dpd: int, overdue_amount: Decimal, broken_promises: int, days_since_contact: int | None
) -> Priority:
    """`days_since_contact` None: never contacted."""
    amount = min(max(overdue_amount, Decimal(0)), AMOUNT_FULL)
    quiet = (
        QUIET_FULL if days_since_contact is None else min(max(days_since_contact, 0), QUIET_FULL)
    )
    parts = {
        "dpd": min(max(dpd, 0), DPD_FULL) * DPD_POINTS // DPD_FULL,
        "amount": _floor(amount * AMOUNT_POINTS / AMOUNT_FULL),
        "broken_promises": min(max(broken_promises, 0), PROMISES_COUNTED) * PROMISE_POINTS,
        "no_contact": quiet * QUIET_POINTS // QUIET_FULL,
    }
    return Priority(sum(parts.values()), parts)
