"""Money, rates, counts and dates as people read them, in English and Chinese (lending.formatting):
the digits shown are the amount rounded to the cent, never a float's. Every figure rounds half
up (away from zero), shares included (docs/dashboard.md, "Rounding")."""

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.template import Context, Template
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from lending import formatting
from lending.admin.columns import money_column, rate_column
from lending.models import BusinessDayRun, LprRate
from lending.money import share

LANGUAGES = ["en", "zh-hans"]
amounts = st.decimals(
    min_value=Decimal("-9999999999999999.99"),
    max_value=Decimal("9999999999999999.99"),
    allow_nan=False,
    allow_infinity=False,
)
# Up to 99,999.99 %: rates past a thousand percent show their separator too.
rates = st.decimals(min_value=0, max_value=Decimal("999.999999"), places=6)
GROUPED = r"\d{1,3}(,\d{3})*"  # digits in threes from the right, a comma between


def digits(text: str) -> Decimal:
    """What a reader takes from the text: sign, digits and the decimal point."""
    assert re.fullmatch(rf"-?(¥)?{GROUPED}\.\d{{2}}", text), text
    return Decimal(text.replace("¥", "").replace(",", ""))


@pytest.mark.parametrize("language", LANGUAGES)
@given(amount=amounts)
def test_money_shows_the_amount_rounded_to_the_cent_grouped_by_three(language, amount):
    with translation.override(language):
        plain, with_symbol = formatting.money(amount), formatting.money(amount, currency=True)
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert digits(plain) == cents
    assert digits(with_symbol) == cents
    assert with_symbol.replace("¥", "") == plain and "¥" in with_symbol


@pytest.mark.parametrize("language", LANGUAGES)
@given(fraction=rates)
def test_rates_read_as_percentages_to_two_places_grouped_by_three(language, fraction):
    with translation.override(language):
        text = formatting.rate(fraction)
    # Chinese writes the sign against the number (24.00%), English after a space (24.00 %).
    suffix = "%" if language == "zh-hans" else " %"
    assert re.fullmatch(rf"{GROUPED}\.\d{{2}}{re.escape(suffix)}", text), text
    expected = (fraction * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Decimal(text.removesuffix(suffix).replace(",", "")) == expected


@given(value=amounts, places=st.integers(0, 3))
def test_a_plain_number_is_rounded_half_up_to_its_places_and_grouped(value, places):
    text = formatting.number(value, places)
    decimals = rf"\.\d{{{places}}}" if places else ""
    assert re.fullmatch(rf"-?{GROUPED}{decimals}", text), text
    unit = Decimal(1).scaleb(-places)
    assert Decimal(text.replace(",", "")) == value.quantize(unit, rounding=ROUND_HALF_UP)


@given(value=st.floats(allow_nan=False), language=st.sampled_from(LANGUAGES))
def test_no_float_is_ever_formatted(value, language):
    # A float has already lost the cent (0.1 + 0.2): refused, never shown rounded.
    with translation.override(language):
        for show in (formatting.money, formatting.rate, formatting.count, formatting.number):
            with pytest.raises(TypeError):
                show(value)
        with pytest.raises(TypeError):
            formatting.money(value, currency=True)


@pytest.mark.parametrize(
    ("shown", "half_up", "half_even"),
    [
        # Exactly half a cent, a basis point, a tenth: always the larger magnitude.
        (lambda: formatting.money(Decimal("0.025")), "0.03", "0.02"),
        (lambda: formatting.money(Decimal("-0.025")), "-0.03", "-0.02"),
        (lambda: formatting.money(Decimal("2.345")), "2.35", "2.34"),
        (lambda: formatting.money(Decimal("0.005")), "0.01", "0.00"),
        (lambda: formatting.rate(Decimal("0.123450")), "12.35 %", "12.34 %"),
        (lambda: formatting.rate(Decimal("0.00125")), "0.13 %", "0.12 %"),
        (lambda: formatting.rate(Decimal("0.1225"), 1), "12.3 %", "12.2 %"),
        (lambda: formatting.number(Decimal("1234.25"), 1), "1,234.3", "1,234.2"),
        (lambda: formatting.count(Decimal("2.5")), "3", "2"),
        (lambda: str(share(1, 32)), "0.0313", "0.0312"),  # 0.03125: a dashboard share
        (lambda: str(share(Decimal("0.45"), 8)), "0.0563", "0.0562"),  # 0.05625
    ],
)
def test_every_half_rounds_up_never_to_even(shown, half_up, half_even):
    with translation.override("en"):
        assert shown() == half_up != half_even


def test_a_share_of_nothing_is_no_share():
    assert share(0, 0) is None and share(5, 0) is None
    assert share(0, 7) == Decimal("0.0000")


@pytest.mark.parametrize(
    ("language", "money", "with_currency", "rate", "day"),
    [
        ("en", "1,234.50", "¥1,234.50", "24.00 %", "Oct. 16, 2026"),
        ("zh-hans", "1,234.50", "¥1,234.50", "24.00%", "2026年10月16日"),
    ],
)
def test_the_examples_of_the_issue(language, money, with_currency, rate, day):
    with translation.override(language):
        assert formatting.money(Decimal("1234.5")) == money
        assert formatting.money("1234.50", currency=True) == with_currency
        assert formatting.money(Decimal("-1234567.8"), currency=True) == "-¥1,234,567.80"
        assert formatting.rate(Decimal("0.240000")) == rate
        assert formatting.count(1234567) == "1,234,567"
        assert formatting.local_date(date(2026, 10, 16)) == day


def test_a_moment_is_shown_in_the_books_time_zone():
    utc_evening = datetime(2026, 10, 16, 17, 30, tzinfo=UTC)  # 01:30 in Shanghai
    with translation.override("zh-hans"):
        assert formatting.local_datetime(utc_evening) == "2026年10月17日 01:30"
        assert formatting.local_date(utc_evening) == "2026年10月17日"


def test_a_float_is_refused_and_empty_stays_empty():
    with pytest.raises(TypeError):
        formatting.money(1234.5)
    with pytest.raises(TypeError):
        formatting.rate(0.24)
    assert formatting.money(None) == formatting.rate(None) == formatting.local_date(None) == ""


def test_the_template_filters():
    template = Template(
        "{% load lending_format %}{{ a|money }} {{ a|money:'currency' }} {{ r|rate }} "
        "{{ d|local_date }} {{ n|count }}"
    )
    context = Context(
        {"a": Decimal("98765.4"), "r": Decimal("0.18"), "d": date(2026, 1, 2), "n": 5000}
    )
    with translation.override("zh-hans"):
        assert template.render(context) == "98,765.40 ¥98,765.40 18.00% 2026年1月2日 5,000"


def test_admin_columns_take_the_fields_label_and_sort_by_it():
    column = money_column(BusinessDayRun.accrual_total, currency=True)
    assert str(column.short_description) == "penalty accrued"
    assert column.admin_order_field == "accrual_total"
    assert column(BusinessDayRun(accrual_total=Decimal("12345.6"))) == "¥12,345.60"
    lpr = rate_column(LprRate.one_year_rate)
    assert lpr(LprRate(one_year_rate=Decimal("0.0345"))) == "3.45 %"
    assert lpr(LprRate(one_year_rate=None)) is None  # the admin's empty mark
    with pytest.raises(TypeError):
        money_column("loan__principal")  # a path names no label: say it
