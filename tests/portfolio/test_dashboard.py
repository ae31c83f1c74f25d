"""The dashboard's reads against hand-built history, its page, CSVs and who sees it."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from lending import roles
from lending.models import BucketChange
from portfolio import dashboard, selectors
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


def test_each_csv_holds_what_the_selectors_read(client, role_user, closed_book):
    client.force_login(role_user(roles.COLLECTIONS_MANAGER))
    rows = read_csv(client.get(reverse("admin:portfolio_dashboard_csv", args=["buckets"])))
    assert rows[0][:3] == ["Bucket", "Loans", "Principal outstanding"]
    expected = [
        [b.bucket, str(b.loans), str(b.principal_outstanding), str(b.total_outstanding)]
        for b in selectors.outstanding_by_bucket()
    ]
    assert [r[:4] for r in rows[1:]] == expected
    history = read_csv(client.get(reverse("admin:portfolio_dashboard_csv", args=["overdue_rate"])))
    snapshot = selectors.latest_snapshot()
    assert history[1][:2] == [LATE_NIGHT.isoformat(), str(snapshot.overdue_rate)]
    nights = read_csv(client.get(reverse("admin:portfolio_dashboard_csv", args=["nights"])))
    assert nights[1][:2] == [LATE_NIGHT.isoformat(), "done"]
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
    assert 'lang="zh-hans"' in page.content.decode()
