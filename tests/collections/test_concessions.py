"""Waivers, settlements, write-off proposals and recoveries in collections: a collector
proposes on their own case, someone else decides, lending's services move the money, the night
settles, lapses and lists — and the ledger still reconciles."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from debt_collection import kpis
from debt_collection.concession_selectors import credited_to, recoveries_by
from debt_collection.models import (
    Case,
    ProposalState,
    Queue,
    Recovery,
    SettlementProposal,
    WaiverProposal,
    WriteOffProposal,
)
from debt_collection.services.cases import case_reassign
from debt_collection.services.concessions import (
    settlement_check,
    settlement_decide,
    settlement_propose,
    waiver_decide,
    waiver_propose,
    write_off_decide,
    write_off_proposals,
)
from lending import roles
from lending.access import SYSTEM
from lending.close_of_business.runner import close_business_days
from lending.errors import LendingError
from lending.models import Loan, LoanStatus
from lending.services.concessions import recovery_post
from lending.services.repayments import repayment_post
from tests.collections.helpers import open_case, overdue_loans
from tests.lending.test_close_of_business import assert_reconciles

pytestmark = pytest.mark.django_db

LATE_THROUGH = date(2026, 9, 25)  # ten nights late


def nights_until(day: date) -> None:
    close_business_days(until=day, acting_user=SYSTEM)


def own_case(collector, **product_fields) -> Case:
    (loan,) = overdue_loans(**product_fields)
    case = open_case(loan)
    Queue.objects.get(name="M1 early reminders").members.add(collector)
    case_reassign(case_ids=[case.pk], collector_id=collector.pk, reason="t", acting_user=SYSTEM)
    nights_until(LATE_THROUGH)
    case.refresh_from_db()
    return case


@pytest.fixture
def case(collector):
    return own_case(collector)


# --- waivers --------------------------------------------------------------------------------


def test_a_collectors_waiver_approved_by_a_manager_reduces_the_penalty(case, collector, manager):
    owed = case.loan.penalty_outstanding
    proposal = waiver_propose(
        case_id=case.pk, penalty=owed, reason="hospitalised", acting_user=collector
    )
    assert proposal.state == ProposalState.PENDING and proposal.proposed_by == collector
    assert Loan.objects.get(pk=case.loan_id).penalty_outstanding == owed  # nothing moved yet
    decided = waiver_decide(proposal_id=proposal.pk, approve=True, acting_user=manager)
    assert decided.state == ProposalState.APPROVED and decided.decided_by == manager
    assert decided.transaction.kind == "waiver" and decided.transaction.penalty == owed
    assert Loan.objects.get(pk=case.loan_id).penalty_outstanding == 0
    assert_reconciles()


def test_the_proposer_can_never_approve_their_own_waiver(case, role_user):
    maker = role_user(roles.COLLECTIONS_MANAGER, username="maker")
    proposal = waiver_propose(case_id=case.pk, penalty="1.00", reason="r", acting_user=maker)
    with pytest.raises(LendingError) as exc:
        waiver_decide(proposal_id=proposal.pk, approve=True, acting_user=maker)
    assert exc.value.code == "same_person" and exc.value.field == "proposal"
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING and proposal.transaction is None


def test_rejected_waiver_moves_no_money_and_is_decided_once(case, collector, manager):
    proposal = waiver_propose(case_id=case.pk, penalty="1.00", reason="r", acting_user=collector)
    waiver_decide(proposal_id=proposal.pk, approve=False, note="no", acting_user=manager)
    assert Loan.objects.get(pk=case.loan_id).penalty_outstanding == case.loan.penalty_outstanding
    with pytest.raises(LendingError) as exc:
        waiver_decide(proposal_id=proposal.pk, approve=True, acting_user=manager)
    assert exc.value.code == "proposal_decided"


def test_waiver_proposals_refuse_bad_input_and_others_cases(case, collector, collector2):
    for fields, field in (
        ({"penalty": "-3"}, "penalty"),
        ({"penalty": "NaN"}, "penalty"),
        ({"penalty": "1e40"}, "penalty"),
        ({"penalty": ""}, "penalty"),
        ({"penalty": "99999.00"}, "penalty"),
        ({"penalty": "1.00", "reason": " "}, "reason"),
    ):
        with pytest.raises(LendingError) as exc:
            waiver_propose(case_id=case.pk, acting_user=collector, **{"reason": "r", **fields})
        assert exc.value.field == field, fields
    with pytest.raises(LendingError) as exc:  # another collector's case does not exist for them
        waiver_propose(case_id=case.pk, penalty="1.00", reason="r", acting_user=collector2)
    assert exc.value.code == "not_found"
    assert not WaiverProposal.objects.exists()


# --- each role forging each call ------------------------------------------------------------

PROPOSE = {roles.COLLECTOR, roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR}
DECIDE = {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR}
WRITE_OFF = {roles.FINANCE, roles.ADMINISTRATOR}


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_at_each_door(case, collector, role_user, role):
    user = role_user(role, username=f"forger-{role}")
    if role == roles.COLLECTOR:
        case.collector = user  # their own case: only the permission decides
        case.save(update_fields=["collector"])

    def attempt(call, **kwargs):
        try:
            call(acting_user=user, **kwargs)
        except LendingError as exc:
            return exc.code
        return "done"

    waiver = WaiverProposal.objects.create(case=case, penalty=1, reason="r", proposed_by=collector)
    settlement = SettlementProposal.objects.create(
        case=case, amount=1, due_by=date(2199, 1, 1), reason="r", proposed_by=collector
    )
    write_off = WriteOffProposal.objects.create(case=case, dpd=200, outstanding=1, reason="r")
    proposed = attempt(waiver_propose, case_id=case.pk, penalty="1.00", reason="r")
    assert (proposed != "permission_denied") == (role in PROPOSE), proposed
    decided = attempt(waiver_decide, proposal_id=waiver.pk, approve=False)
    assert (decided == "done") == (role in DECIDE), decided
    decided = attempt(settlement_decide, proposal_id=settlement.pk, approve=False)
    assert (decided == "done") == (role in DECIDE), decided
    decided = attempt(write_off_decide, proposal_id=write_off.pk, approve=False)
    assert (decided == "done") == (role in WRITE_OFF), decided
    posted = attempt(recovery_post, loan_id=case.loan_id, amount="1.00", value_date=LATE_THROUGH)
    assert (posted != "permission_denied") == (role in WRITE_OFF), posted


# --- settlements ----------------------------------------------------------------------------


def _agreed(case, collector, manager, clock, amount="3000.00", due_by=date(2026, 10, 5)):
    clock(date(2026, 9, 26))
    proposal = settlement_propose(
        case_id=case.pk, amount=amount, due_by=due_by, reason="lump sum", acting_user=collector
    )
    settlement_decide(proposal_id=proposal.pk, approve=True, acting_user=manager)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.APPROVED and proposal.agreed_on == date(2026, 9, 26)
    clock(date(2026, 10, 6))  # the days after the agreement, when the money comes
    return proposal


def test_a_settlement_paid_by_its_date_closes_the_loan_and_case_as_settled(
    case, collector, manager, clock
):
    # Less than the arrears: the loan stays late (a payment clearing them would cure the case).
    proposal = _agreed(case, collector, manager, clock, amount="800.00")
    repayment_post(
        loan_id=case.loan_id, amount="300.00", value_date=date(2026, 9, 26), acting_user=SYSTEM
    )
    repayment_post(
        loan_id=case.loan_id, amount="500.00", value_date=date(2026, 10, 5), acting_user=SYSTEM
    )
    nights_until(date(2026, 10, 5))  # the night of its date: paid in full by it
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.SETTLED and proposal.paid == Decimal("800.00")
    loan = Loan.objects.get(pk=case.loan_id)
    assert loan.status == LoanStatus.CLOSED and loan.status_reason == "settled"
    assert loan.total_outstanding == 0
    case.refresh_from_db()
    assert (case.status, case.close_reason) == ("closed", "settled")
    assert proposal.transaction.kind == "settlement_discount"
    assert_reconciles()
    # Re-run for the date: already decided, nothing changes.
    assert settlement_check(business_date=date(2026, 10, 5)) == {
        "settlements_settled": 0,
        "settlements_lapsed": 0,
        "settlements_waiting": 0,
    }


def test_an_unpaid_settlement_lapses_on_the_night_of_its_date(case, collector, manager, clock):
    proposal = _agreed(case, collector, manager, clock, amount="800.00", due_by=date(2026, 9, 28))
    repayment_post(
        loan_id=case.loan_id, amount="799.99", value_date=date(2026, 9, 27), acting_user=SYSTEM
    )
    nights_until(date(2026, 9, 27))
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.APPROVED  # still running the day before
    nights_until(date(2026, 9, 28))
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.LAPSED and proposal.resolved_on == date(2026, 9, 28)
    assert proposal.paid == Decimal("799.99")
    assert Loan.objects.get(pk=case.loan_id).status == LoanStatus.ACTIVE
    # Late money does not revive it.
    repayment_post(
        loan_id=case.loan_id, amount="5.00", value_date=date(2026, 9, 28), acting_user=SYSTEM
    )
    assert settlement_check(business_date=date(2026, 9, 29))["settlements_settled"] == 0
    assert_reconciles()


def test_settlement_proposals_are_checked(case, collector, manager, clock):
    clock(date(2026, 9, 26))
    outstanding = case.loan.total_outstanding
    for fields, field in (
        ({"amount": str(outstanding)}, "amount"),  # the whole debt: that is a payoff
        ({"amount": "0"}, "amount"),
        ({"amount": "inf"}, "amount"),
        ({"due_by": date(2026, 9, 25)}, "due_by"),  # in the past
        ({"due_by": date(2026, 12, 26)}, "due_by"),  # beyond 90 days
        ({"due_by": date(9999, 12, 31)}, "due_by"),
    ):
        kwargs = {"amount": "100.00", "due_by": date(2026, 10, 1), "reason": "r", **fields}
        with pytest.raises(LendingError) as exc:
            settlement_propose(case_id=case.pk, acting_user=collector, **kwargs)
        assert exc.value.field == field, fields
    proposal = settlement_propose(
        case_id=case.pk, amount="100.00", due_by=date(2026, 10, 1), reason="r", acting_user=manager
    )
    with pytest.raises(LendingError) as exc:
        settlement_decide(proposal_id=proposal.pk, approve=True, acting_user=manager)
    assert exc.value.code == "same_person"
    with pytest.raises(LendingError) as exc:  # one running per case
        settlement_propose(
            case_id=case.pk,
            amount="50.00",
            due_by=date(2026, 10, 1),
            reason="r",
            acting_user=collector,
        )
    assert exc.value.code == "duplicate"


# --- write-off proposals and recoveries -------------------------------------------------------


@pytest.mark.parametrize("dpd, listed", [(179, False), (180, True)])
def test_the_write_off_list_starts_at_the_products_dpd(case, dpd, listed):
    assert case.loan.product.write_off_dpd == 180  # the default
    Loan.objects.filter(pk=case.loan_id).update(dpd=dpd)
    assert write_off_proposals(business_date=LATE_THROUGH) == {"write_off_proposals": int(listed)}
    assert WriteOffProposal.objects.filter(case=case).exists() == listed
    if listed:  # what finance reads: the dpd, the reason and the outstanding as of the night
        loan = Loan.objects.get(pk=case.loan_id)
        proposal = WriteOffProposal.objects.get(case=case)
        assert (proposal.dpd, proposal.state, proposal.proposed_by) == (180, "pending", None)
        assert proposal.reason == f"180 days past due on {LATE_THROUGH.isoformat()}"
        assert proposal.outstanding == (
            loan.principal_outstanding
            + loan.interest_outstanding
            + loan.fee_outstanding
            + loan.penalty_outstanding
        )
        assert proposal.outstanding > 0
    # Once per case, however often the night runs.
    assert write_off_proposals(business_date=LATE_THROUGH) == {"write_off_proposals": 0}


def test_the_night_lists_finance_writes_off_and_a_recovery_is_reported(
    client, collector, collector2, manager, finance_user
):
    case = own_case(collector, write_off_dpd=10)  # ten nights late: on the list
    proposal = WriteOffProposal.objects.get(case=case)
    assert proposal.dpd == 10 and proposal.proposed_by is None and proposal.outstanding > 0
    with pytest.raises(LendingError) as exc:
        write_off_decide(proposal_id=proposal.pk, approve=True, acting_user=manager)
    assert exc.value.code == "permission_denied"
    write_off_decide(proposal_id=proposal.pk, approve=True, acting_user=finance_user)
    loan = Loan.objects.get(pk=case.loan_id)
    case.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF
    assert (case.status, case.close_reason) == ("closed", "written_off")
    recovery_post(
        loan_id=loan.pk, amount="700.00", value_date=timezone.localdate(), acting_user=finance_user
    )
    assert_reconciles()
    assert recoveries_by("collector") == {collector.pk: Decimal("700.00")}
    assert recoveries_by("queue") == {case.queue_id: Decimal("700.00")}
    assert recoveries_by("queue", end=date(2026, 1, 1)) == {}
    # The manager's KPI page adds them up by collector and queue.
    assert kpis.recovered_by_collector_and_queue() == [
        {"collector": collector.username, "queue": case.queue.name, "amount": Decimal("700.00")}
    ]
    # The recoveries list credits the same collector and queue.
    client.force_login(manager)
    row = client.get("/admin/collections/recovery/").text.split('class="field-collector"')[1]
    assert collector.username in row.split("</td>")[0]
    assert case.queue.name in row.split('class="field-queue"')[1].split("</td>")[0]
    # Filtered by the collector and queue credited; a made-up value finds nothing.
    url = "/admin/collections/recovery/"
    assert loan.reference in client.get(f"{url}?collector_id={collector.pk}").text
    assert loan.reference in client.get(f"{url}?queue_id={case.queue_id}").text
    assert loan.reference not in client.get(f"{url}?collector_id={collector2.pk}").text
    junk = client.get(f"{url}?collector_id=1%27%20OR%201=1")
    assert junk.status_code == 200 and loan.reference not in junk.text
    # Finance reaches the posting page from the list and from the written-off loan's page,
    # the loan filled in; a manager, who may not post, is offered neither.
    assert "Post a recovery" not in client.get(url).text
    assert "Post a recovery" not in client.get(f"/admin/lending/loan/{loan.pk}/change/").text
    client.force_login(finance_user)
    assert 'href="/admin/collections/recovery/post/"' in client.get(url).text
    loan_page = client.get(f"/admin/lending/loan/{loan.pk}/change/").text
    post_url = f"/admin/collections/recovery/post/?loan={loan.reference}"
    assert post_url in loan_page and f"?loan__id__exact={loan.pk}" in loan_page
    assert f'value="{loan.reference}"' in client.get(post_url).text
    listed = client.get(f"{url}?loan__id__exact={loan.pk}")
    assert listed.status_code == 200 and loan.reference in listed.text
    # A collector sees the recoveries of their own cases only.
    client.force_login(collector)
    assert loan.reference in client.get(url).text
    client.force_login(collector2)
    assert loan.reference not in client.get(url).text


def test_a_recovery_is_credited_to_the_loan_s_last_written_off_case(
    client, collector, collector2, finance_user
):
    case = own_case(collector, write_off_dpd=10)
    proposal = WriteOffProposal.objects.get(case=case)
    write_off_decide(proposal_id=proposal.pk, approve=True, acting_user=finance_user)
    recovery_post(
        loan_id=case.loan_id,
        amount="300.00",
        value_date=timezone.localdate(),
        acting_user=finance_user,
    )
    # A later written-off case of the same loan (say, worked again by another collector after
    # a reversal): the recovery is now credited to it, in the figures and in the list alike.
    case.refresh_from_db()
    Case.objects.create(
        loan_id=case.loan_id,
        borrower_id=case.borrower_id,
        status="closed",
        close_reason="written_off",
        opened_on=case.opened_on,
        closed_on=case.closed_on,
        bucket=case.bucket,
        dpd=case.dpd,
        overdue_amount=case.overdue_amount,
        total_outstanding=case.total_outstanding,
        collector=collector2,
    )
    assert recoveries_by("collector") == {collector2.pk: Decimal("300.00")}
    recoveries = Recovery.objects.all()
    assert not credited_to(recoveries, collector_id=collector.pk).exists()
    assert credited_to(recoveries, collector_id=collector2.pk).count() == 1
    url = "/admin/collections/recovery/"
    client.force_login(collector)
    assert case.loan.reference not in client.get(url).text
    # Forging the filter does not widen a collector's own list.
    assert case.loan.reference not in client.get(f"{url}?collector_id={collector2.pk}").text
    client.force_login(collector2)
    assert case.loan.reference in client.get(url).text
