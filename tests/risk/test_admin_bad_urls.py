"""Values a user can type into a URL or a form that once gave a server error: each now gets
the page, or the error on its field."""

import pytest

from lending.roles import CREDIT_OFFICER, RISK_ANALYST

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(client, role_user):
    client.force_login(role_user(CREDIT_OFFICER))
    return client


@pytest.mark.parametrize(
    "url", ["/admin/risk/loanapplication/add/", "/admin/risk/riskprofile/add/"]
)
@pytest.mark.parametrize("value", ["abc", "1e3", "²", "-1", "9" * 40])
def test_a_borrower_that_is_no_id_in_the_url_shows_the_page(officer, url, value):
    assert officer.get(url, {"borrower": value}).status_code == 200


def test_posting_a_borrower_that_is_no_id_names_the_field(officer):
    page = officer.post("/admin/risk/loanapplication/add/", {"borrower": "abc", "amount": "1000"})
    assert page.status_code == 200
    assert "borrower" in page.context["form"].errors


@pytest.mark.parametrize("term", ["²", "١٢", "12", "LN00000001"])
def test_the_borrower_search_takes_any_digits(officer, term):
    assert officer.get("/admin/lending/borrower/", {"q": term}).status_code == 200


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, '{"a": ' * 5_000, "x" * (1024 * 1024 + 1)],
    ids=["deep", "nested", "huge"],
)
def test_a_policy_json_that_cannot_be_read_is_refused_on_its_field(client, role_user, text):
    client.force_login(role_user(RISK_ANALYST))
    page = client.post("/admin/risk/creditpolicy/import/", {"name": "Pasted", "text": text})
    assert page.status_code == 200
    assert "text" in page.context["form"].errors
