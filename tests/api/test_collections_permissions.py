"""Who may do what in collections through the API: every role forging every operation is
refused (403, or 404 where the case is not theirs to see) and nothing is written; another
collector's case is a 404 on every case URL, never a 403."""

import pytest

from debt_collection.models import ContactHold
from debt_collection.services.contacts import contact_hold_place
from lending import roles
from lending.access import SYSTEM
from tests.api.collections_world import (
    COLLECTIONS,
    case_url,
    collections_state,
    contact,
    make_world,
)
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client_for):
    world = make_world(client_for)
    world.hold = contact_hold_place(
        borrower_id=world.other.borrower_id, kind="dispute", reason="t", acting_user=SYSTEM
    )
    return world


def operations(world) -> dict:
    """name -> (url, body) of every state-changing collections POST."""
    return {
        "contact": (case_url(world.case, "contacts/"), contact()),
        "promise": (
            case_url(world.case, "promises/"),
            {"amount": "100.00", "promised_for": "2026-12-20"},
        ),
        "reassign": (
            COLLECTIONS + "cases/reassign/",
            {"cases": [world.case.pk], "collector": world.collector2.user.pk, "reason": "forged"},
        ),
        "queue members": (
            COLLECTIONS + f"queues/{world.queue.pk}/members/",
            {"members": []},
        ),
        "activate policy": (COLLECTIONS + "policies/2/activate/", {}),
        "place hold": (
            COLLECTIONS + "holds/",
            {"borrower": world.case.borrower_id, "kind": "do_not_contact", "reason": "forged"},
        ),
        "lift hold": (COLLECTIONS + f"holds/{world.hold.pk}/lift/", {}),
        "time zone": (
            case_url(world.case, "time-zone/"),
            {"time_zone": "Asia/Urumqi", "reason": "forged"},
        ),
    }


# The roles whose permissions include each operation (a collector's on their own case).
HOLDERS = {
    "contact": {roles.COLLECTOR, roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "promise": {roles.COLLECTOR, roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "reassign": {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "queue members": {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "activate policy": {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "place hold": {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "lift hold": {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
    "time zone": {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR},
}


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_forging_each_operation_is_refused_and_nothing_is_written(world, role):
    client = world.clients[role]
    refused = [name for name in HOLDERS if role not in HOLDERS[name]]
    assert refused or role in (roles.ADMINISTRATOR, roles.COLLECTIONS_MANAGER)
    for name in refused:
        url, body = operations(world)[name]
        before = collections_state()
        response = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=f"forged-{name}")
        if role == roles.COLLECTOR and name == "lift hold":
            # The hold is on collector2's borrower: to this collector it does not exist.
            assert_problem(response, 404, "not_found")
        else:
            assert_problem(response, 403, "permission_denied")
        assert collections_state() == before, name


@pytest.mark.parametrize("role", [roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR])
def test_the_holders_may(world, role):
    client = world.clients[role]
    for name, (url, body) in operations(world).items():
        response = client.post(url, body, format="json")
        assert response.status_code in (200, 201), (name, response.json())
        if name == "activate policy":  # leave v1 in force for the contacts that follow
            client.post(COLLECTIONS + "policies/1/activate/")
    assert not ContactHold.objects.filter(pk=world.hold.pk, lifted_at__isnull=True).exists()


def test_another_collectors_case_is_a_404_on_every_case_url(world):
    intruder = world.collector2
    before = collections_state()
    for url in (
        case_url(world.case),
        case_url(world.case, "contacts/"),
        case_url(world.case, "promises/"),
    ):
        assert_problem(intruder.get(url), 404, "not_found")
    for url, body in (
        (case_url(world.case, "contacts/"), contact()),
        (case_url(world.case, "promises/"), {"amount": "100.00", "promised_for": "2026-12-20"}),
        (case_url(world.case, "time-zone/"), {"time_zone": "Asia/Urumqi", "reason": "x"}),
    ):
        assert_problem(intruder.post(url, body, format="json"), 404, "not_found")
        # Even a body that is wrong: the case is not found first, nothing about it is told.
        assert_problem(intruder.post(url, {"bogus": 1}, format="json"), 404, "not_found")
    # The same answer as for a case that does not exist at all.
    missing = intruder.get(COLLECTIONS + f"cases/{10**12}/")
    assert missing.json()["detail"] == intruder.get(case_url(world.case)).json()["detail"]
    assert collections_state() == before


def test_anonymous_is_a_401(world, anon):
    assert_problem(anon.get(COLLECTIONS + "cases/"), 401, "not_authenticated")
    assert_problem(
        anon.post(case_url(world.case, "contacts/"), contact(), format="json"),
        401,
        "not_authenticated",
    )
