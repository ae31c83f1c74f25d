"""A manager settles an agreement paid in full today instead of waiting for the night: the loan
and its case close as settled at once; not paid in full, not running, or by anyone else, it is
refused and nothing changes — through the service, the admin's action and the API."""

from datetime import date
from decimal import Decimal

import pytest

from debt_collection.models import ProposalState, SettlementProposal
from debt_collection.services.concessions import (
    settlement_check,
    settlement_decide,
    settlement_propose,
    settlement_settle_now,
)
from lending import formatting, roles
from lending.access import SYSTEM
from lending.errors import LendingError
from lending.models import AuditEvent, Loan, LoanStatus, Transaction
from lending.services.repayments import repayment_post
from tests.api.conftest import API, assert_problem
from tests.collections.test_concessions import own_case
from tests.lending.test_close_of_business import assert_reconciles

pytestmark = pytest.mark.django_db

AGREED_ON, TODAY = date(2026, 9, 26), date(2026, 9, 28)


@pytest.fixture
def agreement(collector, manager, clock):
    case = own_case(collector)
    clock(AGREED_ON)
    proposal = settlement_propose(
        case_id=case.pk,
        amount="800.00",
        due_by=date(2026, 10, 5),
        reason="lump sum",
        acting_user=collector,
    )
    settlement_decide(proposal_id=proposal.pk, approve=True, acting_user=manager)
    clock(TODAY)
    return SettlementProposal.objects.get(pk=proposal.pk)


def pay(agreement, amount, day=TODAY):
    repayment_post(
        loan_id=agreement.case.loan_id, amount=amount, value_date=day, acting_user=SYSTEM
    )


def state(agreement):
    loan = Loan.objects.get(pk=agreement.case.loan_id)
    agreement.refresh_from_db()
    return agreement.state, loan.status, loan.total_outstanding, Transaction.objects.count()


def test_paid_in_full_today_the_loan_and_case_close_at_once(agreement, manager):
    pay(agreement, "300.00", AGREED_ON)
    pay(agreement, "500.00")  # today: the night has not seen it
    settled = settlement_settle_now(proposal_id=agreement.pk, acting_user=manager)
    assert (settled.state, settled.paid, settled.resolved_on) == (
        ProposalState.SETTLED,
        Decimal("800.00"),
        TODAY,
    )
    loan = Loan.objects.get(pk=agreement.case.loan_id)
    assert (loan.status, loan.status_reason, loan.total_outstanding) == ("closed", "settled", 0)
    agreement.case.refresh_from_db()
    assert (agreement.case.status, agreement.case.close_reason) == ("closed", "settled")
    assert settled.transaction.kind == "settlement_discount"
    assert settled.transaction.posted_by == manager
    event = AuditEvent.objects.get(action="settlement.settled", object_id=str(agreement.pk))
    assert event.actor == manager
    assert_reconciles()
    # The night finds it decided and does nothing more.
    assert settlement_check(business_date=TODAY)["settlements_settled"] == 0
    with pytest.raises(LendingError) as exc:
        settlement_settle_now(proposal_id=agreement.pk, acting_user=manager)
    assert exc.value.code == "proposal_decided"


def test_not_paid_in_full_yet_is_refused_with_what_came_and_nothing_changes(agreement, manager):
    pay(agreement, "799.99")
    before = state(agreement)
    with pytest.raises(LendingError) as exc:
        settlement_settle_now(proposal_id=agreement.pk, acting_user=manager)
    assert (exc.value.code, exc.value.field) == ("settlement_not_paid", "amount")
    assert "799.99" in str(exc.value) and "800.00" in str(exc.value)
    assert state(agreement) == before
    # Money valued before the agreement does not count towards it.
    pay(agreement, "100.00", date(2026, 9, 25))
    with pytest.raises(LendingError):
        settlement_settle_now(proposal_id=agreement.pk, acting_user=manager)
    assert agreement.state == ProposalState.APPROVED


@pytest.mark.parametrize("proposal_state", ["pending", "rejected", "lapsed", "settled"])
def test_only_a_running_agreement_is_settled(agreement, manager, proposal_state):
    pay(agreement, "800.00")
    SettlementProposal.objects.filter(pk=agreement.pk).update(state=proposal_state)
    before = state(agreement)
    with pytest.raises(LendingError) as exc:
        settlement_settle_now(proposal_id=agreement.pk, acting_user=manager)
    assert (exc.value.code, exc.value.field) == ("proposal_decided", "proposal")
    assert state(agreement) == before


@pytest.mark.parametrize("proposal_id", [10**12, -1, 0, "1", None, 1.5, "NaN"])
def test_an_unknown_or_malformed_proposal_is_not_found(agreement, manager, proposal_id):
    pay(agreement, "800.00")
    before = state(agreement)
    with pytest.raises(LendingError) as exc:
        settlement_settle_now(proposal_id=proposal_id, acting_user=manager)
    assert (exc.value.code, exc.value.field) == ("not_found", "proposal")
    assert state(agreement) == before


SETTLERS = {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR}


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_at_each_door(agreement, role_user, client, client_for, role):
    pay(agreement, "800.00")
    user = role_user(role, username=f"door-{role}")
    before = state(agreement)
    may = role in SETTLERS
    # The service.
    if not may:
        with pytest.raises(LendingError) as exc:
            settlement_settle_now(proposal_id=agreement.pk, acting_user=user)
        assert exc.value.code == "permission_denied"
        assert state(agreement) == before
    # The admin's action on the settlements list.
    client.force_login(user)
    page = client.post(
        "/admin/collections/settlementproposal/",
        {"action": "settle_now", "_selected_action": [agreement.pk]},
        follow=True,
    )
    if may:
        assert state(agreement)[:2] == (ProposalState.SETTLED, LoanStatus.CLOSED)
        assert "1 loan settled." in page.text
        return
    assert state(agreement) == before
    # The API.
    api = client_for(role, username=f"api-{role}")
    answer = api.post(API + f"collections/settlements/{agreement.pk}/settle/", {}, format="json")
    if role == roles.COLLECTOR:  # another collector's case: not even there for them
        assert_problem(answer, 404, "not_found")
    else:
        assert_problem(answer, 403, "permission_denied")
    assert state(agreement) == before


def test_the_api_settles_and_answers_the_agreement(agreement, client_for):
    pay(agreement, "800.00")
    manager = client_for(roles.COLLECTIONS_MANAGER, username="api-manager")
    answer = manager.post(
        API + f"collections/settlements/{agreement.pk}/settle/", {}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["state"] == "settled" and answer.json()["paid"] == "800.00"
    again = manager.post(API + f"collections/settlements/{agreement.pk}/settle/", {}, format="json")
    assert_problem(again, 409, "proposal_decided", "proposal")


def test_the_agreements_page_tells_what_the_discount_forgave(agreement, manager, client):
    pay(agreement, "800.00")
    settled = settlement_settle_now(proposal_id=agreement.pk, acting_user=manager)
    discount = settled.transaction
    forgiven = discount.principal + discount.interest + discount.fee + discount.penalty
    assert forgiven > 1000  # a figure with a thousands separator
    client.force_login(manager)
    page = client.get(f"/admin/collections/settlementproposal/{agreement.pk}/change/").text
    # Not "of 0.00": a discount moves no cash, so it is told by what it forgave.
    assert f"Settlement discount of {formatting.money(forgiven)}" in page
    assert "0.00 on" not in page


def test_the_admin_reports_an_unpaid_agreement_and_settles_nothing(agreement, manager, client):
    pay(agreement, "10.00")
    client.force_login(manager)
    page = client.post(
        "/admin/collections/settlementproposal/",
        {"action": "settle_now", "_selected_action": [agreement.pk]},
        follow=True,
    )
    assert "settlement_not_paid" in page.text and "10.00" in page.text
    assert agreement.state == state(agreement)[0] == ProposalState.APPROVED
