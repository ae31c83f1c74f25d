"""Repayment schedules, day counts, APR and interest-to-date: pure domain math (DESIGN §5).

No Django import: the services, the admin quote page and `manage.py quote` all call these
functions, and the tests exercise them without a database.

Conventions
- Regular monthly periods charge the annual rate / 12 on the opening balance.
- The day count governs daily amounts: a broken first period, interest to a payoff date and
  penalty interest use ``balance × annual rate × days / basis``.
- Each installment's interest is rounded to the minor unit; the last installment takes whatever
  principal is left, so principal parts sum exactly to the amount lent.
- Due dates are computed from the first due date's day of month and clamp to the month's end
  (Jan 31 → Feb 28/29 → Mar 31), never chained from a clamped date.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from lending.i18n import gettext_noop
from lending.money import DEFAULT_CURRENCY, ZERO, money_str, quantize_money

MONTHS_PER_YEAR = 12
# APR is disclosed in percent with two decimals: 0.1800 is 18.00 %.
APR_PLACES = Decimal("0.0001")


class RepaymentMethod(StrEnum):
    EQUAL_INSTALLMENT = "equal_installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_ONLY = "interest_only"  # 先息后本
    SINGLE_PAYMENT = "single_payment"  # 到期一次还本付息


class DayCount(StrEnum):
    ACT_360 = "act360"
    ACT_365F = "act365f"
    THIRTY_360 = "30_360"


class FeeCollection(StrEnum):
    UPFRONT = "upfront"  # deducted from the amount paid out
    FIRST_INSTALLMENT = "first_installment"  # owed with the first installment


DAY_COUNT_BASIS = {DayCount.ACT_360: 360, DayCount.ACT_365F: 365, DayCount.THIRTY_360: 360}


class ScheduleError(ValueError):
    """`message` is English, marked with `gettext_noop`: the Django side translates it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


# ----------------------------------------------------------------------------- dates and days


def add_months(anchor: date, months: int, day: int | None = None) -> date:
    """The date `months` after `anchor` on day `day` (default: anchor's), clamped to month end."""
    month_index = anchor.month - 1 + months
    year, month = anchor.year + month_index // 12, month_index % 12 + 1
    wanted_day = day if day is not None else anchor.day
    return date(year, month, min(wanted_day, calendar.monthrange(year, month)[1]))


def days_between(start: date, end: date, day_count: DayCount) -> int:
    """Days counted by the convention: actual days, or 30/360 (ISDA bond basis)."""
    if DayCount(day_count) != DayCount.THIRTY_360:
        return (end - start).days
    d1 = min(start.day, 30)
    d2 = 30 if (end.day == 31 and d1 == 30) else end.day
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def interest_for_days(
    balance: Decimal, annual_rate: Decimal, days: int, day_count: DayCount
) -> Decimal:
    """Unrounded simple interest for `days` days: balance × rate × days / basis."""
    return balance * annual_rate * days / DAY_COUNT_BASIS[DayCount(day_count)]


def interest_between(
    balance: Decimal, annual_rate: Decimal, start: date, end: date, day_count: DayCount
) -> Decimal:
    return interest_for_days(balance, annual_rate, days_between(start, end, day_count), day_count)


# ----------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class ScheduleTerms:
    principal: Decimal
    annual_rate: Decimal
    term_months: int
    start_date: date
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT
    day_count: DayCount = DayCount.ACT_360
    origination_fee: Decimal = ZERO
    fee_collection: FeeCollection = FeeCollection.UPFRONT
    first_due_date: date | None = None
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self):
        # Amounts are in whole minor units from here on ("10000" becomes 10000.00).
        object.__setattr__(self, "principal", quantize_money(self.principal, self.currency))
        object.__setattr__(
            self, "origination_fee", quantize_money(self.origination_fee, self.currency)
        )
        if self.principal <= 0:
            raise ScheduleError("amount", gettext_noop("amount must be greater than zero"))
        if self.annual_rate < 0:
            raise ScheduleError("rate", gettext_noop("rate must not be negative"))
        if self.term_months < 1:
            raise ScheduleError("term", gettext_noop("term must be at least one month"))
        if self.origination_fee < 0:
            raise ScheduleError("fee", gettext_noop("fee must not be negative"))
        if self.first_due_date is not None and self.first_due_date <= self.start_date:
            raise ScheduleError(
                "first_due_date", gettext_noop("first due date must be after the start date")
            )

    @property
    def periodic_rate(self) -> Decimal:
        return self.annual_rate / MONTHS_PER_YEAR

    @property
    def regular_first_due(self) -> date:
        return add_months(self.start_date, 1)

    @property
    def first_due(self) -> date:
        return self.first_due_date or self.regular_first_due


@dataclass(frozen=True)
class ScheduledInstallment:
    seq: int
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    balance_after: Decimal
    period_start: date

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee


def regular_first_due_date(start_date: date, term_months: int, method: RepaymentMethod) -> date:
    """The first due date when none is chosen: one month after the start, or for a single
    payment the end of the term."""
    months = term_months if RepaymentMethod(method) == RepaymentMethod.SINGLE_PAYMENT else 1
    return add_months(start_date, months)


def due_dates(terms: ScheduleTerms) -> list[date]:
    if terms.method == RepaymentMethod.SINGLE_PAYMENT:
        if terms.first_due_date is not None:
            return [terms.first_due_date]
        return [add_months(terms.start_date, terms.term_months)]
    first = terms.first_due
    # The anchor is the day the borrower chose: a loan started on Jan 31 falls due on every
    # month's last day, not on the 28th after February.
    anchor_day = terms.first_due_date.day if terms.first_due_date else terms.start_date.day
    return [add_months(first, i, day=anchor_day) for i in range(terms.term_months)]


def level_payment(principal: Decimal, periodic_rate: Decimal, periods: int) -> Decimal:
    """Annuity payment (等额本息): P·r / (1 − (1 + r)^−n), unrounded."""
    if periodic_rate == 0:
        return principal / periods
    with localcontext() as ctx:
        ctx.prec = 34
        return principal * periodic_rate / (1 - (1 + periodic_rate) ** -periods)


def _period_interest(terms: ScheduleTerms, balance: Decimal, start: date, end: date, seq: int):
    """Interest of one period, unrounded: rate/12 for a regular month, day count otherwise."""
    # balance × rate / 12, not balance × (rate / 12): rate / 12 is rounded to 28 digits, which
    # can tip an exact half cent (16,500 × 4.9 % / 12 = 67.375) below the tie.
    if terms.method == RepaymentMethod.SINGLE_PAYMENT:
        if terms.first_due_date is None:
            return balance * terms.annual_rate * terms.term_months / MONTHS_PER_YEAR
        return interest_between(balance, terms.annual_rate, start, end, terms.day_count)
    if seq == 1 and terms.first_due != terms.regular_first_due:
        return interest_between(balance, terms.annual_rate, start, end, terms.day_count)
    return balance * terms.annual_rate / MONTHS_PER_YEAR


def build_schedule(terms: ScheduleTerms) -> list[ScheduledInstallment]:
    dates = due_dates(terms)
    n = len(dates)
    payment = quantize_money(level_payment(terms.principal, terms.periodic_rate, n), terms.currency)
    equal_principal_part = quantize_money(terms.principal / n, terms.currency)
    balance = terms.principal
    period_start = terms.start_date
    rows: list[ScheduledInstallment] = []
    for seq, due in enumerate(dates, start=1):
        interest = quantize_money(
            _period_interest(terms, balance, period_start, due, seq), terms.currency
        )
        if seq == n:
            principal = balance
        elif terms.method == RepaymentMethod.EQUAL_INSTALLMENT:
            principal = max(ZERO, min(balance, payment - interest))
        elif terms.method == RepaymentMethod.EQUAL_PRINCIPAL:
            principal = min(balance, equal_principal_part)
        else:  # interest only: principal at maturity
            principal = ZERO
        fee = quantize_money(
            terms.origination_fee
            if seq == 1 and terms.fee_collection == FeeCollection.FIRST_INSTALLMENT
            else ZERO,
            terms.currency,
        )
        balance -= principal
        rows.append(ScheduledInstallment(seq, due, principal, interest, fee, balance, period_start))
        period_start = due
    return rows


# ----------------------------------------------------------------------------- APR and quotes


def periodic_irr(cash_flows: list[tuple[Decimal, Decimal]]) -> Decimal:
    """The rate r with Σ amount / (1 + r)^t = 0, for flows (t in periods, amount).

    Flows are the borrower's: money received positive, payments negative. Solved by bisection
    (for one inflow followed by outflows the net present value rises with r).
    """
    with localcontext() as ctx:
        ctx.prec = 34

        def npv(rate: Decimal) -> Decimal:
            return sum((amount / (1 + rate) ** t for t, amount in cash_flows), ZERO)

        low, high = Decimal("-0.99"), Decimal("1")
        while npv(high) < 0:  # rates above 100 % a month: widen until the root is bracketed
            high *= 2
        for _ in range(200):
            mid = (low + high) / 2
            if npv(mid) > 0:
                high = mid
            else:
                low = mid
            if high - low < Decimal("1e-16"):
                break
        return (low + high) / 2


def _period_times(terms: ScheduleTerms, rows: list[ScheduledInstallment]) -> list[Decimal]:
    """Each due date's time in months from the start: whole months plus a fraction of a month."""
    times = []
    for row in rows:
        whole = 0
        while add_months(terms.start_date, whole + 1) <= row.due_date:
            whole += 1
        month_start = add_months(terms.start_date, whole)
        month_days = (add_months(terms.start_date, whole + 1) - month_start).days
        times.append(Decimal(whole) + Decimal((row.due_date - month_start).days) / month_days)
    return times


@dataclass(frozen=True)
class Quote:
    terms: ScheduleTerms
    installments: list[ScheduledInstallment]
    apr: Decimal
    effective_annual_rate: Decimal
    total_interest: Decimal
    total_fees: Decimal
    amount_received: Decimal = field(default=ZERO)

    @property
    def apr_percent(self) -> Decimal:
        return (self.apr * 100).quantize(Decimal("0.01"))

    @property
    def effective_annual_rate_percent(self) -> Decimal:
        return (self.effective_annual_rate * 100).quantize(Decimal("0.01"))

    @property
    def total_cost(self) -> Decimal:
        """Total cost of credit: everything paid beyond the amount lent."""
        return self.total_interest + self.total_fees

    def as_dict(self) -> dict:
        """The stable JSON shape of `manage.py quote --json`: money and rates as strings."""
        return {
            "installments": [
                {
                    "seq": row.seq,
                    "due_date": row.due_date.isoformat(),
                    "principal": money_str(row.principal),
                    "interest": money_str(row.interest),
                    "fee": money_str(row.fee),
                    "total": money_str(row.total),
                    "balance_after": money_str(row.balance_after),
                }
                for row in self.installments
            ],
            "apr": money_str(self.apr),
            "effective_annual_rate": money_str(self.effective_annual_rate),
            "total_interest": money_str(self.total_interest),
            "total_fees": money_str(self.total_fees),
            "total_cost": money_str(self.total_cost),
        }


def upfront_fee(terms: ScheduleTerms) -> Decimal:
    return terms.origination_fee if terms.fee_collection == FeeCollection.UPFRONT else ZERO


def quote(terms: ScheduleTerms) -> Quote:
    """Schedule plus the disclosure figures: APR = periodic IRR × 12 (China's convention)."""
    rows = build_schedule(terms)
    received = terms.principal - upfront_fee(terms)
    if received <= 0:
        raise ScheduleError("fee", gettext_noop("fee must be smaller than the amount lent"))
    flows = [(Decimal(0), received)]
    flows += [(t, -row.total) for t, row in zip(_period_times(terms, rows), rows, strict=True)]
    irr = periodic_irr(flows)
    with localcontext() as ctx:
        ctx.prec = 34
        effective = (1 + irr) ** MONTHS_PER_YEAR - 1
    return Quote(
        terms=terms,
        installments=rows,
        apr=(irr * MONTHS_PER_YEAR).quantize(APR_PLACES, rounding=ROUND_HALF_UP),
        effective_annual_rate=effective.quantize(APR_PLACES, rounding=ROUND_HALF_UP),
        total_interest=sum((row.interest for row in rows), ZERO),
        total_fees=terms.origination_fee,
        amount_received=received,
    )


def interest_to_date(
    *,
    balance: Decimal,
    annual_rate: Decimal,
    period_start: date,
    period_end: date,
    scheduled_interest: Decimal,
    as_of: date,
    day_count: DayCount,
    currency: str = DEFAULT_CURRENCY,
) -> Decimal:
    """Interest earned in a period by `as_of` (payoff quotes): daily by day count, at most the
    scheduled amount, nothing before the period starts."""
    if as_of >= period_end:
        return scheduled_interest
    if as_of <= period_start:
        return ZERO
    earned = quantize_money(
        interest_between(balance, annual_rate, period_start, as_of, day_count), currency
    )
    return min(earned, scheduled_interest)
