"""Penalty interest on overdue installments and the all-in cost cap: pure, no Django (§4, §6).

Each installment keeps the exact (unrounded) penalty accrued so far; a day adds to it and posts
only round(new exact) − round(old exact), so re-running a day posts nothing and rounding never
drifts. The cap limits interest + penalty + fees, annualised on the amount the borrower received.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from lending.money import ZERO, quantize_money
from lending.schedules import DAY_COUNT_BASIS, DayCount

DAYS_PER_YEAR_FOR_CAP = 365  # the cap is an annual cost: a year is 365 days, whatever the basis


@dataclass(frozen=True)
class PenaltyTerms:
    base: str  # "overdue_principal" | "overdue_principal_interest"
    annual_rate: Decimal  # the effective penalty rate (see penalty_rate)
    grace_days: int
    start: str  # "due_date": once grace is exceeded count from the due date; "grace_end"
    day_count: DayCount


def penalty_rate(rate_type: str, value: Decimal, contract_rate: Decimal) -> Decimal:
    """An absolute annual rate, or the contract rate × a multiplier (1.5 = contract + 50 %)."""
    return value if rate_type == "absolute" else contract_rate * value


@dataclass
class OverdueInstallment:
    installment_id: int
    due_date: date
    principal_outstanding: Decimal
    interest_outstanding: Decimal
    penalty_exact: Decimal  # unrounded penalty accrued so far
    accrued_through: date | None = None  # last business date already accrued


def penalty_start_date(installment: OverdueInstallment, terms: PenaltyTerms) -> date:
    """Penalty counts from the due date, or from the last day of grace (DESIGN §6)."""
    if terms.start == "due_date":
        return installment.due_date
    return installment.due_date + timedelta(days=terms.grace_days)


def days_to_accrue(installment: OverdueInstallment, terms: PenaltyTerms, as_of: date) -> int:
    """Days of penalty business date `as_of` adds: 0 inside grace; else every day since the last
    one accrued, or since the penalty's start when none was — the catch-up from the due date on
    the day grace is exceeded, and the days an installment spent looking paid while a payment
    that was later reversed stood on it. One a night in the ordinary course."""
    if installment.accrued_through is not None and installment.accrued_through >= as_of:
        return 0
    if (as_of - installment.due_date).days <= terms.grace_days:
        return 0
    start = penalty_start_date(installment, terms)
    counted_from = max(installment.accrued_through or start, start)
    return (as_of - counted_from).days


def day_penalty(installment: OverdueInstallment, terms: PenaltyTerms, as_of: date) -> Decimal:
    days = days_to_accrue(installment, terms, as_of)
    if not days:
        return ZERO
    base = installment.principal_outstanding
    if terms.base == "overdue_principal_interest":
        base += installment.interest_outstanding
    return base * terms.annual_rate * days / DAY_COUNT_BASIS[DayCount(terms.day_count)]


@dataclass(frozen=True)
class CostCap:
    """interest + penalty + fees ≤ amount received × cap rate × years on book (≥ the term)."""

    amount_received: Decimal
    annual_rate: Decimal
    start_date: date
    maturity_date: date

    def allowed_cost(self, as_of: date) -> Decimal:
        days = (max(as_of, self.maturity_date) - self.start_date).days
        return quantize_money(
            self.amount_received * self.annual_rate * days / DAYS_PER_YEAR_FOR_CAP
        )

    def headroom(self, as_of: date, cost_so_far: Decimal) -> Decimal:
        return max(ZERO, self.allowed_cost(as_of) - cost_so_far)


@dataclass
class LoanAccrual:
    """One loan's accrual for a business date."""

    posted: dict[int, Decimal] = field(default_factory=dict)  # installment id → amount
    new_exact: dict[int, Decimal] = field(default_factory=dict)  # installment id → exact
    capped: bool = False

    @property
    def total(self) -> Decimal:
        return sum(self.posted.values(), ZERO)


def accrue_loan(
    installments: Sequence[OverdueInstallment],
    terms: PenaltyTerms,
    as_of: date,
    headroom: Decimal | None,
) -> LoanAccrual:
    """Accrue `as_of` on each overdue installment, oldest first, within the cap's headroom."""
    result = LoanAccrual()
    remaining = headroom
    for installment in sorted(installments, key=lambda i: (i.due_date, i.installment_id)):
        if not days_to_accrue(installment, terms, as_of):
            # Already accrued for this date (nothing twice), or inside grace: the installment is
            # left untouched, so its accrued-through date keeps meaning "penalty counted to".
            continue
        added = day_penalty(installment, terms, as_of)
        exact = installment.penalty_exact + added
        amount = quantize_money(exact) - quantize_money(installment.penalty_exact)
        if remaining is not None and (amount > remaining or (added and remaining <= 0)):
            # At the cap: post what fits and keep the exact figure equal to what was posted,
            # so no fraction of a cent past the cap is carried forward.
            result.capped = True
            amount = max(ZERO, remaining)
            exact = quantize_money(installment.penalty_exact) + amount
        if remaining is not None:
            remaining -= amount
        result.new_exact[installment.installment_id] = exact
        if amount:
            result.posted[installment.installment_id] = amount
    return result
