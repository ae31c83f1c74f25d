"""The collections manager's admin home is the portfolio dashboard: every chart drawn (SVG
inline, nothing fetched), its numbers in a table equal to what portfolio's selectors return for
the book, and the CSV download holding the same numbers. A collector's home has no dashboard.

The small book is closed on to the end of October, so its two loans have rolled from M1 to M2
and their August vintage has gone bad: every chart has something to show."""

import csv
from datetime import date

import pytest

from lending import formatting, roles
from lending.access import SYSTEM
from lending.close_of_business.runner import close_business_days
from lending.formatting import local_date
from portfolio import selectors
from tests.browser.world import small_book

pytestmark = pytest.mark.xdist_group("browser")

AS_OF = date(2026, 10, 31)
STATUS = {"done": "done", "failed": "failed", "running": "running"}
DRAWN = ["buckets", "overdue_rate", "vintages", "nights"]  # the others are tables by nature


def dash(show):
    """lending.formatting's text, and the page's dash for a figure that cannot be had."""
    return lambda value: "—" if value is None else show(value)


format_count, format_money, format_rate = (
    dash(formatting.count),
    dash(formatting.money),
    dash(formatting.rate),
)
seconds = dash(lambda value: formatting.number(value, 1))


def expected() -> dict[str, list[list[str]]]:
    """What each chart's table should say, read through the selectors and formatted as the
    page formats (1,234.50; 24.00 %)."""
    buckets = selectors.outstanding_by_bucket()
    total = sum(b.principal_outstanding for b in buckets)
    snapshots = selectors.overdue_rate_history(until=AS_OF)
    kpis = selectors.collections_summary(as_of=AS_OF)
    rolls = selectors.roll_rates(until=AS_OF)
    vintages = selectors.vintages(as_of=AS_OF)
    return {
        "buckets": [
            [
                b.bucket,
                format_count(b.loans),
                format_money(b.principal_outstanding),
                format_money(b.total_outstanding),
                format_money(b.overdue_amount),
                format_rate(b.principal_outstanding / total),
            ]
            for b in buckets
        ],
        "overdue_rate": [
            [
                s.business_date.isoformat(),
                format_rate(s.overdue_rate),
                format_money(s.overdue_principal),
                format_money(s.principal_outstanding),
                format_money(s.overdue_amount),
                format_count(s.active_loans),
            ]
            for s in snapshots
        ],
        "nights": [
            [
                r.business_date.isoformat(),
                STATUS[r.status],
                seconds(r.seconds),
                format_count(r.loans_examined),
                format_count(r.bucket_moves),
                format_count(r.accruals_posted),
            ]
            for r in selectors.recent_nights()
        ],
        # (measure, value): the page's labels are the chart's; the values are the selector's.
        "collections": [
            format_count(kpis["open_cases"]),
            format_money(kpis["open_overdue"]),
            format_count(kpis["cure_cases"]),
            format_count(kpis["cured"]),
            format_rate(kpis["cure_rate"]),
            format_count(kpis["promises_pending"]),
            format_count(kpis["promises_kept"]),
            format_count(kpis["promises_broken"]),
            format_rate(kpis["kept_rate"]),
        ],
        "rolls": sorted(
            [f"{r.month} {r.from_bucket} → {r.to_bucket}", format_rate(r.rate)]
            for r in rolls
            if r.rate is not None
        ),
        "vintages": [[v.vintage, str(v.mob), format_rate(v.loan_share)] for v in vintages],
    }


def table(chart) -> list[list[str]]:
    """A chart's numbers as the reader sees them, opening a long table's "The numbers"."""
    summary = chart.locator("details > summary")
    if summary.count():
        summary.click()
    rows = chart.locator("table tbody tr")
    return [row.locator("th, td").all_inner_texts() for row in rows.all()]


def matrix(chart) -> dict[tuple[str, str], str]:
    """A coloured table: (row label, column header) → the cell's text."""
    heads = chart.locator("table.heat thead th").all_inner_texts()[1:]
    cells = {}
    for row in chart.locator("table.heat tbody tr").all():
        label, *texts = row.locator("th, td").all_inner_texts()
        cells.update({(label, head): text for head, text in zip(heads, texts, strict=True)})
    return cells


def downloaded(page, chart) -> list[list[str]]:
    with page.expect_download() as download:
        chart.locator("p.csv a").click()
    with open(download.value.path(), encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_the_manager_s_home_is_the_dashboard_and_agrees_with_the_selectors(staff, login):
    book = small_book(staff)
    close_business_days(until=AS_OF, acting_user=SYSTEM)
    manager = staff(roles.COLLECTIONS_MANAGER, "manager")
    want = expected()
    # The book gives each chart something to say, or the comparisons below prove little.
    assert len(want["buckets"]) >= 2 and len(want["overdue_rate"]) > 16
    assert any(rate != "0.00 %" for _, rate in want["rolls"])
    assert any(share != "0.00 %" for *_, share in want["vintages"])

    page = login(manager)
    assert page.locator("h1", has_text="Portfolio dashboard").is_visible()
    as_of = local_date(date(2026, 10, 31))  # in the page's language, English here
    assert f"As of the close of business of {as_of}." in page.locator("#content").inner_text()
    charts = {key: page.locator(f"#chart-{key}") for key in [*DRAWN, "rolls", "collections"]}
    for key in DRAWN:
        svg = charts[key].locator("svg")
        assert svg.is_visible(), key
        assert svg.locator("title").first.text_content(), key  # named for screen readers

    assert table(charts["buckets"]) == want["buckets"]
    assert table(charts["overdue_rate"]) == want["overdue_rate"]
    assert table(charts["nights"]) == want["nights"]
    assert [value for _, value in table(charts["collections"])] == want["collections"]
    rolls = matrix(charts["rolls"])
    assert (
        sorted([f"{month} {pair}", text] for (pair, month), text in rolls.items() if text != "—")
        == want["rolls"]
    )
    vintages = matrix(charts["vintages"])
    assert [[v, mob, vintages[(v, mob)]] for v, mob, _ in want["vintages"]] == want["vintages"]

    # The CSV: the same rows, unformatted.
    buckets = downloaded(page, charts["buckets"])
    assert buckets[0][:3] == ["Bucket", "Loans", "Principal outstanding"]
    assert [[r[0], r[1], r[2]] for r in buckets[1:]] == [
        [b.bucket, str(b.loans), str(b.principal_outstanding)]
        for b in selectors.outstanding_by_bucket()
    ]
    overdue = downloaded(page, charts["overdue_rate"])
    assert [[r[0], r[1]] for r in overdue[1:]] == [
        [s.business_date.isoformat(), str(s.overdue_rate)]
        for s in selectors.overdue_rate_history(until=AS_OF)
    ]
    nights = downloaded(page, charts["nights"])
    assert [r[0] for r in nights[1:]] == [
        r.business_date.isoformat() for r in selectors.recent_nights()
    ]

    # On its own page too, for a bookmark.
    page.click("text=Open the dashboard on its own page")
    assert table(page.locator("#chart-buckets")) == want["buckets"]

    collector = login(book.collector)
    assert collector.locator("[id^=chart-]").count() == 0
    assert collector.locator("#content", has_text="Portfolio dashboard").count() == 0
    assert collector.goto("/admin/portfolio/dashboard/").status == 403
