"""Applications (the one route to an approved loan), credit limits and policies."""

import itertools
from datetime import date

import pytest

from lending import roles
from lending.identity import generate_national_id
from lending.models import Loan
from risk.models import CreditLimit, LoanApplication
from tests.api.conftest import API, assert_problem
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return ProductFactory()


def apply(client, borrower, product, /, **changes):
    body = {"borrower": borrower.pk, "product": product.code, "amount": "8000.00"}
    return client.post(API + "applications/", {**body, "term_months": 12, **changes}, format="json")


_seq = itertools.count()


def person():
    """A borrower of 36 (the factory's default birth years are older than the policy lends to)."""
    born = date(1990, 6, 15)
    national_id = generate_national_id(
        date_of_birth=born, sex="M", region_code="440301", sequence=next(_seq) % 100
    )
    return BorrowerFactory(national_id=national_id, date_of_birth=born, sex="M")


def good_borrower():
    """Verified income and a clean bureau record: the default policy approves."""
    borrower = person()
    RiskProfileFactory(borrower=borrower)
    return borrower


def test_an_approved_application_books_the_loan_with_its_decision(officer, product):
    response = apply(officer, good_borrower(), product)
    body = response.json()
    assert response.status_code == 201, body
    assert body["status"] == "approved"
    assert body["decision"]["outcome"] == "approve"
    assert body["decision"]["trace"]
    loan = Loan.objects.get(reference=body["loan"])
    assert loan.status == "approved"
    detail = officer.get(API + f"applications/{body['id']}/").json()
    assert detail["loan"] == loan.reference


def test_a_referral_is_decided_by_a_second_officer_never_the_first(officer, client_for, product):
    borrower = person()  # no bureau data: the policy refers rather than guesses
    body = apply(officer, borrower, product).json()
    assert body["status"] == "referred", body
    assert body["decision"]["reasons"]
    url = API + f"applications/{body['id']}/review/"

    same = officer.post(url, {"approve": True, "note": "looks fine"}, format="json")
    assert_problem(same, 409, "same_person", "reviewer")
    assert LoanApplication.objects.get().status == "referred"

    second = client_for(roles.CREDIT_OFFICER, username="officer-two")
    response = second.post(url, {"approve": False, "note": "income not shown"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "declined"
    assert response.json()["reviewed_by"] == "officer-two"


@pytest.mark.parametrize(
    "role", [r for r in roles.ROLES if r not in (roles.CREDIT_OFFICER, roles.ADMINISTRATOR)]
)
def test_only_officers_and_administrators_submit(client_for, role, product):
    client = client_for(role)
    response = apply(client, good_borrower(), product)
    assert response.status_code in (403,), response.json()
    assert not LoanApplication.objects.exists()
    assert not Loan.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("amount", "-1", "amount"),
        ("amount", "NaN", "amount"),
        ("amount", "1e30", "amount"),
        ("term_months", 999, "term_months"),
        ("term_months", 10**30, "term_months"),
        ("annual_rate", "0.99", "annual_rate"),
        ("borrower", 10**30, "borrower"),
        ("product", "nope", "product"),
        ("status", "approved", "status"),
        ("decision", 1, "decision"),
    ],
)
def test_a_bad_application_names_the_field_and_writes_nothing(
    officer, product, field, value, named
):
    response = apply(officer, good_borrower(), product, **{field: value})
    body = response.json()
    assert response.status_code == 400, body
    assert named in body["errors"], body
    assert not LoanApplication.objects.exists()


def test_an_unknown_borrower_is_404(officer, product):
    assert_problem(apply(officer, BorrowerFactory.build(pk=999999), product), 404, "not_found")


def test_credit_limits_and_their_history(officer, auditor, product):
    borrower = good_borrower()
    apply(officer, borrower, product)
    limit = CreditLimit.objects.get(borrower=borrower)
    listed = auditor.get(API + "credit-limits/", {"borrower": borrower.pk}).json()["results"]
    assert [row["id"] for row in listed] == [limit.pk]
    detail = auditor.get(API + f"credit-limits/{limit.pk}/").json()
    assert detail["amount"] == f"{limit.amount:.2f}"
    assert detail["exposure"] == "8000.00"
    history = auditor.get(API + f"credit-limits/{limit.pk}/history/").json()["results"]
    assert history[0]["kind"] == "set"
    assert history[0]["policy_version"] == 1


def test_policies_read_and_simulate(client_for):
    analyst = client_for(roles.RISK_ANALYST)
    versions = analyst.get(API + "policies/").json()["results"]
    assert versions[0]["version"] == 1
    detail = analyst.get(API + "policies/1/").json()
    assert "definition" in detail
    result = analyst.get(API + "policies/1/simulate/", {"as_of": "2026-06-30"}).json()
    assert result["candidate"]["version"] == 1
    assert result["as_of"] == "2026-06-30"
    assert result["bad_definition"] == "any loan ever 30+ days past due"
    chinese = analyst.get(
        API + "policies/1/simulate/", {"as_of": "2026-06-30"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()
    assert chinese["bad_definition"] == "任一笔贷款曾逾期 30 天及以上"
    future = analyst.get(API + "policies/1/simulate/", {"as_of": "2999-01-01"})
    assert_problem(future, 400, future.json()["code"], "as_of")
    assert_problem(analyst.get(API + "policies/99/simulate/"), 404, "not_found")
    assert_problem(client_for(roles.COLLECTOR).get(API + "policies/"), 403, "permission_denied")
