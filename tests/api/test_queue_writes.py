"""Collection queues created and edited through the API (queue_save): the buckets checked,
a taken name a 409, each role forging each write refused, bad input a 400 naming the field —
nothing written when refused."""

import pytest

from debt_collection.models import Queue
from lending import roles
from lending.models import AuditEvent
from tests.api.collections_world import COLLECTIONS
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db
MANAGERS = {roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR}
CODES = {"invalid", "required", "out_of_range", "unknown_field"}


def queues_state() -> tuple:
    return (
        sorted(
            Queue.objects.values_list(
                "pk", "name", "from_bucket", "to_bucket", "outside_agency", "active"
            )
        ),
        sorted(Queue.members.through.objects.values_list("queue_id", "user_id")),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def manager(client_for):
    return client_for(roles.COLLECTIONS_MANAGER)


@pytest.fixture
def queue():
    return Queue.objects.get(name="M2–M3 agents")


def test_a_manager_creates_and_edits_a_queue(manager, client_for):
    collector = client_for(roles.COLLECTOR).user
    body = {"name": "M3 calls", "from_bucket": "M3", "to_bucket": "M3", "members": [collector.pk]}
    created = manager.post(COLLECTIONS + "queues/", body, format="json")
    answer = created.json()
    assert created.status_code == 201, answer
    assert (answer["from_bucket"], answer["to_bucket"], answer["active"]) == ("M3", "M3", True)
    assert answer["members"] == [{"id": collector.pk, "username": "collector"}]
    url = COLLECTIONS + f"queues/{answer['id']}/"
    edited = manager.patch(url, {"active": False, "to_bucket": "M4"}, format="json")
    assert edited.status_code == 200, edited.json()
    assert (edited.json()["active"], edited.json()["to_bucket"]) == (False, "M4")
    assert edited.json()["members"] == answer["members"]  # kept
    assert AuditEvent.objects.filter(action="queue.save").count() == 2


def test_a_taken_name_is_a_409_and_writes_nothing(manager, queue):
    before = queues_state()
    taken = manager.post(COLLECTIONS + "queues/", {"name": queue.name, "from_bucket": "M2"},
                         format="json")  # fmt: skip
    assert_problem(taken, 409, "duplicate", "name")
    renamed = manager.patch(COLLECTIONS + "queues/1/", {"name": queue.name}, format="json")
    assert_problem(renamed, 409, "duplicate", "name")
    assert queues_state() == before


def assert_400(response, field):
    body = response.json()
    assert response.status_code == 400, (field, body)
    assert response["Content-Type"].startswith("application/problem+json")
    assert any(name == field or name.startswith(f"{field}.") for name in body["errors"]), body
    assert body["code"] in CODES, body


BAD = [
    ("name", ""),
    ("name", " "),
    ("name", None),
    ("name", "x" * 101),
    ("from_bucket", "ZZ"),
    ("from_bucket", ""),  # a queue the night fills needs its first bucket
    ("from_bucket", "x" * 9),
    ("to_bucket", "M1"),  # ends before it starts
    ("outside_agency", "maybe"),
    ("active", []),
    ("members", [10**12]),
    ("members", [-1]),
    ("members", "everyone"),
    ("id", 5),
    ("cases", [1]),
]


def test_bad_input_names_the_field_and_writes_nothing(manager, queue):
    before = queues_state()
    for field, value in BAD:
        body = {"name": "New queue", "from_bucket": "M2", "to_bucket": "M3", field: value}
        assert_400(manager.post(COLLECTIONS + "queues/", body, format="json"), field)
        assert queues_state() == before, (field, value)
        if field != "members":  # members have their own URL
            edit = manager.patch(COLLECTIONS + f"queues/{queue.pk}/", {field: value}, format="json")
            assert_400(edit, field)
            assert queues_state() == before, (field, value)
    empty = manager.patch(COLLECTIONS + f"queues/{queue.pk}/", {}, format="json")
    assert empty.status_code == 400
    assert_problem(manager.patch(COLLECTIONS + f"queues/{10**12}/", {"active": False},
                                 format="json"), 404, "not_found")  # fmt: skip
    assert queues_state() == before


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_at_each_queue_write(client_for, queue, role):
    client = client_for(role)
    writes = {
        "create": ("post", COLLECTIONS + "queues/", {"name": f"Q {role}", "from_bucket": "M2"}),
        "edit": ("patch", COLLECTIONS + f"queues/{queue.pk}/", {"active": False}),
    }
    for name, (method, url, body) in writes.items():
        before = queues_state()
        response = getattr(client, method)(url, body, format="json")
        if role in MANAGERS:
            assert response.status_code in (200, 201), (name, response.json())
        else:
            assert_problem(response, 403, "permission_denied")
            assert queues_state() == before, name
