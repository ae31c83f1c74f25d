"""Cell values as spreadsheets write them: property tests on the parsers (no database)."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imports import values
from imports.problems import Problem

FULL_WIDTH = str.maketrans("0123456789,.%", "０１２３４５６７８９，．％")

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999999999.99"), places=2)
dates = st.dates(min_value=date(1900, 3, 1), max_value=date(2199, 12, 31))


def grouped(amount: Decimal) -> str:
    return f"{amount:,.2f}"


@given(
    amount=amounts,
    style=st.sampled_from(["{}", "¥{}", "￥{}", "{}元", "CNY {}", "RMB{}", " {}  ", "人民币{}元"]),
    group=st.booleans(),
    wide=st.booleans(),
)
def test_an_amount_reads_back_exactly_however_it_is_written(amount, style, group, wide):
    written = style.format(grouped(amount) if group else f"{amount:.2f}")
    if wide:
        written = written.translate(FULL_WIDTH)
    assert values.amount(written) == amount


@given(amount=amounts)
def test_an_xlsx_float_reads_as_its_shortest_decimal(amount):
    assert values.amount(float(amount)) == Decimal(repr(float(amount)))
    assert values.amount(int(amount)) == int(amount)


@pytest.mark.parametrize(
    "junk", ["", "abc", "1,23", "12,34,567", "1.2.3", "NaN", "inf", "1e5", "--5", "¥", True]
)
def test_what_is_not_an_amount_is_refused_saying_what_was_expected(junk):
    with pytest.raises(Problem, match="expected an amount"):
        values.amount(junk)


@given(
    day=dates, style=st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y.%m.%d"])
)
def test_a_date_reads_back_in_every_written_form(day, style):
    written = day.strftime(style)
    assert values.parse_date(written) == day
    assert values.parse_date(f" {written} ".translate(FULL_WIDTH)) == day


@given(day=dates)
def test_excel_serials_number_cells_and_datetimes_are_dates(day):
    serial = (day - date(1899, 12, 30)).days
    assert values.parse_date(serial) == day
    assert values.parse_date(float(serial)) == day
    assert values.parse_date(str(serial)) == day
    assert values.parse_date(datetime.combine(day, datetime.min.time())) == day
    assert values.parse_date(int(day.strftime("%Y%m%d"))) == day
    assert values.parse_date(f"{day:%Y-%m-%d} 00:00:00") == day


def test_excel_serial_45593_is_2024_10_28():
    assert values.parse_date(45593) == date(2024, 10, 28)
    assert values.parse_date("2024-1-5") == date(2024, 1, 5)


@pytest.mark.parametrize(
    "junk",
    ["28/10/2024", "10/28/2024", "2024-02-30", "2024-13-01", "yesterday", "0", "-5", 3_000_000],
)
def test_what_is_not_a_date_is_refused(junk):
    with pytest.raises(Problem, match="date"):
        values.parse_date(junk)


@given(rate=st.decimals(min_value=0, max_value=Decimal("0.999999"), places=6))
def test_a_rate_as_a_fraction_or_with_a_percent_sign_is_the_same_fraction(rate):
    assert values.rate(str(rate)) == rate
    percent = rate * 100
    assert values.rate(f"{percent}%") == rate
    assert values.rate(f"{percent} ％") == rate
    assert values.rate(float(rate)) == Decimal(repr(float(rate)))


@given(n=st.integers(min_value=0, max_value=10_000), unit=st.sampled_from(["", "期", "个月", "次"]))
def test_whole_numbers(n, unit):
    assert values.integer(f"{n}{unit}") == n
    assert values.integer(float(n)) == n


def test_a_fraction_is_not_a_whole_number():
    with pytest.raises(Problem, match="whole number"):
        values.integer("12.5")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("no", False),
        (1, True),
        (0.0, False),
        ("接通", True),
        ("未接通", False),
        (True, True),
    ],
)
def test_yes_and_no(cell, expected):
    assert values.boolean(cell) is expected


@given(
    moment=st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2199, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
    style=st.sampled_from(
        ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y年%m月%d日 %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
    ),
)
def test_date_times_in_written_forms(moment, style):
    assert values.parse_datetime(moment.strftime(style)) == moment


def test_date_time_from_an_excel_serial_and_chinese_clock():
    assert values.parse_datetime(45593.5) == datetime(2024, 10, 28, 12)
    assert values.parse_datetime("2024年10月28日 14时30分") == datetime(2024, 10, 28, 14, 30)
    aware = values.parse_datetime("2024-10-28T14:30:00+08:00")
    assert aware.utcoffset() == timedelta(hours=8)


def test_choices_by_value_or_either_label():
    options = {
        "spouse": "spouse",
        "Spouse": "spouse",
        "配偶": "spouse",
        "friend": "friend",
        "朋友": "friend",
    }
    assert values.choice(" 配偶 ", options, what="a relation") == "spouse"
    assert values.choice("SPOUSE", options, what="a relation") == "spouse"
    with pytest.raises(Problem, match="one of spouse, friend"):
        values.choice("cousin", options, what="a relation")


def test_identifiers_keep_their_digits_whole():
    assert values.identifier(1.10101199003070e17) == "110101199003070000"
    assert values.identifier(" ＬＮ００１ ") == "LN001"
    assert values.text("  张  三 ") == "张 三"


@pytest.mark.parametrize(
    "parse, cell, english, chinese",
    [
        (values.amount, "abc", "expected an amount", "金额"),
        (values.rate, "x%", "expected a rate", "利率"),
        (values.integer, "1.5", "expected a whole number", "整数"),
    ],
)
def test_a_refusal_reads_whole_in_the_readers_language(parse, cell, english, chinese):
    # The word for what was expected is translated with its sentence: a Chinese reader never
    # gets "应为an amount".
    from django.utils import translation

    with pytest.raises(Problem) as refused:
        parse(cell)
    with translation.override("en"):
        assert english in refused.value.text(translation.gettext)
    with translation.override("zh-hans"):
        text = refused.value.text(translation.gettext)
    assert chinese in text and "expected" not in text and " an " not in text and " a " not in text


def test_the_expected_columns_of_a_refused_file_read_in_chinese():
    from django.utils import translation

    from imports.reading import ColumnSpec, FileRefused, read_table

    columns = [ColumnSpec("amount", ("还款金额",), True), ColumnSpec("note", ("备注",), False)]
    with pytest.raises(FileRefused) as refused:
        read_table(b"a,b\n1,2\n", columns)
    with translation.override("zh-hans"):
        text = refused.value.text(translation.gettext)
    assert "还款金额" in text and "可选" in text and "optional" not in text
