"""Repayment waterfall and payoff arithmetic over plain values: pure, no Django (DESIGN §5).

The services load installments, call these functions, and write the lines they return; the
admin's payoff preview and the tests call the same functions.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from lending.money import DEFAULT_CURRENCY, ZERO
from lending.schedules import DayCount, interest_to_date

COMPONENTS = ("principal", "interest", "fee", "penalty")
DEFAULT_ORDER = ("penalty", "fee", "interest", "principal")


def parse_allocation_order(text: str) -> tuple[str, ...]:
    """'penalty,fee,interest,principal' → a tuple naming each component exactly once."""
    parts = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in parts if part not in COMPONENTS]
    if unknown:
        raise ValueError(f"unknown component(s) {', '.join(unknown)}; use {', '.join(COMPONENTS)}")
    if sorted(parts) != sorted(COMPONENTS):
        raise ValueError(f"name each of {', '.join(COMPONENTS)} exactly once")
    return parts


@dataclass
class Parts:
    """An amount split into the four components (outstanding, allocated or charged)."""

    principal: Decimal = ZERO
    interest: Decimal = ZERO
    fee: Decimal = ZERO
    penalty: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee + self.penalty

    # Spelled out field by field: the batch of repayments does this some twenty times a
    # payment, and a loop over COMPONENTS through getattr costs several times as much.
    def __add__(self, other: "Parts") -> "Parts":
        return Parts(
            self.principal + other.principal,
            self.interest + other.interest,
            self.fee + other.fee,
            self.penalty + other.penalty,
        )

    def __sub__(self, other: "Parts") -> "Parts":
        return Parts(
            self.principal - other.principal,
            self.interest - other.interest,
            self.fee - other.fee,
            self.penalty - other.penalty,
        )

    def __neg__(self) -> "Parts":
        return Parts(-self.principal, -self.interest, -self.fee, -self.penalty)

    def is_zero(self) -> bool:
        return not (self.principal or self.interest or self.fee or self.penalty)

    @classmethod
    def sum(cls, items: Iterable["Parts"]) -> "Parts":
        total = cls()
        for item in items:
            total = total + item
        return total


@dataclass
class InstallmentState:
    """One installment as the waterfall sees it: what was charged and what is settled."""

    seq: int
    due_date: date
    period_start: date
    due: Parts
    settled: Parts = field(default_factory=Parts)

    @property
    def outstanding(self) -> Parts:
        return self.due - self.settled


def allocate(
    amount: Decimal, installments: Sequence[InstallmentState], order: Sequence[str]
) -> tuple[dict[int, Parts], Decimal]:
    """Spread `amount` over the installments, oldest first, each component in `order`.

    Returns the allocation per installment seq (only non-empty ones) and what is left over.
    """
    remaining = amount
    allocations: dict[int, Parts] = {}
    for installment in sorted(installments, key=lambda i: (i.due_date, i.seq)):
        outstanding = installment.outstanding
        taken = Parts()
        for component in order:
            if remaining <= 0:
                break
            part = min(remaining, max(ZERO, getattr(outstanding, component)))
            if part:
                setattr(taken, component, part)
                remaining -= part
        if not taken.is_zero():
            allocations[installment.seq] = taken
        if remaining <= 0:
            break
    return allocations, remaining


def due_installments(
    installments: Iterable[InstallmentState], as_of: date
) -> list[InstallmentState]:
    return [i for i in installments if i.due_date <= as_of]


@dataclass
class PayoffQuote:
    """What closes the loan on `as_of`: outstanding amounts with interest only to that date."""

    as_of: date
    per_installment: dict[int, Parts]
    unearned_interest: dict[int, Decimal]
    credit_balance: Decimal = ZERO

    @cached_property  # read twice a repayment (the overpayment check, payoff or not)
    def parts(self) -> Parts:
        return Parts.sum(self.per_installment.values())

    @property
    def gross(self) -> Decimal:
        return self.parts.total

    @property
    def amount(self) -> Decimal:
        """Cash the borrower must bring: the gross payoff less any credit already held."""
        return max(ZERO, self.gross - self.credit_balance)


def payoff_floor(principal_outstanding: Decimal, credit_balance: Decimal) -> Decimal:
    """What no payoff quote comes below: a quote cancels unearned interest only, so all the
    principal still outstanding is in it, less the credit the loan already holds. A payment
    below it is no payoff, and the quote need not be worked out to say so."""
    return max(ZERO, principal_outstanding - credit_balance)


def payoff_quote(
    installments: Sequence[InstallmentState],
    *,
    as_of: date,
    annual_rate: Decimal,
    day_count: DayCount,
    credit_balance: Decimal = ZERO,
    currency: str = DEFAULT_CURRENCY,
) -> PayoffQuote:
    """Due installments in full; the running period's interest to `as_of` by the day count;
    later periods principal and fees only (their interest is unearned and cancelled)."""
    ordered = sorted(installments, key=lambda i: i.seq)
    principal_balance = sum((i.due.principal for i in ordered), ZERO)
    per_installment: dict[int, Parts] = {}
    unearned: dict[int, Decimal] = {}
    for installment in ordered:
        outstanding = installment.outstanding
        if installment.due_date > as_of:
            earned = interest_to_date(
                balance=principal_balance,
                annual_rate=annual_rate,
                period_start=installment.period_start,
                period_end=installment.due_date,
                scheduled_interest=installment.due.interest,
                as_of=as_of,
                day_count=day_count,
                currency=currency,
            )
            owed_interest = max(ZERO, earned - installment.settled.interest)
            cancelled = outstanding.interest - owed_interest
            if cancelled > 0:
                unearned[installment.seq] = cancelled
                outstanding.interest = owed_interest
        principal_balance -= installment.due.principal
        if not outstanding.is_zero():
            per_installment[installment.seq] = outstanding
    return PayoffQuote(as_of, per_installment, unearned, credit_balance)
