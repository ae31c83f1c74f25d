"""Bad input — huge, negative, NaN, far-future, empty, wrong type, unknown fields — is a 400
problem naming the field, and changes nothing."""

from datetime import date

import pytest

from tests.api.books import approved_loan, book_state
from tests.api.conftest import API, assert_problem
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db
GOOD = {"amount": "100.00", "value_date": "2026-06-15"}


@pytest.fixture
def loan():
    return active_loan(start=date(2026, 1, 15))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "-5.00"),
        ("amount", "0"),
        ("amount", "NaN"),
        ("amount", "Infinity"),
        ("amount", "1e30"),
        ("amount", "1" * 40),
        ("amount", "0.001"),
        ("amount", ""),
        ("amount", None),
        ("amount", ["1"]),
        ("amount", {"a": 1}),
        ("amount", "99999999999.00"),  # more than the payoff plus the overpayment limit
        ("value_date", "9999-12-31"),
        ("value_date", "2999-01-01"),
        ("value_date", "1066-10-14"),
        ("value_date", "not a date"),
        ("value_date", ""),
        ("value_date", "2026-02-30"),
        ("channel", "x" * 33),
        ("external_id", "x" * 101),
        ("note", "x" * 256),
        ("status", "closed"),
        ("principal_outstanding", "0.00"),
        ("posted_by", 1),
    ],
)
def test_a_bad_repayment_names_the_field_and_posts_nothing(finance, loan, field, value):
    before = book_state(loan)
    response = finance.post(
        API + f"loans/{loan.reference}/repayments/", {**GOOD, field: value}, format="json"
    )
    body = response.json()
    assert response.status_code == 400, body
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in body["errors"], body
    assert body["code"] in {"invalid", "required", "out_of_range", "unknown_field"}
    assert book_state(loan) == before


def test_a_missing_field_is_required(finance, loan):
    response = finance.post(
        API + f"loans/{loan.reference}/repayments/", {"amount": "1.00"}, format="json"
    )
    assert_problem(response, 400, "required", "value_date")


def test_an_empty_body_names_every_missing_field(finance, loan):
    response = finance.post(API + f"loans/{loan.reference}/repayments/", {}, format="json")
    body = assert_problem(response, 400, "required")
    assert set(body["errors"]) == {"amount", "value_date"}


def test_a_future_disbursement_date_is_refused(finance):
    loan = approved_loan()
    before = book_state(loan)
    for value in ["2999-01-01", "9999-12-31", "10000-01-01"]:
        response = finance.post(
            API + f"loans/{loan.reference}/disburse/", {"disbursement_date": value}, format="json"
        )
        assert_problem(response, 400, response.json()["code"], "disbursement_date")
    assert book_state(loan) == before


def test_a_blank_reason_is_required(officer):
    loan = approved_loan()
    before = book_state(loan)
    response = officer.post(
        API + f"loans/{loan.reference}/cancel/", {"reason": "   "}, format="json"
    )
    assert_problem(response, 400, "required", "reason")
    assert book_state(loan) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "-1"),
        ("amount", "1e30"),
        ("amount", "NaN"),
        ("rate", "18"),
        ("rate", "-0.1"),
        ("term", 10**30),
        ("term", 0),
        ("term", "twelve"),
        ("start_date", "9999-12-31"),
        ("first_due_date", "2199-12-31"),
        ("product", "no-such-product"),
        ("currency", "USD"),
    ],
)
def test_a_bad_quote_names_the_field(finance, field, value):
    product = approved_loan().product
    good = {
        "product": product.code,
        "amount": "10000.00",
        "rate": "0.18",
        "term": 12,
        "start_date": "2026-01-15",
    }
    response = finance.post(API + "quotes/", {**good, field: value}, format="json")
    body = response.json()
    assert response.status_code == 400, body
    assert field in body["errors"], body
