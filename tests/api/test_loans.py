"""Loans: reads (list with filters and ordering, page, schedule, transactions, payoff)."""

from datetime import date
from decimal import Decimal

import pytest

from lending import roles
from tests.api.conftest import API, assert_problem
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan():
    return active_loan(start=date(2026, 1, 15))


def test_list_filters_and_orders(finance, loan):
    other = active_loan(principal="5000.00", start=date(2026, 3, 1))
    listed = finance.get(API + "loans/").json()
    assert [row["reference"] for row in listed["results"]] == [other.reference, loan.reference]
    assert listed["results"][0]["principal"] == "5000.00"  # money as a string, two places

    by_product = finance.get(API + "loans/", {"product": loan.product.code}).json()["results"]
    assert [row["reference"] for row in by_product] == [loan.reference]
    since = finance.get(API + "loans/", {"disbursed_from": "2026-02-01"}).json()["results"]
    assert [row["reference"] for row in since] == [other.reference]
    ordered = finance.get(API + "loans/", {"ordering": "principal"}).json()["results"]
    assert [row["reference"] for row in ordered] == [other.reference, loan.reference]
    assert finance.get(API + "loans/", {"status": "closed"}).json()["results"] == []
    assert len(finance.get(API + "loans/", {"dpd_min": 0, "dpd_max": 400}).json()["results"]) == 2


def test_a_loan_its_schedule_and_transactions(finance, loan):
    page = finance.get(API + f"loans/{loan.reference}/").json()
    assert page["status"] == "active"
    assert page["annual_rate"] == "0.180000"
    assert page["start_date"] == "2026-01-15"

    schedule = finance.get(API + f"loans/{loan.reference}/schedule/").json()
    assert [row["seq"] for row in schedule] == list(range(1, 13))
    assert schedule[0]["due_date"] == "2026-02-15"

    txns = finance.get(API + f"loans/{loan.reference}/transactions/").json()["results"]
    assert [t["kind"] for t in txns] == ["disbursement"]


def test_payoff_as_of_a_date(finance, loan):
    body = finance.get(API + f"loans/{loan.reference}/payoff/", {"as_of": "2026-01-20"}).json()
    assert body["as_of"] == "2026-01-20"
    assert body["principal"] == "10000.00"
    # Interest only to the date (the selector's figure), far below a month's 150.00.
    assert 0 < Decimal(body["interest"]) < Decimal("150.00")
    assert Decimal(body["amount"]) == Decimal("10000.00") + Decimal(body["interest"])


@pytest.mark.parametrize("as_of", ["tomorrow-ish", "99999-01-01", "9999-12-31", "1066-10-14"])
def test_payoff_refuses_a_bad_date_naming_it(finance, loan, as_of):
    response = finance.get(API + f"loans/{loan.reference}/payoff/", {"as_of": as_of})
    body = response.json()
    assert response.status_code == 400
    assert "as_of" in body["errors"]


def test_every_role_with_the_ledger_reads_loans(client_for, loan):
    for role in roles.ROLES:
        client = client_for(role)
        assert client.get(API + f"loans/{loan.reference}/").status_code == 200, role


def test_an_unknown_loan_is_404(finance):
    assert_problem(finance.get(API + "loans/LN99999999/schedule/"), 404, "not_found")
    assert_problem(
        finance.post(API + "loans/LN99999999/cancel/", {"reason": "x"}), 404, "not_found"
    )
    # The repayment's service finds the loan by its reference itself: the same answer.
    body = {"amount": "10.00", "value_date": "2026-02-01", "external_id": "x-1"}
    assert_problem(finance.post(API + "loans/LN99999999/repayments/", body), 404, "not_found")
