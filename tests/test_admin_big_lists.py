"""Lists of big tables never count the whole table: the page counts at most the bounded
paginator's limit, and says "Show all" instead of "N total" beside a search."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

BIG_LISTS = (
    "lending_loan",
    "lending_borrower",
    "lending_auditevent",
    "lending_bucketchange",
    "risk_loanapplication",
    "risk_decision",
    "risk_riskprofile",
    "risk_creditlimit",
    "collections_case",
    "collections_casebyborrower",
    "collections_reminder",
    "collections_contactattempt",
    "collections_caseassignment",
    "collections_promisetopay",
    "collections_recovery",
)
# What bench/admin.py reports as a whole-table count.
COUNT_FROM = re.compile(r'COUNT\(\*\).*?\bFROM\s+"(\w+)"', re.S | re.I)


def whole_table_counts(queries) -> list[str]:
    found = []
    for q in queries:
        upper = q["sql"].upper()
        if COUNT_FROM.search(q["sql"]) and " WHERE " not in upper and " LIMIT " not in upper:
            found.append(q["sql"])
    return found


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    client.force_login(user)
    return client


@pytest.fixture
def loans():
    return [active_loan() for _ in range(3)]


def test_the_loan_list_counts_no_whole_table_and_shows_every_loan(admin_client, loans):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse("admin:lending_loan_changelist"))
    assert response.status_code == 200
    assert whole_table_counts(queries.captured_queries) == []
    page = response.content.decode()
    for loan in loans:
        assert loan.reference in page
    assert "3 loans" in page


def test_a_searched_loan_list_offers_show_all_instead_of_a_total(admin_client, loans):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(
            reverse("admin:lending_loan_changelist"), {"q": loans[0].reference}
        )
    assert whole_table_counts(queries.captured_queries) == []
    page = response.content.decode()
    assert loans[0].reference in page
    assert loans[1].reference not in page
    assert "1 result" in page
    assert "Show all" in page
    assert "total" not in re.sub(r"<[^>]+>", " ", page).split("1 result", 1)[1][:80]


@pytest.mark.parametrize("name", BIG_LISTS)
def test_no_big_list_counts_its_whole_table(admin_client, loans, name):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200
    assert whole_table_counts(queries.captured_queries) == []


def test_the_work_list_by_borrower_reads_the_grouped_loans_once_per_page(client, django_user_model):
    from datetime import date
    from decimal import Decimal

    from debt_collection.models import Case
    from tests.factories import BorrowerFactory

    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    client.force_login(boss)
    url = reverse("admin:collections_casebyborrower_changelist")

    def borrowers_with_cases(n):
        loans = []
        for _ in range(n):
            borrower = BorrowerFactory()
            for priority in (1, 2):
                loan = active_loan(start=date(2026, 7, 15), borrower=borrower)
                Case.objects.create(
                    loan=loan,
                    borrower=borrower,
                    opened_on=date(2026, 10, 1),
                    bucket="M1",
                    dpd=5,
                    priority=priority,
                    overdue_amount=Decimal("100.00"),
                    total_outstanding=Decimal("1000.00"),
                )
                loans.append(loan)
        return loans

    borrowers_with_cases(1)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    loans = borrowers_with_cases(3)
    with CaptureQueriesContext(connection) as four:
        page = client.get(url).content.decode()
    assert all(loan.reference in page for loan in loans)  # every borrower's loans, grouped
    assert len(four.captured_queries) == len(one.captured_queries)
