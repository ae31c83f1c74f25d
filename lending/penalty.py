"""Penalty interest on overdue installments and the all-in cost cap: pure, no Django (§4, §6).

Each installment keeps the penalty accrued so far exactly, as Σ base × annual rate × days — the
penalty times the day-count basis, a finite decimal — and divides by the basis only to round. A
day adds to it and posts only round(new) − round(old), so re-running a day posts nothing,
rounding never drifts, and a half-cent tie (0.835) rounds up as it should. Each day is charged
on that day's base: a catch-up of several days (grace counted from the due date, a bounced
payment, a late night) reads the changes valued inside it. The cap limits interest + penalty +
fees, annualised on the amount the borrower received.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from lending.money import DEFAULT_CURRENCY, ZERO, quantize_money
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


@dataclass(frozen=True)
class BaseChange:
    """What a posting valued on `value_date` added to the installment's outstanding principal
    and interest (negative: a repayment settled; positive: a reversal restored it)."""

    value_date: date
    principal: Decimal
    interest: Decimal = ZERO


@dataclass
class OverdueInstallment:
    installment_id: int
    due_date: date
    principal_outstanding: Decimal
    interest_outstanding: Decimal
    penalty_accrued: Decimal  # Σ base × annual rate × days so far (exact; ÷ basis = penalty)
    accrued_through: date | None = None  # last business date already accrued
    # Postings valued after the days to accrue began: the base of each earlier day is today's
    # base without them. Older ones may be included; they change nothing.
    base_changes: tuple[BaseChange, ...] = ()


def penalty_start_date(due_date: date, terms: PenaltyTerms) -> date:
    """Penalty counts from the due date, or from the last day of grace (DESIGN §6)."""
    if terms.start == "due_date":
        return due_date
    return due_date + timedelta(days=terms.grace_days)


def counted_from(due_date: date, accrued_through: date | None, terms: PenaltyTerms) -> date:
    """The last day already charged, or the penalty's start: a date charges the days after."""
    start = penalty_start_date(due_date, terms)
    return max(accrued_through or start, start)


def days_to_accrue(installment: OverdueInstallment, terms: PenaltyTerms, as_of: date) -> int:
    """Days of penalty business date `as_of` adds: 0 inside grace; else every day since the last
    one accrued, or since the penalty's start when none was — the catch-up from the due date on
    the day grace is exceeded, and the days an installment spent looking paid while a payment
    that was later reversed stood on it. One a night in the ordinary course."""
    if installment.accrued_through is not None and installment.accrued_through >= as_of:
        return 0
    if (as_of - installment.due_date).days <= terms.grace_days:
        return 0
    return (as_of - counted_from(installment.due_date, installment.accrued_through, terms)).days


def _base(principal: Decimal, interest: Decimal, terms: PenaltyTerms) -> Decimal:
    return principal + interest if terms.base == "overdue_principal_interest" else principal


def days_before(change: BaseChange, counted_from: date, days: int) -> int:
    """How many of the days counted_from+1 … counted_from+days fall before the change's value
    date (a posting valued on a day changes that day's base)."""
    return min(max((change.value_date - counted_from).days - 1, 0), days)


def day_penalty_accrued(
    installment: OverdueInstallment, terms: PenaltyTerms, as_of: date
) -> Decimal:
    """Σ base × rate over the days `as_of` adds, each day on that day's base (exact)."""
    days = days_to_accrue(installment, terms, as_of)
    if not days:
        return ZERO
    counted_from = as_of - timedelta(days=days)
    total = _base(installment.principal_outstanding, installment.interest_outstanding, terms) * days
    for change in installment.base_changes:
        total -= _base(change.principal, change.interest, terms) * days_before(
            change, counted_from, days
        )
    return total * terms.annual_rate


def penalty_of(accrued: Decimal, day_count: DayCount | str, currency: str) -> Decimal:
    """The penalty an exact accrual amounts to, rounded once, to the currency's minor unit."""
    return quantize_money(accrued / DAY_COUNT_BASIS[DayCount(day_count)], currency)


def accrued_for(penalty: Decimal, day_count: DayCount | str) -> Decimal:
    """The exact accrual a posted penalty stands for (at the cap nothing past it is kept)."""
    return penalty * DAY_COUNT_BASIS[DayCount(day_count)]


@dataclass(frozen=True)
class CostCap:
    """interest + penalty + fees ≤ amount received × cap rate × years on book (≥ the term)."""

    amount_received: Decimal
    annual_rate: Decimal
    start_date: date
    maturity_date: date
    currency: str = DEFAULT_CURRENCY

    def allowed_cost(self, as_of: date) -> Decimal:
        days = (max(as_of, self.maturity_date) - self.start_date).days
        return quantize_money(
            self.amount_received * self.annual_rate * days / DAYS_PER_YEAR_FOR_CAP, self.currency
        )

    def headroom(self, as_of: date, cost_so_far: Decimal) -> Decimal:
        return max(ZERO, self.allowed_cost(as_of) - cost_so_far)


@dataclass
class LoanAccrual:
    """One loan's accrual for a business date."""

    posted: dict[int, Decimal] = field(default_factory=dict)  # installment id → amount
    new_accrued: dict[int, Decimal] = field(default_factory=dict)  # installment id → exact
    capped: bool = False

    @property
    def total(self) -> Decimal:
        return sum(self.posted.values(), ZERO)


def accrue_loan(
    installments: Sequence[OverdueInstallment],
    terms: PenaltyTerms,
    as_of: date,
    headroom: Decimal | None,
    currency: str = DEFAULT_CURRENCY,
) -> LoanAccrual:
    """Accrue `as_of` on each overdue installment, oldest first, within the cap's headroom."""
    result = LoanAccrual()
    remaining = headroom
    for installment in sorted(installments, key=lambda i: (i.due_date, i.installment_id)):
        if not days_to_accrue(installment, terms, as_of):
            # Already accrued for this date (nothing twice), or inside grace: the installment is
            # left untouched, so its accrued-through date keeps meaning "penalty counted to".
            continue
        added = day_penalty_accrued(installment, terms, as_of)
        accrued = installment.penalty_accrued + added
        before = penalty_of(installment.penalty_accrued, terms.day_count, currency)
        amount = penalty_of(accrued, terms.day_count, currency) - before
        if remaining is not None and (amount > remaining or (added and remaining <= 0)):
            # At the cap: post what fits and keep the exact figure equal to what was posted,
            # so no fraction of a cent past the cap is carried forward.
            result.capped = True
            amount = max(ZERO, remaining)
            accrued = accrued_for(before + amount, terms.day_count)
        if remaining is not None:
            remaining -= amount
        result.new_accrued[installment.installment_id] = accrued
        if amount:
            result.posted[installment.installment_id] = amount
    return result
