"""Operations on loans: each calls its service; refusals are problem details with the
service's code; a role without the permission is refused and nothing is written."""

from datetime import date

import pytest

from lending import roles
from lending.models import LoanStatus, Transaction
from tests.api.books import approved_loan, book_state
from tests.api.conftest import API, assert_problem
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db
TODAY = "2026-06-15"  # a past date (the machine's clock is later)


def op(client, loan, name, body=None, **extra):
    return client.post(API + f"loans/{loan.reference}/{name}/", body or {}, format="json", **extra)


def test_disburse_then_again_is_a_409(finance):
    loan = approved_loan()
    response = op(finance, loan, "disburse", {"disbursement_date": "2026-01-15"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "active"
    assert response.json()["maturity_date"] == "2027-01-15"
    before = book_state(loan)
    again = op(finance, loan, "disburse", {"disbursement_date": "2026-01-15"})
    assert_problem(again, 409, "illegal_transition", "status")
    assert book_state(loan) == before


def test_cancel_an_approved_loan(officer):
    loan = approved_loan()
    response = op(officer, loan, "cancel", {"reason": "the borrower withdrew"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["status_reason"] == "the borrower withdrew"


def test_a_repayment_is_posted_and_a_closed_loan_refuses_more(finance):
    loan = active_loan(start=date(2026, 1, 15))
    payoff = finance.get(API + f"loans/{loan.reference}/payoff/", {"as_of": TODAY}).json()
    paid = op(
        finance,
        loan,
        "repayments",
        {"amount": payoff["amount"], "value_date": TODAY, "channel": "bank", "external_id": "P1"},
    )
    assert paid.status_code == 201, paid.json()
    assert paid.json()["kind"] == "repayment"
    assert paid.json()["amount"] == payoff["amount"]
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED
    again = op(finance, loan, "repayments", {"amount": "10.00", "value_date": TODAY})
    assert_problem(again, 409, "loan_not_active", "loan")


def test_reverse_a_repayment_once(finance):
    loan = active_loan(start=date(2026, 1, 15))
    paid = op(finance, loan, "repayments", {"amount": "500.00", "value_date": "2026-02-15"})
    txn = paid.json()["id"]
    reversed_ = op(finance, loan, f"transactions/{txn}/reverse", {"reason": "bounced"})
    assert reversed_.status_code == 201, reversed_.json()
    assert reversed_.json()["kind"] == "reversal"
    assert reversed_.json()["reverses"] == txn
    twice = op(finance, loan, f"transactions/{txn}/reverse", {"reason": "bounced"})
    assert_problem(twice, 409, "already_reversed", "transaction")
    # A transaction of another loan is not found under this one.
    other = active_loan(start=date(2026, 1, 15))
    assert_problem(
        op(finance, other, f"transactions/{txn}/reverse", {"reason": "x"}), 404, "not_found"
    )


def test_write_off(finance):
    loan = active_loan(start=date(2026, 1, 15))
    response = op(finance, loan, "write-off", {"reason": "fraud", "value_date": TODAY})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "written_off"
    assert response.json()["total_outstanding"] == "0.00"


def test_refund_credit(finance):
    loan = active_loan(start=date(2026, 1, 15), max_overpayment="20000.00")
    payoff = finance.get(API + f"loans/{loan.reference}/payoff/", {"as_of": TODAY}).json()
    over = f"{float(payoff['amount']) + 100:.2f}"
    assert op(finance, loan, "repayments", {"amount": over, "value_date": TODAY}).status_code == 201
    nothing_left = op(finance, loan, "credit/refund", {"amount": "100.01"})
    assert_problem(nothing_left, 400, "out_of_range", "amount")
    refund = op(finance, loan, "credit/refund", {"note": "paid back"})
    assert refund.status_code == 201, refund.json()
    assert refund.json()["kind"] == "refund"
    assert refund.json()["amount"] == "100.00"


def test_there_is_no_approve_endpoint(administrator):
    loan = approved_loan()
    assert_problem(op(administrator, loan, "approve"), 404, "not_found")


# Every operation, and the roles whose permissions do not include it.
HOLDERS = {
    "cancel": {roles.CREDIT_OFFICER, roles.ADMINISTRATOR},
    "disburse": {roles.FINANCE, roles.ADMINISTRATOR},
    "repayments": {roles.FINANCE, roles.ADMINISTRATOR},
    "reverse": {roles.FINANCE, roles.ADMINISTRATOR},
    "write-off": {roles.FINANCE, roles.ADMINISTRATOR},
    "credit/refund": {roles.FINANCE, roles.ADMINISTRATOR},
}
FORGERIES = [(name, role) for name in HOLDERS for role in roles.ROLES if role not in HOLDERS[name]]


@pytest.mark.parametrize(("operation", "role"), FORGERIES)
def test_a_role_without_the_permission_is_refused_and_nothing_is_written(
    client_for, operation, role
):
    loan = approved_loan() if operation in ("cancel", "disburse") else active_loan()
    name, body = {
        "cancel": ("cancel", {"reason": "forged"}),
        "disburse": ("disburse", {"disbursement_date": "2026-01-15"}),
        "repayments": ("repayments", {"amount": "100.00", "value_date": TODAY}),
        "write-off": ("write-off", {"reason": "forged", "value_date": TODAY}),
        "credit/refund": ("credit/refund", {}),
        "reverse": ("reverse", {"reason": "forged"}),
    }[operation]
    if operation == "reverse":
        payment = Transaction.objects.filter(loan=loan).first()  # the disbursement will do
        name = f"transactions/{payment.pk}/reverse"
    before = book_state(loan)
    response = op(client_for(role), loan, name, body)
    assert_problem(response, 403, "permission_denied")
    assert book_state(loan) == before


def test_an_operation_answers_the_transaction_as_the_loans_transactions_list_shows_it(finance):
    # The operations build their answer with the output serializer's fields made once per
    # process (config.api.base.represented): every field must still read as the list reads it.
    loan = active_loan(start=date(2026, 1, 15), max_overpayment="20000.00")
    payoff = finance.get(API + f"loans/{loan.reference}/payoff/", {"as_of": TODAY}).json()
    over = f"{float(payoff['amount']) + 100:.2f}"
    body = {"amount": over, "value_date": TODAY, "channel": "bank", "external_id": "P-9"}
    paid = op(finance, loan, "repayments", {**body, "note": "paid off"})
    replayed = op(finance, loan, "repayments", {**body, "note": "paid off"})
    refund = op(finance, loan, "credit/refund", {"amount": "40.00", "note": "part back"})
    early = active_loan(start=date(2026, 1, 15))
    small = op(finance, early, "repayments", {"amount": "300.00", "value_date": "2026-02-15"})
    reversal = op(finance, early, f"transactions/{small.json()['id']}/reverse", {"reason": "x"})
    answers = [paid, replayed, refund, small, reversal]
    assert [a.status_code for a in answers] == [201] * 5, [a.json() for a in answers]
    assert replayed["Idempotent-Replayed"] == "true"
    listed = {}
    for some in (loan, early):
        rows = finance.get(API + f"loans/{some.reference}/transactions/", {"page_size": 200})
        listed |= {row["id"]: row for row in rows.json()["results"]}
    for answer in answers:
        assert answer.json() == listed[answer.json()["id"]]
    assert paid.json()["credit"] == "100.00"
    assert paid.json()["posted_by"] == finance.user.username
    assert reversal.json()["reverses"] == small.json()["id"]
