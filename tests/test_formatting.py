"""Money, rates, counts and dates as people read them, in English and Chinese (lending.formatting):
the digits shown are the amount rounded to the cent, never a float's."""

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

LANGUAGES = ["en", "zh-hans"]
amounts = st.decimals(
    min_value=Decimal("-9999999999999999.99"),
    max_value=Decimal("9999999999999999.99"),
    allow_nan=False,
    allow_infinity=False,
)
rates = st.decimals(min_value=0, max_value=Decimal("9.999999"), places=6)


def digits(text: str) -> Decimal:
    """What a reader takes from the text: sign, digits and the decimal point."""
    assert re.fullmatch(r"-?(¥)?\d{1,3}(,\d{3})*\.\d{2}", text), text
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
def test_rates_read_as_percentages_to_two_places(language, fraction):
    with translation.override(language):
        text = formatting.rate(fraction)
    number, sign = (text[:-1], "%") if language == "zh-hans" else text.rsplit(" ", 1)
    assert sign == "%"
    expected = (fraction * 100).quantize(Decimal("0.01"))
    assert Decimal(number.replace(",", "")) == expected


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
