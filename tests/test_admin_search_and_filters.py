"""The admin searches and filters that read a million-row table only through its indexes
(issue 13): a reference or a name, never both OR-ed across a join; fixed-value filters that
offer their values without a SELECT DISTINCT over the list's table; the group page's
permissions read in a constant number of queries."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from debt_collection.models import Case
from lending import roles
from lending.admin.search import looks_like_reference, reference_shaped
from lending.models import Loan
from tests.factories import BorrowerFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

LISTS = {
    "loans": "admin:lending_loan_changelist",
    "borrowers": "admin:lending_borrower_changelist",
    "cases": "admin:collections_case_changelist",
    "work list": "admin:collections_casebyborrower_changelist",
}


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    client.force_login(user)
    return client


@pytest.fixture
def book():
    """Three borrowers, a loan and an open case each; the second loan migrated with a
    reference of letters only (a word a name could be)."""
    names = ("王芳", "Wang Fang", "李雷")
    loans = []
    for n, name in enumerate(names):
        borrower = BorrowerFactory(full_name=name)
        loan = active_loan(start=date(2026, 7, 15), borrower=borrower)
        Case.objects.create(
            loan=loan,
            borrower=borrower,
            opened_on=date(2026, 10, 1),
            bucket="M1",
            dpd=5,
            priority=10 + n,
            overdue_amount=Decimal("100.00"),
            total_outstanding=Decimal("1000.00"),
        )
        loans.append(loan)
    Loan.objects.filter(pk=loans[1].pk).update(reference="ABC-XYZ")
    loans[1].refresh_from_db()
    return loans


def search(client, list_name, term):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(LISTS[list_name]), {"q": term})
    assert response.status_code == 200
    return response.content.decode(), queries.captured_queries


def or_across_the_join(queries) -> list[str]:
    """Statements that match a pattern against both a reference and a borrower's name."""
    return [
        q["sql"]
        for q in queries
        if re.search(like_on("reference"), q["sql"]) and re.search(like_on("full_name"), q["sql"])
    ]


def like_on(column: str) -> str:
    # SQLite: "t"."column" LIKE %s; PostgreSQL: UPPER("t"."column"::text) LIKE UPPER(%s)
    return rf'"{column}"(::text)?\)?\s+LIKE\b'


def test_what_looks_like_a_reference():
    assert looks_like_reference("LN00012345")
    assert looks_like_reference("ln0001")  # typed in lower case, a prefix
    assert looks_like_reference("ABC-2024/7")
    assert not looks_like_reference("Wang")  # a name has no digit
    assert not looks_like_reference("王芳")
    assert not looks_like_reference("LN0001 Wang")
    assert reference_shaped("ABC-XYZ") and not looks_like_reference("ABC-XYZ")


@pytest.mark.parametrize("list_name", LISTS)
def test_a_reference_finds_its_row_on_each_list(admin_client, book, list_name):
    page, queries = search(admin_client, list_name, book[0].reference.lower())
    assert "王芳" in page
    assert "李雷" not in page and "Wang Fang" not in page
    assert or_across_the_join(queries) == []


@pytest.mark.parametrize("list_name", LISTS)
def test_a_name_finds_its_rows_on_each_list(admin_client, book, list_name):
    page, queries = search(admin_client, list_name, "李雷")
    assert "李雷" in page
    assert "王芳" not in page and "Wang Fang" not in page
    assert or_across_the_join(queries) == []
    # Words of a Latin name, each in the name (Django's own rule for several words).
    page, queries = search(admin_client, list_name, "wang fang")
    assert "Wang Fang" in page
    assert "王芳" not in page and "李雷" not in page
    assert or_across_the_join(queries) == []


@pytest.mark.parametrize("list_name", LISTS)
def test_a_migrated_reference_without_a_digit_still_finds_its_row(admin_client, book, list_name):
    page, _ = search(admin_client, list_name, "abc-xyz")
    assert "Wang Fang" in page
    assert "王芳" not in page and "李雷" not in page


def test_a_name_word_that_is_no_reference_searches_names(admin_client, book):
    page, _ = search(admin_client, "loans", "Fang")
    assert "Wang Fang" in page and "王芳" not in page


def test_the_borrower_list_finds_a_borrower_by_number(admin_client, book):
    page, _ = search(admin_client, "borrowers", str(book[2].borrower_id))
    assert "李雷" in page
    assert "王芳" not in page and "Wang Fang" not in page


def test_the_work_list_finds_a_borrower_by_any_of_their_loans(admin_client, book):
    """The row stands for the most urgent case; a reference of the borrower's other loan
    finds the same row."""
    borrower = book[0].borrower
    second = active_loan(start=date(2026, 7, 15), borrower=borrower)
    Case.objects.create(
        loan=second,
        borrower=borrower,
        opened_on=date(2026, 10, 1),
        bucket="M2",
        dpd=40,
        priority=1,  # not the lead case
        overdue_amount=Decimal("100.00"),
        total_outstanding=Decimal("1000.00"),
    )
    page, _ = search(admin_client, "work list", second.reference)
    assert page.count("王芳") == 1
    assert book[0].reference in page and second.reference in page
    assert "李雷" not in page


# ----------------------------------------------------------------------------- filters


def distinct_reads(queries, column: str) -> list[str]:
    """Django's default filter: SELECT DISTINCT "table"."column" FROM the list's table."""
    pattern = re.compile(rf'SELECT DISTINCT "\w+"\."{column}"')
    return [q["sql"] for q in queries if pattern.search(q["sql"])]


@pytest.mark.parametrize(
    ("url", "parameter", "values"),
    [
        ("admin:lending_loan_changelist", "bucket", ("M0", "M1", "M7")),
        ("admin:collections_case_changelist", "bucket", ("M1", "M3", "M7")),
        ("admin:collections_casebyborrower_changelist", "bucket", ("M1", "M3", "M7")),
        ("admin:lending_bucketchange_changelist", "to_bucket", ("M1", "M7")),
        ("admin:risk_decision_changelist", "grade", ("A", "C", "E")),
        ("admin:collections_reminder_changelist", "language", ("en", "zh-hans")),
    ],
)
def test_fixed_value_filters_offer_every_value_without_reading_the_table(
    admin_client, book, url, parameter, values
):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(url))
    page = response.content.decode()
    for value in values:  # offered whether or not a row has it yet
        assert f"?{parameter}={value}" in page
    assert distinct_reads(queries.captured_queries, parameter) == []


def test_the_bucket_filter_keeps_its_parameter_and_filters(admin_client, book):
    Loan.objects.filter(pk=book[0].pk).update(bucket="M2")
    page = admin_client.get(reverse(LISTS["loans"]), {"bucket": "M2"}).content.decode()
    assert book[0].reference in page
    assert book[2].reference not in page


# ----------------------------------------------------------------------------- groups


def test_a_group_page_reads_its_permissions_in_constant_queries(client, role_user):
    """The auditor sees a role's permissions as text, each naming its content type: the page
    costs the same with 5 permissions as with all of them."""
    client.force_login(role_user(roles.AUDITOR, username="auditor"))
    group = Group.objects.create(name="reviewers")
    everything = list(Permission.objects.order_by("pk"))
    url = reverse("admin:auth_group_change", args=[group.pk])

    def load():
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url).content.decode()
        return page, len(queries.captured_queries)

    group.permissions.set(everything[:5])
    load()  # the first load fills per-process caches (content types)
    page, few = load()
    assert str(everything[0].name) in page
    group.permissions.set(everything)
    page, many = load()
    assert str(everything[-1].name) in page
    assert len(everything) > 100
    assert many == few


@pytest.mark.django_db
def test_the_distinct_values_of_a_column_are_each_value_once_in_order():
    from lending.admin.filters import distinct_values
    from lending.models import AuditEvent

    before = set(distinct_values(AuditEvent, "action"))
    for action in ("zz.last", "aa.first", "zz.last", "mm.middle", "aa.first"):
        AuditEvent.objects.create(action=action, object_type="test", object_id="1")
    found = distinct_values(AuditEvent, "action")
    assert found == sorted(found) and len(found) == len(set(found))
    assert set(found) == before | {"aa.first", "mm.middle", "zz.last"}
