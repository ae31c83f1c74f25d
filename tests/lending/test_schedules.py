"""Tests for lending.schedules: repayment schedules, day counts, APR and interest to date.

Every expected figure is derived in the test itself from first principles (exact
``fractions.Fraction`` arithmetic, an independent Newton-Raphson IRR, hand-counted days) or
is a well-known published example; nothing is copied from the module's own output.
"""

import calendar
import itertools
import json
import math
import re
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lending.schedules import (
    DayCount,
    FeeCollection,
    RepaymentMethod,
    ScheduleError,
    ScheduleTerms,
    add_months,
    build_schedule,
    days_between,
    interest_between,
    interest_to_date,
    level_payment,
    periodic_irr,
    quote,
)

EI = RepaymentMethod.EQUAL_INSTALLMENT
EP = RepaymentMethod.EQUAL_PRINCIPAL
IO = RepaymentMethod.INTEREST_ONLY
SP = RepaymentMethod.SINGLE_PAYMENT

CENT = Fraction(1, 100)
HALF_APR_UNIT = Decimal("0.00005")  # half a unit in the 4th place: APR's quantization error

PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# ----------------------------------------------------------------------------- reference math


def D(value) -> Decimal:
    return Decimal(str(value))


def half_up(value: Fraction, places: int = 2) -> Decimal:
    """Exact rational rounded half up (away from zero on ties) to `places` decimals."""
    scaled = Fraction(value) * 10**places
    sign = -1 if scaled < 0 else 1
    units = math.floor(abs(scaled) + Fraction(1, 2))
    return Decimal(sign * units).scaleb(-places)


def is_cent_tie(value: Fraction) -> bool:
    """True when `value` lies exactly half-way between two cents."""
    return (Fraction(value) * 100).denominator == 2


def monthly_interest(balance: Decimal, annual_rate: Decimal) -> Fraction:
    """Exact interest of a regular month: balance × annual rate / 12."""
    return Fraction(balance) * Fraction(annual_rate) / 12


def annuity(principal: Decimal, annual_rate: Decimal, n: int) -> Fraction:
    """Exact level payment P·r / (1 − (1 + r)^−n), r = rate / 12 (P / n when r = 0)."""
    r = Fraction(annual_rate) / 12
    p = Fraction(principal)
    if r == 0:
        return p / n
    return p * r / (1 - (1 + r) ** -n)


def clamp_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def month_after(anchor: date, months: int, day: int) -> date:
    year, month0 = divmod(anchor.year * 12 + anchor.month - 1 + months, 12)
    return clamp_day(year, month0 + 1, day)


def thirty_360_days(d1: date, d2: date) -> int:
    """ISDA 2006 §4.16(f) 30/360 (bond basis), written from the definition:
    if D1 is 31, change it to 30; if D2 is 31 and D1 is 30 or 31, change D2 to 30."""
    day1 = 30 if d1.day == 31 else d1.day
    day2 = 30 if (d2.day == 31 and d1.day in (30, 31)) else d2.day
    return 360 * (d2.year - d1.year) + 30 * (d2.month - d1.month) + (day2 - day1)


def counted_days(d1: date, d2: date, day_count: DayCount) -> int:
    if day_count == DayCount.THIRTY_360:
        return thirty_360_days(d1, d2)
    return (d2 - d1).days


def basis(day_count: DayCount) -> int:
    return 365 if day_count == DayCount.ACT_365F else 360


def irr_newton(received: float, payments: list[tuple[float, float]]) -> float:
    """Monthly IRR of: + received at t=0, − amount at each t (months). Newton-Raphson."""

    def npv(i: float) -> float:
        return received - sum(amount * (1 + i) ** -t for t, amount in payments)

    def slope(i: float) -> float:
        return sum(t * amount * (1 + i) ** (-t - 1) for t, amount in payments)

    i = 0.01
    for _ in range(200):
        step = npv(i) / slope(i)
        i -= step
        if abs(step) < 1e-15:
            break
    assert abs(npv(i)) < 1e-6 * received
    return i


def apr_4(monthly_irr: float) -> Decimal:
    return Decimal(repr(12 * monthly_irr)).quantize(Decimal("0.0001"))


def assert_two_places(value: Decimal) -> None:
    assert value.as_tuple().exponent >= -2, value


# ----------------------------------------------------------------------------- strategies

principals = st.decimals(
    min_value=Decimal("0.01"),
    max_value=Decimal("1000000"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
rates = st.decimals(
    min_value=Decimal("0"),
    max_value=Decimal("0.36"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)
term_months = st.integers(min_value=1, max_value=60)
methods = st.sampled_from(list(RepaymentMethod))
day_counts = st.sampled_from(list(DayCount))
start_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


def terms_for(principal, rate, n, start, method=EI, **kw) -> ScheduleTerms:
    return ScheduleTerms(
        principal=D(principal),
        annual_rate=D(rate),
        term_months=n,
        start_date=start,
        method=method,
        **kw,
    )


# ============================================================ 1. published examples


def test_equal_installment_10000_at_18pct_12_months():
    rows = build_schedule(terms_for("10000.00", "0.18", 12, date(2026, 1, 15), EI))
    # Annuity formula, exact: 10000 × 0.015 / (1 − 1.015^−12) = 916.7999… → 916.80.
    assert half_up(annuity(D("10000"), D("0.18"), 12)) == D("916.80")
    assert len(rows) == 12
    assert [r.total for r in rows[:11]] == [D("916.80")] * 11
    # Published figure: total interest 1,001.61, so 12 × 916.80 = 11,001.60 is one cent short
    # and the last installment absorbs it.
    assert sum(r.interest for r in rows) == D("1001.61")
    assert rows[-1].total == D("10000.00") + D("1001.61") - 11 * D("916.80")
    assert rows[-1].total == D("916.81")
    assert rows[0].interest == D("150.00")  # 10,000 × 1.5 %
    assert rows[0].principal == D("766.80")
    assert sum(r.principal for r in rows) == D("10000.00")
    assert rows[-1].balance_after == D("0.00")


def test_equal_principal_10000_at_18pct_12_months():
    rows = build_schedule(terms_for("10000.00", "0.18", 12, date(2026, 1, 15), EP))
    assert rows[0].principal == D("833.33")  # 10,000 / 12 = 833.333…
    assert rows[0].interest == D("150.00")
    assert rows[0].total == D("983.33")
    # Balance falls by 833.33 a month, so interest falls by 833.33 × 1.5 % = 12.49995 → 12.50.
    interests = [r.interest for r in rows]
    assert interests == [D("150.00") - D("12.50") * k for k in range(12)]
    assert all(a - b == D("12.50") for a, b in itertools.pairwise(interests))
    assert sum(interests) == D("975.00")  # 12.50 × (12 + 11 + … + 1) = 12.50 × 78
    assert [r.principal for r in rows[:11]] == [D("833.33")] * 11
    assert rows[-1].principal == D("10000.00") - 11 * D("833.33") == D("833.37")
    assert rows[-1].balance_after == 0


def test_interest_only_10000_at_18pct_12_months():
    rows = build_schedule(terms_for("10000.00", "0.18", 12, date(2026, 1, 15), IO))
    assert [r.total for r in rows] == [D("150.00")] * 11 + [D("10150.00")]
    assert [r.principal for r in rows] == [D("0.00")] * 11 + [D("10000.00")]
    assert [r.balance_after for r in rows] == [D("10000.00")] * 11 + [D("0.00")]


def test_single_payment_10000_at_18pct_12_months():
    rows = build_schedule(terms_for("10000.00", "0.18", 12, date(2026, 1, 15), SP))
    assert len(rows) == 1
    assert rows[0].due_date == date(2027, 1, 15)
    assert rows[0].interest == D("1800.00")  # 10,000 × 18 % × 12/12
    assert rows[0].total == D("11800.00")
    assert rows[0].balance_after == 0


def test_mortgage_style_100000_at_4_9pct_12_months_by_hand():
    """100,000 at the 4.9 % benchmark rate, 12 months 等额本息, rebuilt in exact arithmetic."""
    principal, rate = D("100000.00"), D("0.049")
    payment_exact = annuity(principal, rate, 12)
    assert 8556.16 < float(payment_exact) < 8556.18  # ≈ 8,556.1685
    payment = half_up(payment_exact)
    assert payment == D("8556.17")

    rows = build_schedule(terms_for(principal, rate, 12, date(2026, 3, 20), EI))
    # Hand-rolled schedule: interest = round(balance × 4.9 % / 12), principal = payment − interest.
    balance = principal
    for row in rows[:-1]:
        exact = monthly_interest(balance, rate)
        assert not is_cent_tie(exact)
        assert row.interest == half_up(exact)
        assert row.principal == payment - row.interest
        assert row.total == payment
        balance -= row.principal
        assert row.balance_after == balance
    last_interest = half_up(monthly_interest(balance, rate))
    assert rows[-1].principal == balance
    assert rows[-1].interest == last_interest
    assert rows[0].interest == D("408.33")  # 100,000 × 0.049 / 12 = 408.333…
    # Whatever the last installment absorbed stays within a few cents of the level payment.
    assert abs(rows[-1].total - payment) <= D("0.05")
    assert sum(r.principal for r in rows) == principal
    assert quote(terms_for(principal, rate, 12, date(2026, 3, 20), EI)).apr == D("0.0490")


def test_zero_rate_equal_installment_splits_principal():
    rows = build_schedule(terms_for("1000.00", "0", 3, date(2026, 1, 15), EI))
    # 1000 / 3 = 333.333… → 333.33 twice, the last takes 333.34.
    assert [r.total for r in rows] == [D("333.33"), D("333.33"), D("333.34")]
    assert all(r.interest == 0 for r in rows)


def test_zero_decimal_currency_rounds_to_whole_units():
    rows = build_schedule(terms_for("100000", "0.18", 12, date(2026, 1, 15), EI, currency="JPY"))
    # 100,000 × 0.015 / (1 − 1.015^−12) = 9,167.999… → 9,168 yen; first interest 1,500.
    assert half_up(annuity(D("100000"), D("0.18"), 12), places=0) == D("9168")
    assert [r.total for r in rows[:11]] == [D("9168")] * 11
    assert rows[0].interest == D("1500")
    assert all(r.interest == r.interest.to_integral_value() for r in rows)
    assert sum(r.principal for r in rows) == D("100000")


def test_level_payment_is_the_unrounded_annuity():
    exact = annuity(D("10000"), D("0.18"), 12)
    got = level_payment(D("10000"), D("0.18") / 12, 12)
    assert abs(Fraction(got) - exact) < Fraction(1, 10**20)
    assert level_payment(D("1200"), D("0"), 12) == D("100")


# ============================================================ 2. dates


def test_month_end_start_clamps_then_returns_to_month_end():
    rows = build_schedule(terms_for("1200.00", "0.12", 12, date(2026, 1, 31), EI))
    expected = [
        date(2026 + (m // 12), m % 12 + 1, calendar.monthrange(2026 + m // 12, m % 12 + 1)[1])
        for m in range(1, 13)
    ]
    assert [r.due_date for r in rows] == expected
    assert [r.due_date for r in rows[:3]] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert rows[-1].due_date == date(2027, 1, 31)
    assert [r.period_start for r in rows] == [date(2026, 1, 31), *expected[:-1]]


def test_leap_year_february():
    rows = build_schedule(terms_for("1200.00", "0.12", 3, date(2028, 1, 31), EI))
    assert [r.due_date for r in rows] == [date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]


def test_add_months_clamps_and_honours_day():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 2, 28), 1, day=31) == date(2026, 3, 31)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 12, 31), 12) == date(2027, 12, 31)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 5, 10), 0) == date(2026, 5, 10)


@pytest.mark.parametrize(
    ("day_count", "expected_first_interest"),
    [
        # 2026-01-10 → 2026-02-25: 46 actual days; 30/360: 30 × 1 + (25 − 10) = 45.
        (DayCount.ACT_360, Fraction(10000) * Fraction(18, 100) * 46 / 360),  # 230.00
        (DayCount.ACT_365F, Fraction(10000) * Fraction(18, 100) * 46 / 365),  # 226.849… → .85
        (DayCount.THIRTY_360, Fraction(10000) * Fraction(18, 100) * 45 / 360),  # 225.00
    ],
)
def test_broken_first_period_uses_day_count(day_count, expected_first_interest):
    assert (date(2026, 2, 25) - date(2026, 1, 10)).days == 46
    terms = terms_for(
        "10000.00",
        "0.18",
        12,
        date(2026, 1, 10),
        EI,
        day_count=day_count,
        first_due_date=date(2026, 2, 25),
    )
    rows = build_schedule(terms)
    assert rows[0].interest == half_up(expected_first_interest)
    assert {
        DayCount.ACT_360: D("230.00"),
        DayCount.ACT_365F: D("226.85"),
        DayCount.THIRTY_360: D("225.00"),
    }[day_count] == rows[0].interest
    # Later periods are regular months anchored on the first due date's day.
    assert [r.due_date for r in rows[:3]] == [
        date(2026, 2, 25),
        date(2026, 3, 25),
        date(2026, 4, 25),
    ]
    balance = D("10000.00") - rows[0].principal
    assert rows[1].interest == half_up(monthly_interest(balance, D("0.18")))
    # The level payment is still the 12-month annuity; the broken period changes only row 1.
    assert rows[1].total == D("916.80")
    assert rows[0].principal == D("916.80") - rows[0].interest


def test_short_broken_first_period_act360():
    terms = terms_for(
        "10000.00", "0.18", 6, date(2026, 1, 10), IO, first_due_date=date(2026, 1, 25)
    )
    rows = build_schedule(terms)
    assert rows[0].interest == D("75.00")  # 10,000 × 18 % × 15 / 360
    assert [r.interest for r in rows[1:]] == [D("150.00")] * 5
    assert rows[-1].due_date == date(2026, 6, 25)


def test_single_payment_with_first_due_date_charges_by_days():
    terms = terms_for(
        "10000.00",
        "0.18",
        12,
        date(2026, 1, 1),
        SP,
        day_count=DayCount.ACT_365F,
        first_due_date=date(2026, 4, 11),
    )
    rows = build_schedule(terms)
    assert len(rows) == 1 and rows[0].due_date == date(2026, 4, 11)
    # 100 actual days: 10,000 × 18 % × 100 / 365 = 493.150… → 493.15
    assert rows[0].interest == half_up(Fraction(10000 * 18 * 100, 100 * 365)) == D("493.15")


def test_first_due_date_equal_to_regular_date_is_a_regular_period():
    terms = terms_for(
        "10000.00", "0.18", 12, date(2026, 1, 15), EI, first_due_date=date(2026, 2, 15)
    )
    assert build_schedule(terms)[0].interest == D("150.00")  # not 31 days × 18 % / 360 = 155


@PROPERTY_SETTINGS
@given(start=start_dates, n=term_months, method=st.sampled_from([EI, EP, IO]))
def test_due_dates_follow_start_day_clamped(start, n, method):
    rows = build_schedule(terms_for("5000.00", "0.1", n, start, method))
    assert [r.due_date for r in rows] == [month_after(start, k, start.day) for k in range(1, n + 1)]
    assert all(a.due_date < b.due_date for a, b in itertools.pairwise(rows))


# ============================================================ 3. day-count regression


def test_act360_daily_interest_is_not_computed_on_365_days():
    start, end = date(2026, 1, 1), date(2026, 2, 1)  # 31 days
    act360 = interest_between(D("10000"), D("0.18"), start, end, DayCount.ACT_360)
    act365 = interest_between(D("10000"), D("0.18"), start, end, DayCount.ACT_365F)
    assert Fraction(act360) == Fraction(10000 * 18 * 31, 100 * 360)
    assert act360 == D("155")  # 10,000 × 18 % × 31 / 360 = 155.00
    assert half_up(Fraction(act365)) == D("152.88")  # 10,000 × 18 % × 31 / 365 = 152.876…
    assert abs(Fraction(act365) - Fraction(10000 * 18 * 31, 100 * 365)) < Fraction(1, 10**20)


def test_interest_between_30_360_uses_30_day_months():
    # Jan 31 → Mar 1: 29 actual days but 30/360 counts 30 × 2 + (1 − 30) = 31.
    got = interest_between(
        D("36000"), D("0.10"), date(2026, 1, 31), date(2026, 3, 1), DayCount.THIRTY_360
    )
    assert got == D("310")  # 36,000 × 10 % × 31 / 360


# ============================================================ 4. 30/360 days


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 1, 31), date(2026, 2, 28), 28),  # D1 31→30: 30 + (28 − 30)
        (date(2028, 1, 31), date(2028, 2, 29), 29),
        (date(2026, 2, 28), date(2026, 3, 31), 33),  # D1 = 28, so D2 stays 31
        (date(2026, 1, 30), date(2026, 3, 31), 60),  # D1 = 30 → D2 31→30
        (date(2026, 1, 31), date(2026, 3, 31), 60),
        (date(2026, 1, 15), date(2026, 2, 15), 30),
        (date(2026, 1, 1), date(2026, 12, 31), 360),  # D1 = 1: D2 stays 31 → 330 + 30
        (date(2025, 12, 31), date(2026, 12, 31), 360),
        (date(2026, 2, 28), date(2026, 3, 28), 30),
        (date(2026, 1, 10), date(2026, 2, 25), 45),
        (date(2026, 5, 31), date(2026, 6, 30), 30),
    ],
)
def test_thirty_360_bond_basis(start, end, days):
    assert thirty_360_days(start, end) == days
    assert days_between(start, end, DayCount.THIRTY_360) == days
    assert days_between(start, end, DayCount.ACT_360) == (end - start).days
    assert days_between(start, end, DayCount.ACT_365F) == (end - start).days


@PROPERTY_SETTINGS
@given(start=start_dates, length=st.integers(min_value=0, max_value=2000))
def test_thirty_360_matches_definition(start, length):
    end = start + timedelta(days=length)
    assert days_between(start, end, DayCount.THIRTY_360) == thirty_360_days(start, end)


# ============================================================ 5. schedule properties


def module_payment(rows, n):
    return rows[0].total if n >= 2 else None


def check_schedule(terms: ScheduleTerms, rows) -> None:
    """Check a regular (no first_due_date, fee-free) schedule row by row from first principles."""
    principal, rate, n = terms.principal, terms.annual_rate, terms.term_months
    expected_len = 1 if terms.method == SP else n
    assert len(rows) == expected_len
    assert [r.seq for r in rows] == list(range(1, expected_len + 1))

    # Principal parts sum exactly; balances never negative and end at zero.
    assert sum(r.principal for r in rows) == principal
    assert all(r.balance_after >= 0 for r in rows)
    assert rows[-1].balance_after == 0
    for r in rows:
        for amount in (r.principal, r.interest, r.fee, r.total, r.balance_after):
            assert_two_places(amount)
        assert r.fee == 0
        assert r.principal >= 0 and r.interest >= 0
        assert r.total == r.principal + r.interest + r.fee

    # Interest of every regular period is balance × rate / 12 rounded half up, to the cent,
    # exact halves included (see test_tie_interest_rounds_half_up).
    balance = principal
    for r in rows:
        if terms.method == SP:
            exact = Fraction(balance) * Fraction(rate) * n / 12
        else:
            exact = monthly_interest(balance, rate)
        assert r.interest == half_up(exact)
        balance -= r.principal
        assert r.balance_after == balance


@PROPERTY_SETTINGS
@given(principal=principals, rate=rates, n=term_months, method=methods, start=start_dates)
def test_schedule_invariants(principal, rate, n, method, start):
    terms = terms_for(principal, rate, n, start, method)
    check_schedule(terms, build_schedule(terms))


@PROPERTY_SETTINGS
@given(
    principal=principals, rate=rates, n=st.integers(min_value=2, max_value=60), start=start_dates
)
def test_equal_installment_level_except_last(principal, rate, n, start):
    rows = build_schedule(terms_for(principal, rate, n, start, EI))
    exact = annuity(principal, rate, n)
    payment = rows[0].total
    if is_cent_tie(exact):  # P·r/(1−(1+r)^−n) exactly on a half cent (e.g. rate 0, P/n)
        assert payment in (half_up(exact), half_up(exact) - D("0.01"))
    else:
        assert payment == half_up(exact)
    delta = abs(Fraction(payment) - exact)  # ≤ 1/2 cent
    # Worst-case drift: each period's interest rounding ε_k and the payment rounding δ move
    # the balance by ε_k − δ, which then compounds at (1 + r). Summed over the term, the last
    # installment differs from the level payment by at most (½¢ + |δ|) · Σ_{j<n} (1 + r)^j.
    r = Fraction(rate) / 12
    growth = sum((1 + r) ** j for j in range(n))
    bound = (Fraction(1, 200) + delta) * growth

    paid_off_early = [k for k, row in enumerate(rows[:-1]) if row.balance_after == 0]
    if not paid_off_early:
        assert [row.total for row in rows[:-1]] == [payment] * (n - 1)
        assert abs(Fraction(rows[-1].total) - Fraction(payment)) <= bound
    else:
        # Degenerate tiny loans (e.g. 0.07 over 10 months): rounding repays the balance before
        # the last month. That can only happen when the payment itself is below the drift bound.
        k = paid_off_early[0]
        assert [row.total for row in rows[:k]] == [payment] * k
        assert rows[k].total <= payment
        assert all(row.total == 0 for row in rows[k + 1 :])
        assert exact < bound


def test_tiny_equal_installment_loan_is_repaid_early():
    # 0.07 over 10 months at 0 %: 0.007 → 0.01 a month, so the balance is gone after 7 months.
    rows = build_schedule(terms_for("0.07", "0", 10, date(2026, 1, 15), EI))
    assert [r.total for r in rows] == [D("0.01")] * 7 + [D("0.00")] * 3
    assert sum(r.principal for r in rows) == D("0.07")


@PROPERTY_SETTINGS
@given(principal=principals, rate=rates, n=term_months, start=start_dates)
def test_equal_principal_parts_equal_except_last(principal, rate, n, start):
    rows = build_schedule(terms_for(principal, rate, n, start, EP))
    part = half_up(Fraction(principal) / n)
    if (n - 1) * part <= principal:
        assert [r.principal for r in rows[:-1]] == [part] * (n - 1)
        # The last part is what remains: n·|P/n − part| ≤ n/2 cents away from the others.
        assert rows[-1].principal == principal - (n - 1) * part
        assert abs(rows[-1].principal - part) <= D("0.005") * n
    else:  # tiny principal: the rounded-up part repays everything early, then zeros
        assert all(r.principal in (part, 0) or r.balance_after == 0 for r in rows)
    # Interest falls (weakly) as the balance falls.
    assert all(a.interest >= b.interest for a, b in itertools.pairwise(rows))


@PROPERTY_SETTINGS
@given(principal=principals, rate=rates, n=term_months, start=start_dates)
def test_interest_only_and_single_payment_shapes(principal, rate, n, start):
    io = build_schedule(terms_for(principal, rate, n, start, IO))
    monthly = monthly_interest(principal, rate)
    assert [r.interest for r in io] == [half_up(monthly)] * n
    assert [r.principal for r in io] == [D("0")] * (n - 1) + [principal]

    sp = build_schedule(terms_for(principal, rate, n, start, SP))
    whole = Fraction(principal) * Fraction(rate) * n / 12
    assert len(sp) == 1
    assert sp[0].due_date == month_after(start, n, start.day)
    assert sp[0].total == principal + half_up(whole)


@PROPERTY_SETTINGS
@given(
    principal=principals,
    rate=rates,
    n=term_months,
    method=st.sampled_from([EI, EP, IO]),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)),
    offset=st.integers(min_value=1, max_value=60),
    day_count=day_counts,
)
def test_broken_first_period_property(principal, rate, n, method, start, offset, day_count):
    first_due = start + timedelta(days=offset)
    terms = terms_for(
        principal, rate, n, start, method, day_count=day_count, first_due_date=first_due
    )
    rows = build_schedule(terms)
    assert rows[0].due_date == first_due
    assert [r.due_date for r in rows] == [
        month_after(first_due, k, first_due.day) for k in range(n)
    ]
    assert sum(r.principal for r in rows) == principal
    assert rows[-1].balance_after == 0 and all(r.balance_after >= 0 for r in rows)
    regular = month_after(start, 1, start.day)
    if first_due == regular:
        exact = monthly_interest(principal, rate)
    else:
        days = counted_days(start, first_due, day_count)
        exact = Fraction(principal) * Fraction(rate) * days / basis(day_count)
    assert rows[0].interest == half_up(exact)


# ============================================================ 6. APR


def test_apr_of_fee_free_loan_is_nominal_rate_and_ear_is_compounded():
    q = quote(terms_for("10000.00", "0.18", 12, date(2026, 1, 15), EI))
    assert q.apr == D("0.1800")
    # (1 + 0.18/12)^12 − 1 = 0.195618… → 0.1956
    assert half_up(Fraction(203, 200) ** 12 - 1, places=4) == D("0.1956")
    assert q.effective_annual_rate == D("0.1956")
    assert q.total_interest == D("1001.61")
    assert q.total_fees == 0


@pytest.mark.parametrize("method", [EP, IO])
def test_apr_of_other_fee_free_methods_is_nominal(method):
    q = quote(terms_for("10000.00", "0.18", 12, date(2026, 1, 15), method))
    assert q.apr == D("0.1800")
    assert q.effective_annual_rate == D("0.1956")


def test_single_payment_apr_is_monthly_irr_times_12():
    q = quote(terms_for("10000.00", "0.18", 12, date(2026, 1, 15), SP))
    # 10,000 now, 11,800 in 12 months: (1 + i)^12 = 1.18 → APR = 12·(1.18^(1/12) − 1) = 0.16666…
    assert apr_4(1.18 ** (1 / 12) - 1) == D("0.1667")
    assert q.apr == D("0.1667")
    assert q.effective_annual_rate == D("0.1800")


@settings(max_examples=40, deadline=None)
@given(
    principal=st.decimals(
        min_value=Decimal("10000"),
        max_value=Decimal("1000000"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    ),
    rate=st.integers(min_value=0, max_value=3600).map(lambda k: Decimal(k).scaleb(-4)),
    n=term_months,
)
def test_fee_free_apr_equals_nominal_rate(principal, rate, n):
    # Each period's interest is B·r plus a rounding error ≤ ½¢, so the flows' NPV at r is at
    # most ½¢·n; divided by the NPV's slope (≈ P × duration) that moves 12·IRR by < 1.5e-5 for
    # P ≥ 10,000 — well inside half a unit of the 4th place, so APR == nominal (4-place grid).
    q = quote(terms_for(principal, rate, n, date(2026, 1, 15), EI))
    assert q.apr == rate
    apr_monthly = Fraction(q.apr) / 12
    from_apr = (1 + apr_monthly) ** 12 - 1
    tolerance = Fraction(HALF_APR_UNIT) * (1 + apr_monthly + Fraction(1, 10**5)) ** 11 + Fraction(
        HALF_APR_UNIT
    )
    assert abs(Fraction(q.effective_annual_rate) - from_apr) <= tolerance


def test_upfront_fee_raises_apr_to_independent_irr():
    terms = terms_for(
        "10000.00",
        "0.18",
        12,
        date(2026, 1, 15),
        EI,
        origination_fee=D("200.00"),
        fee_collection=FeeCollection.UPFRONT,
    )
    q = quote(terms)
    # Borrower receives 9,800 and repays 916.80 × 11 + 916.81 (published schedule above).
    flows = [(t, 916.80) for t in range(1, 12)] + [(12, 916.81)]
    i = irr_newton(9800.0, flows)
    assert q.apr == apr_4(i)
    assert q.apr > D("0.1800")
    assert D("0.2150") < q.apr < D("0.2200")  # a 2 % fee on a 1-year loan adds ≈ 3.7 points
    assert q.effective_annual_rate == Decimal(repr((1 + i) ** 12 - 1)).quantize(D("0.0001"))
    assert q.amount_received == D("9800.00")
    # The fee is not part of the schedule for an upfront fee.
    assert all(r.fee == 0 for r in q.installments)
    assert q.total_fees == D("200.00")
    assert q.total_cost == q.total_interest + q.total_fees == D("1201.61")


def test_fee_with_first_installment_raises_apr():
    terms = terms_for(
        "10000.00",
        "0.18",
        12,
        date(2026, 1, 15),
        EI,
        origination_fee=D("200.00"),
        fee_collection=FeeCollection.FIRST_INSTALLMENT,
    )
    q = quote(terms)
    assert q.installments[0].fee == D("200.00")
    assert q.installments[0].total == D("1116.80")
    assert all(r.fee == 0 for r in q.installments[1:])
    flows = [(1, 1116.80)] + [(t, 916.80) for t in range(2, 12)] + [(12, 916.81)]
    i = irr_newton(10000.0, flows)
    assert q.apr == apr_4(i)
    assert q.apr > D("0.1800")
    assert q.amount_received == D("10000.00")
    # Paying the same fee a month later costs less than deducting it upfront.
    upfront = quote(
        terms_for("10000.00", "0.18", 12, date(2026, 1, 15), EI, origination_fee=D("200.00"))
    )
    assert q.apr < upfront.apr


@settings(max_examples=30, deadline=None)
@given(
    principal=st.decimals(
        min_value=Decimal("1000"),
        max_value=Decimal("500000"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    ),
    rate=st.decimals(
        min_value=Decimal("0"),
        max_value=Decimal("0.36"),
        places=6,
        allow_nan=False,
        allow_infinity=False,
    ),
    n=term_months,
    fee_share=st.integers(min_value=1, max_value=2000),  # basis points of principal
    collection=st.sampled_from(list(FeeCollection)),
    method=st.sampled_from([EI, EP, IO]),
)
def test_fee_apr_matches_independent_irr(principal, rate, n, fee_share, collection, method):
    fee = half_up(Fraction(principal) * fee_share / 10000)
    assume(fee > 0)
    terms = terms_for(
        principal,
        rate,
        n,
        date(2026, 1, 15),
        method,
        origination_fee=fee,
        fee_collection=collection,
    )
    q = quote(terms)
    received = principal - fee if collection == FeeCollection.UPFRONT else principal
    flows = [(row.seq, float(row.total)) for row in q.installments]
    i = irr_newton(float(received), flows)
    assert abs(Fraction(q.apr) - Fraction(repr(12 * i))) <= Fraction(HALF_APR_UNIT) + Fraction(
        1, 10**9
    )
    fee_free = quote(terms_for(principal, rate, n, date(2026, 1, 15), method))
    assert q.apr >= fee_free.apr
    assert q.total_cost == q.total_interest + fee


def test_broken_period_apr_uses_fractional_months():
    terms = terms_for(
        "10000.00", "0.18", 12, date(2026, 1, 10), EI, first_due_date=date(2026, 2, 25)
    )
    q = quote(terms)

    def months_from_start(due: date) -> float:
        whole = 0
        while month_after(date(2026, 1, 10), whole + 1, 10) <= due:
            whole += 1
        lo = month_after(date(2026, 1, 10), whole, 10)
        hi = month_after(date(2026, 1, 10), whole + 1, 10)
        return whole + (due - lo).days / (hi - lo).days

    # First due 2026-02-25 is 1 month (to 02-10) plus 15 of February's 28 days.
    assert months_from_start(date(2026, 2, 25)) == 1 + 15 / 28
    flows = [(months_from_start(r.due_date), float(r.total)) for r in q.installments]
    assert q.apr == apr_4(irr_newton(10000.0, flows))


@pytest.mark.parametrize("fee", ["10000.00", "10000.01", "25000.00"])
def test_upfront_fee_not_smaller_than_principal_is_rejected(fee):
    terms = terms_for("10000.00", "0.18", 12, date(2026, 1, 15), EI, origination_fee=D(fee))
    with pytest.raises(ScheduleError) as info:
        quote(terms)
    assert info.value.field == "fee"


def test_periodic_irr_direct():
    assert abs(periodic_irr([(D(0), D(100)), (D(1), D(-110))]) - D("0.1")) < D("1e-12")
    # 1,000 repaid as 576.19 twice: i solves 1000 = 576.19·v + 576.19·v² (≈ 10 %).
    i = irr_newton(1000.0, [(1, 576.19), (2, 576.19)])
    got = periodic_irr([(D(0), D(1000)), (D(1), D("-576.19")), (D(2), D("-576.19"))])
    assert abs(float(got) - i) < 1e-10
    # A rate above 100 % a period forces the bracket to widen.
    assert abs(periodic_irr([(D(0), D(100)), (D(1), D(-350))]) - D("2.5")) < D("1e-12")


# ============================================================ 7. interest to date


def itd(as_of, day_count=DayCount.ACT_360, scheduled=Decimal("150.00")):
    return interest_to_date(
        balance=D("10000.00"),
        annual_rate=D("0.18"),
        period_start=date(2026, 1, 15),
        period_end=date(2026, 2, 15),
        scheduled_interest=scheduled,
        as_of=as_of,
        day_count=day_count,
    )


def test_interest_to_date_zero_at_and_before_period_start():
    assert itd(date(2026, 1, 15)) == 0
    assert itd(date(2026, 1, 1)) == 0


def test_interest_to_date_scheduled_at_and_after_period_end():
    assert itd(date(2026, 2, 15)) == D("150.00")
    assert itd(date(2026, 3, 30)) == D("150.00")
    assert itd(date(2026, 2, 15), scheduled=D("149.99")) == D("149.99")


@pytest.mark.parametrize(
    ("as_of", "day_count", "expected"),
    [
        (date(2026, 1, 25), DayCount.ACT_360, D("50.00")),  # 10,000 × 18 % × 10 / 360
        (date(2026, 1, 25), DayCount.ACT_365F, D("49.32")),  # × 10 / 365 = 49.315…
        (date(2026, 1, 25), DayCount.THIRTY_360, D("50.00")),
        (date(2026, 1, 31), DayCount.THIRTY_360, D("80.00")),  # D1 = 15, so D2 stays 31: 16
        (date(2026, 2, 1), DayCount.ACT_360, D("85.00")),  # 17 actual days
        (date(2026, 2, 1), DayCount.THIRTY_360, D("80.00")),  # 30/360: 30 + (1 − 15) = 16
        (date(2026, 2, 14), DayCount.ACT_360, D("150.00")),  # 30 days = the scheduled cap
    ],
)
def test_interest_to_date_daily_in_between(as_of, day_count, expected):
    days = counted_days(date(2026, 1, 15), as_of, day_count)
    assert half_up(Fraction(10000 * 18 * days, 100 * basis(day_count))) == expected
    assert itd(as_of, day_count) == expected


def test_interest_to_date_is_capped_at_scheduled():
    # 29 days at ACT/360 would be 145.00; a period scheduled at 140.00 caps it.
    assert itd(date(2026, 2, 13), scheduled=D("140.00")) == D("140.00")
    assert itd(date(2026, 2, 13)) == D("145.00")


@PROPERTY_SETTINGS
@given(
    balance=principals,
    rate=rates,
    start=start_dates,
    length=st.integers(min_value=1, max_value=62),
    elapsed=st.integers(min_value=-5, max_value=70),
    day_count=day_counts,
)
def test_interest_to_date_property(balance, rate, start, length, elapsed, day_count):
    end = start + timedelta(days=length)
    as_of = start + timedelta(days=elapsed)
    scheduled = half_up(Fraction(balance) * Fraction(rate) * length / 360)
    got = interest_to_date(
        balance=balance,
        annual_rate=rate,
        period_start=start,
        period_end=end,
        scheduled_interest=scheduled,
        as_of=as_of,
        day_count=day_count,
    )
    if as_of >= end:
        assert got == scheduled
    elif as_of <= start:
        assert got == 0
    else:
        days = counted_days(start, as_of, day_count)
        exact = Fraction(balance) * Fraction(rate) * days / basis(day_count)
        assert got == min(half_up(exact), scheduled)
    assert 0 <= got <= scheduled
    assert_two_places(got)


# ============================================================ 8. Quote.as_dict

MONEY_RE = re.compile(r"^\d+\.\d{2}$")
INSTALLMENT_KEYS = {"seq", "due_date", "principal", "interest", "fee", "total", "balance_after"}
QUOTE_KEYS = {
    "installments",
    "apr",
    "effective_annual_rate",
    "total_interest",
    "total_fees",
    "total_cost",
}


def test_as_dict_shape_and_money_strings():
    q = quote(
        terms_for(
            "10000.00",
            "0.18",
            12,
            date(2026, 1, 15),
            EI,
            origination_fee=D("150.00"),
            fee_collection=FeeCollection.FIRST_INSTALLMENT,
        )
    )
    data = q.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == QUOTE_KEYS
    assert len(data["installments"]) == 12
    for row in data["installments"]:
        assert set(row) == INSTALLMENT_KEYS
        assert isinstance(row["seq"], int)
        assert date.fromisoformat(row["due_date"])
        for key in ("principal", "interest", "fee", "total", "balance_after"):
            assert MONEY_RE.match(row[key]), (key, row[key])
    first, second, last = data["installments"][0], data["installments"][1], data["installments"][-1]
    assert first == {
        "seq": 1,
        "due_date": "2026-02-15",
        "principal": "766.80",
        "interest": "150.00",
        "fee": "150.00",
        "total": "1066.80",
        "balance_after": "9233.20",
    }
    assert second["fee"] == "0.00" and second["total"] == "916.80"
    assert last["balance_after"] == "0.00" and last["total"] == "916.81"
    for key in ("total_interest", "total_fees", "total_cost"):
        assert MONEY_RE.match(data[key]), (key, data[key])
    assert data["total_interest"] == "1001.61"
    assert data["total_fees"] == "150.00"
    assert data["total_cost"] == "1151.61"
    assert D(data["total_cost"]) == D(data["total_interest"]) + D(data["total_fees"])
    assert re.fullmatch(r"0\.\d{4}", data["apr"]) and D(data["apr"]) > D("0.18")
    assert re.fullmatch(r"0\.\d{4}", data["effective_annual_rate"])


def test_as_dict_fee_free_total_fees_has_two_decimals():
    data = quote(terms_for("10000.00", "0.18", 12, date(2026, 1, 15), EI)).as_dict()
    assert data["total_cost"] == "1001.61"
    assert data["total_fees"] == "0.00"


# ============================================================ 9. bad input


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"principal": D("0")}, "amount"),
        ({"principal": D("0.00")}, "amount"),
        ({"principal": D("-100.00")}, "amount"),
        ({"annual_rate": D("-0.01")}, "rate"),
        ({"term_months": 0}, "term"),
        ({"term_months": -3}, "term"),
        ({"origination_fee": D("-1.00")}, "fee"),
        ({"first_due_date": date(2026, 1, 14)}, "first_due_date"),
        ({"first_due_date": date(2026, 1, 15)}, "first_due_date"),  # not after the start
    ],
)
def test_bad_input_raises_schedule_error_with_field(overrides, field):
    kwargs = {
        "principal": D("10000.00"),
        "annual_rate": D("0.18"),
        "term_months": 12,
        "start_date": date(2026, 1, 15),
    }
    kwargs.update(overrides)
    with pytest.raises(ScheduleError) as info:
        ScheduleTerms(**kwargs)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert info.value.message


# ============================================================ regression: exact half cents


def test_tie_interest_rounds_half_up():
    # Computing balance × (rate / 12) once rounded 67.375 down to 67.37.
    exact = monthly_interest(D("16500.00"), D("0.049"))
    assert exact == Fraction(67375, 1000) and is_cent_tie(exact)
    rows = build_schedule(terms_for("16500.00", "0.049", 12, date(2026, 1, 15), EI))
    assert rows[0].interest == D("67.38")
