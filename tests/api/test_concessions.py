"""Concessions through the API: waivers and settlements proposed by a collector on their own
case and decided by a manager (never the proposer), write-off proposals decided by finance,
recoveries posted on written-off loans (idempotent as repayments), and the KPIs — each call
one service, each refusal a problem with the service's code, nothing written when refused."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from debt_collection.models import (
    ProposalState,
    SettlementProposal,
    WaiverProposal,
    WriteOffProposal,
)
from lending import roles
from lending.models import AuditEvent, Loan, LoanStatus, Transaction, TransactionKind
from tests.api.collections_world import COLLECTIONS, case_url, make_world
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client_for):
    world = make_world(client_for)
    world.finance = world.clients[roles.FINANCE]
    return world


def concessions_state() -> tuple:
    """Everything a concession could write (equal before and after: nothing was)."""
    return (
        sorted(WaiverProposal.objects.values_list("pk", "state")),
        sorted(SettlementProposal.objects.values_list("pk", "state")),
        sorted(WriteOffProposal.objects.values_list("pk", "state")),
        sorted(Loan.objects.values_list("pk", "status")),
        Transaction.objects.count(),
        AuditEvent.objects.count(),
    )


def soon(days: int = 20) -> str:
    return str(timezone.localdate() + timedelta(days=days))


def propose_waiver(client, case, **overrides):
    body = {"interest": "10.00", "reason": "hospitalised", **overrides}
    return client.post(case_url(case, "waivers/"), body, format="json")


def propose_settlement(client, case, **overrides):
    body = {"amount": "3000.00", "due_by": soon(), "reason": "lump sum", **overrides}
    return client.post(case_url(case, "settlements/"), body, format="json")


def decide(client, kind: str, pk: int, approve: bool = True, **extra):
    body = {"approve": approve, "note": "checked", **extra}
    return client.post(f"{COLLECTIONS}{kind}/{pk}/decide/", body, format="json")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- waivers -------------------------------------------------------------------------------


def test_a_collectors_waiver_approved_by_a_manager_is_posted(world):
    interest = world.case.loan.interest_outstanding
    proposed = propose_waiver(world.collector, world.case)
    body = proposed.json()
    assert proposed.status_code == 201, body
    assert body["state"] == "pending" and body["interest"] == "10.00"
    assert body["proposed_by"] == "collector" and body["transaction"] is None
    assert body["loan"] == world.case.loan.reference
    # Nothing moved yet; the manager finds it among the pending ones.
    assert Loan.objects.get(pk=world.case.loan_id).interest_outstanding == interest
    pending = world.manager.get(COLLECTIONS + "waivers/", {"state": "pending"})
    assert ids(pending) == [body["id"]]
    assert ids(world.collector.get(case_url(world.case, "waivers/"))) == [body["id"]]

    decided = decide(world.manager, "waivers", body["id"])
    assert decided.status_code == 200, decided.json()
    assert decided.json()["state"] == "approved"
    assert decided.json()["decided_by"] == "collections-manager"
    waiver = Transaction.objects.get(pk=decided.json()["transaction"])
    assert waiver.kind == TransactionKind.WAIVER and waiver.interest == Decimal("10.00")
    assert Loan.objects.get(pk=world.case.loan_id).interest_outstanding == interest - 10
    assert world.collector.get(f"{COLLECTIONS}waivers/{body['id']}/").json()["state"] == "approved"


def test_the_proposer_never_decides_and_a_proposal_is_decided_once(world):
    proposal = propose_waiver(world.manager, world.case).json()
    before = concessions_state()
    own = decide(world.manager, "waivers", proposal["id"])
    assert_problem(own, 409, "same_person", "proposal")
    assert concessions_state() == before
    assert WaiverProposal.objects.get().state == ProposalState.PENDING

    administrator = world.clients[roles.ADMINISTRATOR]
    assert decide(administrator, "waivers", proposal["id"], approve=False).status_code == 200
    again = decide(administrator, "waivers", proposal["id"])
    assert_problem(again, 409, "proposal_decided", "proposal")
    assert WaiverProposal.objects.get().state == ProposalState.REJECTED
    assert not Transaction.objects.filter(kind=TransactionKind.WAIVER).exists()


def test_rules_of_a_waiver_are_the_services(world):
    propose_waiver(world.collector, world.case)
    before = concessions_state()
    second = propose_waiver(world.collector, world.case)
    assert_problem(second, 409, "duplicate", "case")
    too_much = propose_waiver(world.manager, world.other, interest="99999.00")
    assert_problem(too_much, 400, "out_of_range", "interest")
    nothing = propose_waiver(world.manager, world.other, interest="0")
    assert_problem(nothing, 400, "required", "penalty")
    assert concessions_state() == before


def test_a_collector_never_reaches_another_collectors_proposals(world):
    mine = propose_waiver(world.collector, world.case).json()
    theirs = propose_waiver(world.collector2, world.other).json()
    assert ids(world.collector.get(COLLECTIONS + "waivers/")) == [mine["id"]]
    assert ids(world.collector2.get(COLLECTIONS + "waivers/")) == [theirs["id"]]
    before = concessions_state()
    intruder = world.collector2
    assert_problem(intruder.get(f"{COLLECTIONS}waivers/{mine['id']}/"), 404, "not_found")
    assert_problem(decide(intruder, "waivers", mine["id"]), 404, "not_found")
    assert_problem(intruder.get(case_url(world.case, "waivers/")), 404, "not_found")
    assert_problem(propose_waiver(intruder, world.case), 404, "not_found")
    assert_problem(propose_settlement(intruder, world.case), 404, "not_found")
    # The same answer as a proposal that does not exist.
    missing = intruder.get(f"{COLLECTIONS}waivers/{10**12}/").json()
    assert missing == intruder.get(f"{COLLECTIONS}waivers/{mine['id']}/").json()
    assert concessions_state() == before


# --- settlements ---------------------------------------------------------------------------


def test_a_settlement_is_proposed_approved_and_its_status_read(world):
    proposed = propose_settlement(world.collector, world.case)
    body = proposed.json()
    assert proposed.status_code == 201, body
    assert (body["state"], body["amount"], body["due_by"]) == ("pending", "3000.00", soon())
    assert body["agreed_on"] is None and body["paid"] == "0.00"

    decided = decide(world.manager, "settlements", body["id"])
    assert decided.status_code == 200, decided.json()
    status = world.collector.get(f"{COLLECTIONS}settlements/{body['id']}/").json()
    assert status["state"] == "approved"
    assert status["agreed_on"] == str(timezone.localdate())
    listed = world.manager.get(COLLECTIONS + "settlements/", {"state": "approved"})
    assert ids(listed) == [body["id"]]
    # One running per case.
    again = propose_settlement(world.collector, world.case)
    assert_problem(again, 409, "duplicate", "case")


def test_settlement_rules_refuse_with_their_codes(world):
    before = concessions_state()
    whole = str(world.case.loan.total_outstanding)
    assert_problem(propose_settlement(world.collector, world.case, amount=whole), 400,
                   "out_of_range", "amount")  # fmt: skip
    past = str(timezone.localdate() - timedelta(days=1))
    assert_problem(propose_settlement(world.collector, world.case, due_by=past), 400,
                   "out_of_range", "due_by")  # fmt: skip
    assert concessions_state() == before
    own = propose_settlement(world.manager, world.other).json()
    assert_problem(decide(world.manager, "settlements", own["id"]), 409, "same_person")
    assert SettlementProposal.objects.get().state == ProposalState.PENDING


# --- write-offs and recoveries -------------------------------------------------------------


def drawn_up(case) -> WriteOffProposal:
    """What the night draws up for a case at its product's write-off dpd."""
    return WriteOffProposal.objects.create(case=case, dpd=180, outstanding=1, reason="180 dpd")


def test_finance_writes_off_from_the_list_and_posts_a_recovery(world):
    proposal = drawn_up(world.other)
    listed = world.finance.get(COLLECTIONS + "write-offs/", {"state": "pending"})
    assert ids(listed) == [proposal.pk]
    assert listed.json()["results"][0]["proposed_by"] is None  # the night

    refused = decide(world.manager, "write-offs", proposal.pk)
    assert_problem(refused, 403, "permission_denied")
    decided = decide(world.finance, "write-offs", proposal.pk)
    assert decided.status_code == 200, decided.json()
    assert decided.json()["state"] == "approved"
    loan = Loan.objects.get(pk=world.other.loan_id)
    assert loan.status == LoanStatus.WRITTEN_OFF
    assert Transaction.objects.get(pk=decided.json()["transaction"]).kind == "write_off"

    body = {"loan": loan.reference, "amount": "700.00", "value_date": str(timezone.localdate()),
            "channel": "agency", "external_id": "AGY-1"}  # fmt: skip
    posted = world.finance.post(COLLECTIONS + "recoveries/", body, format="json")
    assert posted.status_code == 201, posted.json()
    row = posted.json()
    assert (row["loan"], row["amount"], row["external_id"]) == (loan.reference, "700.00", "AGY-1")
    assert row["case"] == world.other.pk and row["collector"] == world.collector2.user.pk
    # The collector of the case sees it credited to them; the other collector does not.
    assert ids(world.collector2.get(COLLECTIONS + "recoveries/")) == [row["id"]]
    assert ids(world.collector.get(COLLECTIONS + "recoveries/")) == []
    loan.refresh_from_db()
    assert loan.total_outstanding == 0  # a recovery moves no balance


def test_a_recovery_replays_under_its_key_and_conflicts_with_another_body(world):
    decide(world.finance, "write-offs", drawn_up(world.other).pk)
    loan = Loan.objects.get(pk=world.other.loan_id)
    url = COLLECTIONS + "recoveries/"
    body = {"loan": loan.reference, "amount": "250.00", "value_date": str(timezone.localdate())}
    first = world.finance.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="REC-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    again = world.finance.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="REC-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Transaction.objects.filter(kind=TransactionKind.RECOVERY).count() == 1
    before = concessions_state()
    for changed in ({"amount": "251.00"}, {"note": "another"}, {"channel": "bank"}):
        other = world.finance.post(
            url, {**body, **changed}, format="json", HTTP_IDEMPOTENCY_KEY="REC-1"
        )
        assert_problem(other, 422, "idempotency_conflict", "idempotency_key")
    # Without a header the external id is the key.
    by_id = {**body, "external_id": "AGY-9"}
    assert world.finance.post(url, by_id, format="json").status_code == 201
    replay = world.finance.post(url, by_id, format="json")
    assert replay["Idempotent-Replayed"] == "true"
    assert Transaction.objects.filter(kind=TransactionKind.RECOVERY).count() == 2
    assert concessions_state()[:4] == before[:4]


def test_a_recovery_on_a_loan_not_written_off_is_refused(world):
    before = concessions_state()
    body = {"loan": world.case.loan.reference, "amount": "1.00",
            "value_date": str(timezone.localdate())}  # fmt: skip
    refused = world.finance.post(COLLECTIONS + "recoveries/", body, format="json")
    assert_problem(refused, 409, "loan_not_written_off", "loan")
    missing = world.finance.post(
        COLLECTIONS + "recoveries/", {**body, "loan": "LN99999999"}, format="json"
    )
    assert_problem(missing, 404, "not_found")
    assert concessions_state() == before


# --- KPIs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [roles.COLLECTIONS_MANAGER, roles.FINANCE, roles.AUDITOR, roles.ADMINISTRATOR]
)
def test_kpis_for_those_who_see_every_case(world, role):
    response = world.clients[role].get(COLLECTIONS + "kpis/", {"months": 3})
    body = response.json()
    assert response.status_code == 200, body
    assert sum(row["cases"] for row in body["open_cases_by_bucket"]) == 2
    assert body["open_cases_by_queue"][0]["queue"] == "M1 early reminders"
    assert body["as_of"] == str(timezone.localdate())
    assert body["cure"]["cases"] == 2 and body["cure"]["cured"] == 0
    assert body["cure"]["rate"] == "0.0000"
    assert body["promises"] == {"pending": 0, "kept": 0, "broken": 0, "kept_rate": None}


@pytest.mark.parametrize("role", [roles.COLLECTOR, roles.CREDIT_OFFICER, roles.RISK_ANALYST])
def test_kpis_are_refused_to_those_who_see_only_some_cases_or_none(world, role):
    assert_problem(world.clients[role].get(COLLECTIONS + "kpis/"), 403, "permission_denied")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"months": 0}, "months"),
        ({"months": 25}, "months"),
        ({"months": "x"}, "months"),
        ({"months": str(10**30)}, "months"),
        ({"until": "2999-01-01"}, "until"),
        ({"until": "nope"}, "until"),
        ({"since": "2026-12-01", "until": "2026-11-01"}, "since"),
    ],
)
def test_bad_kpi_queries_name_the_parameter(world, query, field):
    response = world.manager.get(COLLECTIONS + "kpis/", query)
    body = response.json()
    assert response.status_code == 400, body
    assert field in body["errors"], body
