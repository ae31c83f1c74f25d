"""Idempotent repayments: a retried request posts once and gets the first answer again."""

from datetime import date

import pytest

from lending.models import Transaction, TransactionKind
from tests.api.conftest import API, assert_problem
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db
BODY = {"amount": "300.00", "value_date": "2026-02-15", "channel": "bank"}


@pytest.fixture
def loan():
    return active_loan(start=date(2026, 1, 15))


def pay(client, loan, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(API + f"loans/{loan.reference}/repayments/", body, format="json", **headers)


def repayments(loan) -> int:
    return Transaction.objects.filter(loan=loan, kind=TransactionKind.REPAYMENT).count()


def test_the_same_key_and_body_replay_the_first_answer(finance, loan):
    first = pay(finance, loan, BODY, key="retry-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    again = pay(finance, loan, BODY, key="retry-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert repayments(loan) == 1


def test_the_external_id_is_the_key_without_a_header(finance, loan):
    body = {**BODY, "external_id": "GW-77"}
    first = pay(finance, loan, body)
    again = pay(finance, loan, body)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert first.json()["idempotency_key"] == "GW-77"
    assert repayments(loan) == 1


@pytest.mark.parametrize(
    "change",
    [{"amount": "301.00"}, {"value_date": "2026-02-16"}, {"channel": "card"}, {"note": "x"}],
)
def test_the_same_key_with_another_body_is_a_422(finance, loan, change):
    pay(finance, loan, BODY, key="retry-2")
    response = pay(finance, loan, {**BODY, **change}, key="retry-2")
    assert_problem(response, 422, "idempotency_conflict", "idempotency_key")
    assert repayments(loan) == 1


def test_the_same_key_on_another_loan_is_a_422(finance, loan):
    pay(finance, loan, BODY, key="retry-3")
    other = active_loan(start=date(2026, 1, 15))
    assert_problem(pay(finance, other, BODY, key="retry-3"), 422, "idempotency_conflict")
    assert repayments(other) == 0


def test_a_key_too_long_is_a_400(finance, loan):
    assert_problem(pay(finance, loan, BODY, key="k" * 101), 400, "invalid", "idempotency_key")
    assert repayments(loan) == 0
