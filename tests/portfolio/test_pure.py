"""The pure parts: vintage curves by hand and by property, chart scaling and the SVG's numbers."""

import re
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from lending import formatting
from portfolio import charts
from portfolio.vintage import Cohort, add_months, months_on_book, vintage_curves


def test_months_on_book_counts_whole_months_and_clamps_month_ends():
    assert months_on_book(date(2026, 1, 15), date(2026, 3, 14)) == 1
    assert months_on_book(date(2026, 1, 15), date(2026, 3, 15)) == 2
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert months_on_book(date(2026, 1, 31), date(2026, 2, 28)) == 1


def test_vintage_curves_by_hand():
    # January: 4 loans (1,000 each but one of 2,000). One goes 30+ at month on book 2, the
    # 2,000 one at month 3. February: 2 loans, none bad.
    cohorts = {
        date(2026, 1, 1): Cohort(4, Decimal("5000")),
        date(2026, 2, 1): Cohort(2, Decimal("2000")),
    }
    bad = [
        (date(2026, 1, 10), Decimal("1000"), date(2026, 3, 20)),  # mob 2
        (date(2026, 1, 20), Decimal("2000"), date(2026, 4, 25)),  # mob 3
    ]
    cells = vintage_curves(cohorts, bad, as_of=date(2026, 5, 31), max_mob=6)
    got = {(c.vintage, c.mob): (c.bad_loans, c.loan_share, c.principal_share) for c in cells}
    assert got == {
        ("2026-01", 1): (0, Decimal("0.0000"), Decimal("0.0000")),
        ("2026-01", 2): (1, Decimal("0.2500"), Decimal("0.2000")),
        ("2026-01", 3): (2, Decimal("0.5000"), Decimal("0.6000")),
        ("2026-01", 4): (2, Decimal("0.5000"), Decimal("0.6000")),
        # February's loans have all been on the book 3 months only by 31 May.
        ("2026-02", 1): (0, Decimal("0.0000"), Decimal("0.0000")),
        ("2026-02", 2): (0, Decimal("0.0000"), Decimal("0.0000")),
        ("2026-02", 3): (0, Decimal("0.0000"), Decimal("0.0000")),
    }


loan = st.tuples(
    st.dates(date(2025, 1, 1), date(2026, 6, 30)),
    st.decimals(Decimal("100"), Decimal("50000"), places=2),
    st.one_of(st.none(), st.integers(0, 500)),
)


@given(st.lists(loan, max_size=20), st.integers(1, 12))
def test_vintage_shares_are_shares_and_only_rise(loans, max_mob):
    as_of = date(2026, 11, 30)
    cohorts: dict = {}
    bad = []
    for disbursed, principal, late_after in loans:
        month = disbursed.replace(day=1)
        before = cohorts.get(month, Cohort(0, Decimal(0)))
        cohorts[month] = Cohort(before.loans + 1, before.principal + principal)
        if late_after is not None and disbursed + timedelta(days=late_after) <= as_of:
            bad.append((disbursed, principal, disbursed + timedelta(days=late_after)))
    cells = vintage_curves(cohorts, bad, as_of=as_of, max_mob=max_mob)
    by_vintage: dict = {}
    for cell in cells:
        assert 0 <= cell.bad_loans <= cell.loans
        assert 0 <= cell.loan_share <= 1 and 0 <= cell.principal_share <= 1
        assert 0 <= cell.bad_principal <= cell.principal
        by_vintage.setdefault(cell.vintage, []).append(cell)
    for curve in by_vintage.values():
        assert [c.mob for c in curve] == list(range(1, len(curve) + 1))
        assert all(x.bad_loans <= y.bad_loans for x, y in pairwise(curve))
    # At the longest observed month every loan that went bad by then is counted.
    for vintage, curve in by_vintage.items():
        last = curve[-1]
        expected = sum(
            1
            for d, _, went in bad
            if f"{d:%Y-%m}" == vintage and months_on_book(d, went) <= last.mob
        )
        assert last.bad_loans == expected


@given(st.decimals(Decimal("0.0001"), Decimal("1e12"), places=4), st.integers(2, 8))
def test_ticks_start_at_zero_rise_evenly_and_cover_the_top(top, count):
    ticks = charts.nice_ticks(top, count)
    assert ticks[0] == 0 and ticks[-1] >= top
    steps = {b - a for a, b in pairwise(ticks)}
    assert len(steps) == 1 and steps.pop() > 0
    assert len(ticks) <= 2 * count + 1  # never a crowd of ticks
    assert ticks[-2] < top  # and no empty band above the top


@given(st.lists(st.one_of(st.none(), st.decimals(0, 10**9, places=2)), min_size=1, max_size=60))
def test_every_point_falls_inside_the_plot(values):
    present = [v for v in values if v is not None]
    top = charts.nice_ticks(max(present, default=0))[-1]
    for point in charts.line_points(values, top):
        if point:
            x, y = point
            assert charts.LEFT <= x <= charts.LEFT + charts.PLOT_W + 1e-6
            assert charts.TOP - 1e-6 <= y <= charts.TOP + charts.PLOT_H + 1e-6


def test_the_bar_chart_carries_its_title_and_every_value():
    svg = charts.bar_chart(
        title="Principal <by> bucket",
        description="Bars",
        labels=["M0", "M1"],
        values=[Decimal("12345.60"), Decimal("800")],
        fmt=formatting.money,
    )
    assert "<title id=" in svg and "Principal &lt;by&gt; bucket</title>" in svg
    assert ">12,345.60<" in svg and ">800.00<" in svg and ">M1<" in svg
    assert len(re.findall(r"<rect [^>]*height=", svg)) == 2


def test_the_line_chart_has_a_point_per_value_with_its_number():
    svg = charts.line_chart(
        title="Overdue rate",
        description="Line",
        labels=["2026-09-01", "2026-09-02", "2026-09-03"],
        series=[("rate", [Decimal("0.05"), None, Decimal("0.0625")])],
        fmt=formatting.rate,
    )
    assert svg.count("<circle") == 2
    assert "rate 2026-09-01: 5.00 %" in svg and "rate 2026-09-03: 6.25 %" in svg
