"""Concessions' doors: each role forging each operation is refused (403, nothing written), and
bad input — huge, negative, NaN, far-future, empty, wrong types, unknown fields — is a 400
problem naming the field, with nothing written."""

import pytest
from django.utils import timezone

from debt_collection.models import SettlementProposal, WaiverProposal, WriteOffProposal
from debt_collection.services.concessions import write_off_decide
from lending import roles
from lending.access import SYSTEM
from tests.api.collections_world import COLLECTIONS, case_url, make_world
from tests.api.conftest import assert_problem
from tests.api.test_concessions import concessions_state, soon

pytestmark = pytest.mark.django_db
CODES = {"invalid", "required", "out_of_range", "unknown_field"}


@pytest.fixture
def world(client_for):
    world = make_world(client_for)
    collector = world.collector.user
    world.waiver = WaiverProposal.objects.create(
        case=world.case, interest=1, reason="r", proposed_by=collector
    )
    world.settlement = SettlementProposal.objects.create(
        case=world.case, amount=100, due_by=timezone.localdate(), reason="r", proposed_by=collector
    )
    world.write_off = WriteOffProposal.objects.create(
        case=world.case, dpd=180, outstanding=1, reason="r"
    )
    written_off = WriteOffProposal.objects.create(
        case=world.other, dpd=180, outstanding=1, reason="r"
    )
    write_off_decide(proposal_id=written_off.pk, approve=True, acting_user=SYSTEM)
    world.written_off_loan = world.other.loan
    return world


def operations(world) -> dict:
    """name -> (url, body) of every concessions POST."""
    today = str(timezone.localdate())
    return {
        "propose waiver": (case_url(world.case, "waivers/"), {"interest": "0.50", "reason": "r"}),
        "propose settlement": (
            case_url(world.case, "settlements/"),
            {"amount": "50.00", "due_by": soon(), "reason": "r"},
        ),
        "decide waiver": (
            f"{COLLECTIONS}waivers/{world.waiver.pk}/decide/",
            {"approve": False},
        ),
        "decide settlement": (
            f"{COLLECTIONS}settlements/{world.settlement.pk}/decide/",
            {"approve": False},
        ),
        "settle now": (f"{COLLECTIONS}settlements/{world.settlement.pk}/settle/", {}),
        "decide write-off": (
            f"{COLLECTIONS}write-offs/{world.write_off.pk}/decide/",
            {"approve": False},
        ),
        "recovery": (
            COLLECTIONS + "recoveries/",
            {"loan": world.written_off_loan.reference, "amount": "1.00", "value_date": today},
        ),
    }


HOLDERS = {
    "propose waiver": {roles.COLLECTOR, roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "propose settlement": {roles.COLLECTOR, roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "decide waiver": {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "decide settlement": {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "settle now": {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "decide write-off": {roles.FINANCE, roles.ADMINISTRATOR},
    "recovery": {roles.FINANCE, roles.ADMINISTRATOR},
}


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_forging_each_operation_is_refused_and_nothing_is_written(world, role):
    client = world.clients[role]
    refused = [name for name in HOLDERS if role not in HOLDERS[name]]
    for name in refused:
        url, body = operations(world)[name]
        before = concessions_state()
        response = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=f"forged-{name}")
        assert_problem(response, 403, "permission_denied")
        assert concessions_state() == before, name
    # ... and what the role holds, it may do.
    for name in [name for name in HOLDERS if name not in refused]:  # proposals first
        url, body = operations(world)[name]
        response = client.post(url, body, format="json")
        if name.startswith("propose"):
            # Allowed, and refused by the next rule: the fixture's proposal is pending.
            assert_problem(response, 409, "duplicate", "case")
        elif name == "settle now":
            # Allowed, and refused by the next rule: the fixture's agreement is not running.
            assert_problem(response, 409, "proposal_decided", "proposal")
        else:
            assert response.status_code in (200, 201), (name, response.json())


def test_the_holders_propose_on_a_case_without_proposals(world):
    WaiverProposal.objects.all().delete()
    SettlementProposal.objects.all().delete()
    for name in ("propose waiver", "propose settlement"):
        url, body = operations(world)[name]
        response = world.collector.post(url, body, format="json")
        assert response.status_code == 201, (name, response.json())


def test_anonymous_is_a_401(world, anon):
    for url, body in operations(world).values():
        assert_problem(anon.post(url, body, format="json"), 401, "not_authenticated")
    assert_problem(anon.get(COLLECTIONS + "kpis/"), 401, "not_authenticated")


# --- bad input -----------------------------------------------------------------------------


def assert_400(response, field):
    body = response.json()
    assert response.status_code == 400, (field, body)
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in body["errors"], body
    assert body["code"] in CODES, body


AMOUNTS = ["-5.00", "NaN", "Infinity", "1e30", "1" * 40, "0.001", "", "abc", ["1"], {"a": 1}]

BAD = {
    "propose waiver": [
        *[("interest", v) for v in AMOUNTS],
        *[("penalty", v) for v in ("-1", "NaN", "1e30", "x", None)],
        ("interest", "99999.00"),  # more than owed
        ("reason", ""),
        ("reason", " "),
        ("reason", None),
        ("reason", "x" * 256),
        ("reason", ["r"]),
        ("state", "approved"),
        ("proposed_by", 1),
        ("transaction", 1),
    ],
    "propose settlement": [
        *[("amount", v) for v in (*AMOUNTS, "0", None)],
        ("amount", "999999.00"),  # all of it or more: a payoff, not a settlement
        ("due_by", "2999-01-01"),
        ("due_by", "9999-12-31"),
        ("due_by", "2026-01-01"),
        ("due_by", "2026-02-30"),
        ("due_by", "not a date"),
        ("due_by", ""),
        ("due_by", 20261231),
        ("reason", ""),
        ("reason", "x" * 256),
        ("agreed_on", "2026-12-01"),
        ("paid", "1.00"),
    ],
    "decide waiver": [
        ("approve", "maybe"),
        ("approve", None),
        ("approve", []),
        ("note", "x" * 256),
        ("note", {"a": 1}),
        ("state", "approved"),
        ("decided_by", 1),
    ],
    "decide write-off": [
        ("approve", "perhaps"),
        ("note", "x" * 256),
        ("transaction", 1),
    ],
    "recovery": [
        *[("amount", v) for v in (*AMOUNTS, "0", None)],
        ("amount", "99999999.00"),  # more than was written off
        ("value_date", "2999-01-01"),
        ("value_date", "2026-01-01"),  # before the write-off
        ("value_date", "yesterday"),
        ("value_date", ""),
        ("loan", ""),
        ("loan", None),
        ("loan", "L" * 21),
        ("loan", ["LN1"]),
        ("channel", "x" * 33),
        ("external_id", "x" * 101),
        ("note", "x" * 256),
        ("kind", "repayment"),
        ("posted_by", 1),
    ],
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_names_the_field_and_writes_nothing(world, name):
    client = world.clients[roles.FINANCE] if name in ("recovery", "decide write-off") else None
    client = client or (world.manager if name.startswith("decide") else world.collector)
    if name == "propose waiver":
        WaiverProposal.objects.all().delete()
    if name == "propose settlement":
        SettlementProposal.objects.all().delete()
    url, good = operations(world)[name]
    before = concessions_state()
    for field, value in BAD[name]:
        response = client.post(url, {**good, field: value}, format="json")
        assert_400(response, field)
        assert concessions_state() == before, (field, value)
    empty = client.post(url, {}, format="json")
    assert empty.status_code == 400, empty.json()
    assert concessions_state() == before


def test_an_oversized_idempotency_key_on_a_recovery_is_a_400(world):
    url, body = operations(world)["recovery"]
    before = concessions_state()
    response = world.clients[roles.FINANCE].post(
        url, body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 101
    )
    assert_400(response, "idempotency_key")
    assert concessions_state() == before


def test_odd_query_strings_are_never_a_500(world):
    for url in ("waivers/", "settlements/", "write-offs/", "recoveries/", "kpis/"):
        for query in ({"state": "nope"}, {"case": "x"}, {"page": "-1"}, {"ordering": "password"},
                      {"value_date": "x"}, {"case": str(10**30)}):  # fmt: skip
            response = world.manager.get(COLLECTIONS + url, query)
            assert response.status_code < 500, (url, query, response.content)
