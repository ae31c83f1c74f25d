"""Tests for lending.delinquency: days past due, delinquency buckets and bucket-table validation
(DESIGN §5, §6). Expected buckets come from a hand-written table of the M0–M7 ranges, not from
the module's own DEFAULT_BUCKETS."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.delinquency import (
    DEFAULT_BUCKETS,
    Bucket,
    bucket_for,
    bucket_table_errors,
    days_past_due,
)

D = Decimal
TODAY = date(2025, 3, 15)
TOLERANCE = D("1.00")

# The standard table, written out by hand: (code, first dpd, last dpd or None).
EXPECTED_RANGES = [
    ("M0", 0, 0),
    ("M1", 1, 30),
    ("M2", 31, 60),
    ("M3", 61, 90),
    ("M4", 91, 120),
    ("M5", 121, 150),
    ("M6", 151, 180),
    ("M7", 181, None),
]


def dpd(due: date | None, amount: str = "500.00", tolerance: Decimal = TOLERANCE) -> int:
    return days_past_due(
        oldest_unpaid_due=due, overdue_amount=D(amount), tolerance=tolerance, as_of=TODAY
    )


def table(*rows: tuple[str, int, int | None]) -> list[Bucket]:
    return [Bucket(code, low, high) for code, low, high in rows]


def default_rows() -> list[tuple[str, int, int | None]]:
    return [(b.code, b.min_dpd, b.max_dpd) for b in DEFAULT_BUCKETS]


def replaced(code: str, low: int, high: int | None) -> list[Bucket]:
    """The default table with one bucket's range replaced."""
    return table(*[(c, low, high) if c == code else (c, lo, hi) for c, lo, hi in default_rows()])


# ----------------------------------------------------------------------------- days past due


def test_due_today_is_not_late():
    # An installment due on the business date itself is not overdue yet.
    assert dpd(TODAY) == 0


def test_due_yesterday_is_one_day_past_due():
    assert dpd(TODAY - timedelta(days=1)) == 1


def test_dpd_counts_from_the_oldest_unpaid_due_date():
    # Oldest unpaid due 15 Jan, business date 15 Mar 2025: 16 + 28 + 15 = 59 days.
    assert dpd(date(2025, 1, 15)) == 59


def test_nothing_unpaid_is_zero():
    assert dpd(None, "0.00") == 0


def test_due_in_the_future_is_zero():
    assert dpd(TODAY + timedelta(days=10)) == 0


def test_remainder_at_the_tolerance_is_not_overdue():
    # 1.00 left with a 1.00 tolerance: at or below the tolerance → not overdue.
    assert dpd(TODAY - timedelta(days=10), "1.00") == 0
    assert dpd(TODAY - timedelta(days=10), "0.01") == 0


def test_remainder_a_cent_above_the_tolerance_is_overdue():
    # 1.01 > 1.00 → overdue since the due date 10 days ago.
    assert dpd(TODAY - timedelta(days=10), "1.01") == 10


def test_zero_tolerance_any_cent_is_overdue():
    assert dpd(TODAY - timedelta(days=3), "0.01", tolerance=D("0")) == 3
    assert dpd(TODAY - timedelta(days=3), "0.00", tolerance=D("0")) == 0


# ----------------------------------------------------------------------------- buckets


@pytest.mark.parametrize(
    ("days", "code"),
    [
        (0, "M0"),
        (1, "M1"),
        (30, "M1"),
        (31, "M2"),
        (60, "M2"),
        (61, "M3"),
        (90, "M3"),
        (91, "M4"),
        (120, "M4"),
        (121, "M5"),
        (150, "M5"),
        (151, "M6"),
        (180, "M6"),
        (181, "M7"),
        (1000, "M7"),
    ],
)
def test_bucket_for_at_every_boundary(days, code):
    assert bucket_for(days) == code


def test_bucket_for_a_custom_table():
    custom = table(("C", 0, 0), ("X1", 1, 7), ("X2", 8, None))
    assert [bucket_for(n, custom) for n in (0, 1, 7, 8, 500)] == ["C", "X1", "X1", "X2", "X2"]


def test_bucket_for_uncovered_dpd_raises():
    with pytest.raises(ValueError, match="-1"):
        bucket_for(-1)
    with pytest.raises(ValueError, match="5 dpd"):
        bucket_for(5, table(("M0", 0, 0), ("M2", 31, None)))


@settings(max_examples=300, deadline=None)
@given(days=st.integers(min_value=0, max_value=100_000))
def test_bucket_for_matches_the_hand_written_ranges(days):
    expected = [c for c, lo, hi in EXPECTED_RANGES if lo <= days and (hi is None or days <= hi)]
    assert len(expected) == 1
    assert bucket_for(days, DEFAULT_BUCKETS) == expected[0]
    assert bucket_for(days) == expected[0]


@settings(max_examples=150, deadline=None)
@given(
    cuts=st.lists(st.integers(min_value=1, max_value=2000), min_size=0, max_size=10, unique=True),
    days=st.integers(min_value=0, max_value=3000),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_any_contiguous_open_ended_table_is_valid_in_any_order(cuts, days, seed):
    # Buckets [0, c1−1], [c1, c2−1], …, [ck, ∞): valid whatever order the rows arrive in,
    # and bucket_for finds the one range containing the dpd.
    starts = [0, *sorted(cuts)]
    buckets = [
        Bucket(f"B{i}", low, starts[i + 1] - 1 if i + 1 < len(starts) else None)
        for i, low in enumerate(starts)
    ]
    shuffled = buckets[:]
    random.Random(seed).shuffle(shuffled)
    assert bucket_table_errors(shuffled) == []
    index = sum(1 for low in starts if low <= days) - 1
    assert bucket_for(days, buckets) == f"B{index}"
    assert bucket_for(days, shuffled) == f"B{index}"


# ----------------------------------------------------------------------------- table validation


def test_default_table_is_valid():
    assert bucket_table_errors(DEFAULT_BUCKETS) == []
    assert bucket_table_errors(table(("ALL", 0, None))) == []


def test_empty_table_is_refused():
    assert bucket_table_errors([]) == ["the table needs at least one bucket"]


@pytest.mark.parametrize("start", [25, 30])
def test_overlap_names_both_buckets(start):
    # M2 from 25 (or from 30: sharing M1's last day) overlaps M1 (1–30).
    errors = bucket_table_errors(replaced("M2", start, 60))
    assert errors == [f"M2 (from {start}) overlaps M1"]


def test_gap_names_both_buckets():
    # M2 from 35 leaves 31–34 uncovered after M1 (1–30).
    errors = bucket_table_errors(replaced("M2", 35, 60))
    assert errors == ["M2 (from 35) leaves a gap after M1"]


def test_table_not_starting_at_zero_is_refused():
    # Without M0 the table starts at 1.
    errors = bucket_table_errors(table(*default_rows()[1:]))
    assert errors == ["the first bucket M1 must start at 0 dpd, not 1"]


def test_table_not_starting_at_zero_names_the_bucket():
    errors = bucket_table_errors(table(*default_rows()[1:]))
    assert len(errors) == 1
    assert "M1" in errors[0]


def test_closed_last_bucket_is_refused():
    errors = bucket_table_errors(replaced("M7", 181, 365))
    assert errors == ["the last bucket M7 must be open-ended"]


def test_open_ended_bucket_in_the_middle_is_refused():
    # M3 open-ended with M4 … M7 after it.
    errors = bucket_table_errors(replaced("M3", 61, None))
    assert "M3 is open-ended but M4 follows it" in errors


def test_duplicate_codes_are_refused():
    # Two buckets called M1 (1–30 and 31–60).
    rows = default_rows()
    rows[2] = ("M1", 31, 60)
    errors = bucket_table_errors(table(*rows))
    assert errors == ["bucket code M1 is used more than once; codes must be unique"]


def test_duplicate_codes_message_names_the_code():
    rows = default_rows()
    rows[2] = ("M1", 31, 60)
    errors = bucket_table_errors(table(*rows))
    assert len(errors) == 1
    assert "M1" in errors[0]


def test_reversed_range_is_refused():
    # M2 written as 60–31: it ends before it starts.
    errors = bucket_table_errors(replaced("M2", 60, 31))
    assert "M2 ends (31) before it starts" in errors


def test_errors_do_not_depend_on_row_order():
    bad = replaced("M2", 25, 60)
    assert bucket_table_errors(list(reversed(bad))) == bucket_table_errors(bad)
