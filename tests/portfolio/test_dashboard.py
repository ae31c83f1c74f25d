"""The dashboard's reads against hand-built history, its page, CSVs and who sees it."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from lending import roles
from lending.models import BucketChange
from lending.money import share
from portfolio import dashboard, selectors
from portfolio.services import portfolio_snapshot
from tests.collections.test_kpis import HISTORY
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import close
from tests.portfolio.books import LATE_NIGHT, small_book

pytestmark = pytest.mark.django_db

URL = "/admin/portfolio/dashboard/"


def moves(loan, *steps):
    previous = "M0"
    for when, to in steps:
        BucketChange.objects.create(
            loan=loan,
            business_date=when,
            from_bucket=previous,
            to_bucket=to,
            dpd=1,
            overdue_amount=Decimal("100.00"),
        )
        previous = to


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def table(html: str, key: str) -> list[list[str]]:
    """The cells of a chart's table as the page shows them, header row first."""
    section = html[html.index(f'<section id="chart-{key}"') :]
    section = section[: section.index("</section>")]
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]


def raw(value) -> str:
    """How the CSV writes a value: as it is, nothing for a figure that cannot be had."""
    return "" if value is None else str(value)


def test_roll_matrix_matches_the_hand_count():
    for steps in HISTORY.values():
        moves(active_loan(start=date(2026, 7, 15)), *steps)
    chart = dashboard.build("rolls", as_of=date(2026, 11, 15))
    rows = {(m, f, t): (n, rolled, rate) for m, f, t, n, rolled, rate in chart.rows}
    # tests/collections/test_kpis.py counts these by hand from the same history.
    assert rows[("2026-10", "M1", "M2")] == (3, 1, Decimal("0.3333"))
    assert rows[("2026-11", "M1", "M2")] == (2, 1, Decimal("0.5000"))
    assert rows[("2026-11", "M3", "M4")] == (1, 0, Decimal("0.0000"))
    matrix = dict(chart.matrix.rows)
    assert matrix["M1 → M2"][-2:] == [Decimal("0.3333"), Decimal("0.5000")]


def test_vintage_numbers_match_the_hand_count():
    july_a = active_loan(principal="10000.00", start=date(2026, 7, 15))
    active_loan(principal="5000.00", start=date(2026, 7, 20))
    august = active_loan(principal="2000.00", start=date(2026, 8, 10))
    moves(july_a, (date(2026, 8, 16), "M1"), (date(2026, 9, 15), "M2"), (date(2026, 10, 16), "M3"))
    moves(august, (date(2026, 9, 11), "M1"))  # late, never 30+
    cells = selectors.vintages(as_of=date(2026, 11, 30))
    got = {
        (c.vintage, c.mob): (c.loans, c.bad_loans, c.loan_share, c.principal_share) for c in cells
    }
    # July's first loan reached M2 (31+ dpd) on 15 Sep: 2 months on book after 15 Jul.
    assert got[("2026-07", 1)] == (2, 0, Decimal("0"), Decimal("0"))
    assert got[("2026-07", 2)] == (2, 1, Decimal("0.5000"), Decimal("0.6667"))
    assert got[("2026-07", 4)] == (2, 1, Decimal("0.5000"), Decimal("0.6667"))
    assert ("2026-07", 5) not in got  # not every July loan has 5 months on book by 30 Nov
    assert got[("2026-08", 3)] == (1, 0, Decimal("0"), Decimal("0"))
    assert ("2026-08", 4) not in got


@pytest.fixture
def closed_book():
    book = small_book()
    close(LATE_NIGHT)
    return book


def test_the_manager_sees_every_chart_with_its_numbers(client, role_user, closed_book):
    client.force_login(role_user(roles.COLLECTIONS_MANAGER))
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    # buckets, overdue rate and nights; vintages have no full month on book yet
    assert html.count('class="portfolio-chart"') == 3
    assert "<title id=" in html
    for key in dashboard.CHART_KEYS:
        assert f'id="chart-{key}"' in html
        assert reverse("admin:portfolio_dashboard_csv", args=[key]) in html
    assert ">10,000.00<" in html  # M1's principal, on its bar and in its table
    rate = selectors.latest_snapshot().overdue_rate
    assert f"{rate * 100:.2f} %" in html
    assert "As of the close of business of Sept. 16, 2026." in html


@pytest.fixture
def full_book(closed_book):
    """The small book closed once, five loans of July with collections' hand-counted bucket
    history (rolls, and vintages gone 30+), and the book snapshotted again on 30 November:
    every chart has rows."""
    for steps in HISTORY.values():
        moves(active_loan(principal="2000.00", start=date(2026, 7, 15)), *steps)
    portfolio_snapshot(business_date=date(2026, 11, 30))
    return closed_book


COLLECTION_MEASURES = [
    ("Open cases", "open_cases"),
    ("Overdue on open cases", "open_overdue"),
    ("Cases open in the last 30 days", "cure_cases"),
    ("Cured in the last 30 days", "cured"),
    ("Cure rate (30 days)", "cure_rate"),
    ("Promises pending", "promises_pending"),
    ("Promises kept", "promises_kept"),
    ("Promises broken", "promises_broken"),
    ("Promises kept rate", "kept_rate"),
]


def test_every_csv_holds_what_the_selectors_read(client, role_user, full_book):
    as_of = date(2026, 11, 30)
    assert selectors.as_of_date() == as_of
    buckets = selectors.outstanding_by_bucket()
    total = sum(b.principal_outstanding for b in buckets)
    summary = selectors.collections_summary(as_of=as_of)
    expected = {
        "buckets": (
            [
                "Bucket",
                "Loans",
                "Principal outstanding",
                "Total outstanding",
                "Overdue amount",
                "Share of principal",
            ],
            [
                [
                    b.bucket,
                    b.loans,
                    b.principal_outstanding,
                    b.total_outstanding,
                    b.overdue_amount,
                    share(b.principal_outstanding, total),
                ]
                for b in buckets
            ],
        ),
        "overdue_rate": (
            [
                "Business date",
                "Overdue rate",
                "Principal outstanding of overdue loans",
                "Principal outstanding",
                "Overdue amount",
                "Active loans",
            ],
            [
                [
                    s.business_date,
                    s.overdue_rate,
                    s.overdue_principal,
                    s.principal_outstanding,
                    s.overdue_amount,
                    s.active_loans,
                ]
                for s in selectors.overdue_rate_history(until=as_of)
            ],
        ),
        "rolls": (
            ["Month", "From", "To", "Loans at the start", "Rolled", "Roll rate"],
            [
                [r.month, r.from_bucket, r.to_bucket, r.loans, r.rolled, r.rate]
                for r in selectors.roll_rates(until=as_of)
            ],
        ),
        "vintages": (
            [
                "Vintage",
                "Months on book",
                "Loans",
                "Loans 30+",
                "Share of loans",
                "Principal",
                "Principal 30+",
                "Share of principal",
            ],
            [
                [
                    c.vintage,
                    c.mob,
                    c.loans,
                    c.bad_loans,
                    c.loan_share,
                    c.principal,
                    c.bad_principal,
                    c.principal_share,
                ]
                for c in selectors.vintages(as_of=as_of)
            ],
        ),
        "collections": (
            ["Measure", "Value"],
            [[label, summary[key]] for label, key in COLLECTION_MEASURES],
        ),
        "nights": (
            [
                "Business date",
                "Status",
                "Seconds",
                "Loans examined",
                "Bucket moves",
                "Penalty accruals",
            ],
            [
                [
                    r.business_date,
                    "done",
                    r.seconds,
                    r.loans_examined,
                    r.bucket_moves,
                    r.accruals_posted,
                ]
                for r in selectors.recent_nights()
            ],
        ),
    }
    assert set(expected) == set(dashboard.CHART_KEYS)  # a new chart needs its line here

    client.force_login(role_user(roles.COLLECTIONS_MANAGER))
    for key, (headers, rows) in expected.items():
        got = read_csv(client.get(reverse("admin:portfolio_dashboard_csv", args=[key])))
        assert got[0] == headers, key
        assert got[1:] == [[raw(v) for v in row] for row in rows], key
        assert rows, key  # each chart has numbers to compare
    # The figures are the book's, not zeros. End of September, M1 held collections' three
    # hand-counted loans and the small book's A (late since 16 September); one went on to M2.
    rolls = expected["rolls"][1]
    assert ["2026-10", "M1", "M2", 4, 1, Decimal("0.2500")] in rolls
    # July's loans 1, 4 and 5 went 30+ (M2) by 10 November: 3 of 5 at four months on book.
    vintages = expected["vintages"][1]
    assert ["2026-07", 4, 5, 3, Decimal("0.6000")] in [row[:5] for row in vintages]
    assert client.get(reverse("admin:portfolio_dashboard_csv", args=["nope"])).status_code == 404


def test_the_dashboard_is_the_managers_home_and_not_the_collectors(client, role_user, closed_book):
    client.force_login(role_user(roles.COLLECTIONS_MANAGER))
    home = client.get("/admin/").content.decode()
    assert "Portfolio dashboard" in home and 'id="chart-buckets"' in home
    assert 'id="content-main"' in home  # the app list is still there, below

    client.force_login(role_user(roles.COLLECTOR))
    home = client.get("/admin/").content.decode()
    assert 'id="chart-buckets"' not in home and "Portfolio dashboard" not in home
    assert "Collections" in home  # the app list
    assert client.get(URL).status_code == 403
    csv_url = reverse("admin:portfolio_dashboard_csv", args=["buckets"])
    assert client.get(csv_url).status_code == 403


def test_the_dashboard_speaks_chinese(client, role_user, closed_book):
    client.force_login(role_user(roles.ADMINISTRATOR))
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="zh-hans"' in html
    assert "截至 2026年9月16日 日终批处理。" in html  # the date in Chinese form too
    for title in ("各逾期阶段的剩余本金", "逾期率走势", "按月迁徙率", "催收 KPI"):
        assert f">{title}</h2>" in html
    assert "Principal outstanding" not in html and "Overdue rate" not in html

    head, *rows = table(html, "buckets")
    assert head == ["逾期阶段", "贷款", "剩余本金", "剩余应还总额", "逾期金额", "本金占比"]
    buckets = selectors.outstanding_by_bucket()
    total = sum(b.principal_outstanding for b in buckets)
    m1 = next(b for b in buckets if b.bucket == "M1")
    # Grouped by three; a percentage written against its number, as Chinese writes it.
    assert rows[1] == [
        "M1",
        "1",
        "10,000.00",
        f"{m1.total_outstanding:,}",
        f"{m1.overdue_amount:,}",
        f"{share(m1.principal_outstanding, total) * 100:.2f}%",
    ]
    snapshot = selectors.latest_snapshot()
    assert table(html, "overdue_rate")[1][:2] == [
        "2026-09-16",
        f"{snapshot.overdue_rate * 100:.2f}%",
    ]
    assert table(html, "nights")[1][:2] == ["2026-09-16", "已完成"]
    assert not re.search(r"\d %", html)  # no English-spaced percentage anywhere


def test_a_snapshot_keeps_the_vintage_curves_its_night_counted(django_assert_num_queries):
    july = active_loan(principal="10000.00", start=date(2026, 7, 15))
    active_loan(principal="5000.00", start=date(2026, 7, 20))
    moves(july, (date(2026, 8, 16), "M1"), (date(2026, 9, 15), "M2"))
    night = date(2026, 11, 30)
    counted = selectors.count_vintages(as_of=night)
    assert counted  # July has four whole months on book by 30 Nov
    counts = portfolio_snapshot(business_date=night)
    assert counts["snapshot_vintage_cells"] == len(counted)
    with django_assert_num_queries(1):  # the snapshot's cells, no scan of the loans
        assert selectors.vintages(as_of=night) == counted
    # A loan that goes bad afterwards shows in a new count, not in the night's picture.
    moves(active_loan(principal="2000.00", start=date(2026, 7, 25)), (date(2026, 9, 1), "M2"))
    assert selectors.vintages(as_of=night) == counted
    assert selectors.count_vintages(as_of=night) != counted
    # The night re-run replaces the picture with the book as it stands.
    portfolio_snapshot(business_date=night)
    assert selectors.vintages(as_of=night) == selectors.count_vintages(as_of=night)
