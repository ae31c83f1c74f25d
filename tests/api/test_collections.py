"""Collections through the API: the work list and a case, the contact log under the compliance
guard (every refusal a 409 with the rule's code and field), promises, reassignment, queues,
policies and holds — each through its service."""

import pytest

from debt_collection.models import (
    CaseAssignment,
    CompliancePolicy,
    ComplianceRefusal,
    ContactAttempt,
    PolicyStatus,
)
from lending import roles
from lending.models import EmergencyContact
from tests.api.collections_world import (
    COLLECTIONS,
    case_url,
    collections_state,
    contact,
    make_world,
)
from tests.api.conftest import assert_problem
from tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client_for):
    return make_world(client_for)


def log(client, case, **overrides):
    return client.post(case_url(case, "contacts/"), contact(**overrides), format="json")


# --- the work list and a case --------------------------------------------------------------


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_a_collector_lists_only_their_own_cases(world):
    assert ids(world.collector.get(COLLECTIONS + "cases/")) == {world.case.pk}
    assert ids(world.collector2.get(COLLECTIONS + "cases/")) == {world.other.pk}
    # Asking for the other's by filter finds nothing either.
    other = world.collector.get(COLLECTIONS + "cases/", {"collector": world.collector2.user.pk})
    assert ids(other) == set()


@pytest.mark.parametrize("role", [roles.COLLECTIONS_MANAGER, roles.FINANCE, roles.AUDITOR])
def test_managers_finance_and_auditors_see_every_case(world, role):
    assert ids(world.clients[role].get(COLLECTIONS + "cases/")) == {world.case.pk, world.other.pk}


@pytest.mark.parametrize("role", [roles.CREDIT_OFFICER, roles.RISK_ANALYST])
def test_roles_outside_collections_see_no_case(world, role):
    assert_problem(world.clients[role].get(COLLECTIONS + "cases/"), 403, "permission_denied")


def test_filters_and_ordering(world):
    manager = world.manager
    by_collector = manager.get(COLLECTIONS + "cases/", {"collector": world.collector.user.pk})
    assert ids(by_collector) == {world.case.pk}
    assert ids(manager.get(COLLECTIONS + "cases/", {"bucket": world.case.bucket})) == {
        world.case.pk,
        world.other.pk,
    }
    assert ids(manager.get(COLLECTIONS + "cases/", {"bucket": "M9"})) == set()
    assert ids(manager.get(COLLECTIONS + "cases/", {"queue": world.queue.pk})) == {
        world.case.pk,
        world.other.pk,
    }
    assert ids(manager.get(COLLECTIONS + "cases/", {"status": "closed"})) == set()
    world.other.priority = 99  # only the ordering is under test
    world.other.save(update_fields=["priority"])
    rows = manager.get(COLLECTIONS + "cases/").json()["results"]
    assert [r["id"] for r in rows] == [world.other.pk, world.case.pk]
    rows = manager.get(COLLECTIONS + "cases/", {"ordering": "priority"}).json()["results"]
    assert [r["id"] for r in rows] == [world.case.pk, world.other.pk]
    for bad, code in (
        ({"status": "nope"}, "invalid"),
        ({"collector": "x"}, "invalid"),
        ({"queue": str(10**30)}, "out_of_range"),
    ):
        assert_problem(manager.get(COLLECTIONS + "cases/", bad), 400, code, next(iter(bad)))


def test_a_case_explains_its_priority_and_groups_the_borrowers_loans(world):
    body = world.collector.get(case_url(world.case)).json()
    assert body["id"] == world.case.pk and body["loan"] == world.case.loan.reference
    parts = {p["part"]: p for p in body["priority_explained"]}
    assert set(parts) == {"dpd", "amount", "broken_promises", "no_contact"}
    assert sum(p["points"] for p in parts.values()) == body["priority"]
    assert parts["dpd"]["maximum"] == 40 and parts["no_contact"]["points"] == 10  # never called
    # PII masked as everywhere.
    assert "*" in body["borrower"]["national_id"] and "*" in body["borrower"]["mobile"]
    assert body["borrower"]["national_id"] != world.case.borrower.national_id
    assert [loan["reference"] for loan in body["borrower_loans"]] == [world.case.loan.reference]
    assert body["borrower_loans"][0]["case"] == world.case.pk


# --- the contact log under the guard -------------------------------------------------------


def test_a_contact_is_logged_and_listed(world):
    response = log(world.collector, world.case, connected=True, outcome="promise_to_pay")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["agent"] == "collector" and body["policy"] == 1
    assert body["contacted_at"] == "2026-11-10T10:00:00+08:00"
    listed = world.collector.get(case_url(world.case, "contacts/")).json()["results"]
    assert [c["id"] for c in listed] == [body["id"]]
    world.case.refresh_from_db()
    assert world.case.last_contact_at is not None


def test_contact_hours_in_the_borrowers_time_zone(world):
    assert (
        log(world.collector, world.case, contacted_at="2026-11-10T21:59:59+08:00").status_code
        == 201
    )
    refused = log(world.collector, world.case, contacted_at="2026-11-10T22:00:00+08:00")
    body = assert_problem(refused, 409, "contact_outside_hours", "contacted_at")
    assert "GB/T 45251-2025" in body["detail"]
    # The same instant written in UTC is still 22:00 for the borrower.
    utc = log(world.collector, world.case, contacted_at="2026-11-10T14:00:00Z")
    assert_problem(utc, 409, "contact_outside_hours", "contacted_at")
    # A borrower two hours west: 22:30 in Shanghai is 20:30 there.
    world.case.time_zone = "Asia/Urumqi"
    world.case.save(update_fields=["time_zone"])
    assert (
        log(world.collector, world.case, contacted_at="2026-11-10T22:30:00+08:00").status_code
        == 201
    )
    assert ComplianceRefusal.objects.filter(rule="contact_outside_hours").count() == 2


def test_the_daily_limit_counts_connected_calls_across_agents(world):
    for hour, agent in ((9, world.collector), (10, world.manager), (11, world.collector)):
        at = f"2026-11-10T{hour:02d}:00:00+08:00"
        assert log(agent, world.case, contacted_at=at, connected=True).status_code == 201
    before = ContactAttempt.objects.count()
    refused = log(world.manager, world.case, contacted_at="2026-11-10T15:00:00+08:00")
    assert_problem(refused, 409, "contact_daily_limit", "channel")
    assert ContactAttempt.objects.count() == before
    sms = log(world.collector, world.case, contacted_at="2026-11-10T15:00:00+08:00", channel="sms")
    assert sms.status_code == 201


def test_the_weekly_limit_under_regulation_f(world):
    activated = world.manager.post(COLLECTIONS + "policies/2/activate/", format="json")
    assert activated.status_code == 200, activated.json()
    assert activated.json()["status"] == "active"
    for day in range(2, 9):
        at = f"2026-11-{day:02d}T10:00:00+08:00"
        assert log(world.collector, world.case, contacted_at=at).status_code == 201
    refused = log(world.collector, world.case, contacted_at="2026-11-08T11:00:00+08:00")
    assert_problem(refused, 409, "contact_weekly_limit", "contacted_at")


def test_a_hold_refuses_every_contact_until_lifted(world):
    placed = world.manager.post(
        COLLECTIONS + "holds/",
        {"borrower": world.case.borrower_id, "kind": "do_not_contact", "reason": "asked"},
        format="json",
    )
    assert placed.status_code == 201, placed.json()
    again = world.manager.post(
        COLLECTIONS + "holds/",
        {"borrower": world.case.borrower_id, "kind": "do_not_contact", "reason": "asked"},
        format="json",
    )
    assert_problem(again, 409, "duplicate", "kind")
    assert_problem(log(world.collector, world.case), 409, "contact_hold", "party")
    # The collector sees the hold on their borrower; collector2 does not.
    mine = world.collector.get(COLLECTIONS + "holds/", {"in_force": "true"}).json()["results"]
    assert [h["id"] for h in mine] == [placed.json()["id"]]
    assert world.collector2.get(COLLECTIONS + "holds/").json()["results"] == []
    lift = world.manager.post(COLLECTIONS + f"holds/{placed.json()['id']}/lift/", format="json")
    assert lift.status_code == 200 and lift.json()["lifted_by"] == "collections-manager"
    assert log(world.collector, world.case).status_code == 201
    lifted_twice = world.manager.post(
        COLLECTIONS + f"holds/{placed.json()['id']}/lift/", format="json"
    )
    assert_problem(lifted_twice, 404, "not_found", "hold")


def test_a_dispute_outcome_places_a_hold(world):
    assert log(world.collector, world.case, connected=True, outcome="dispute").status_code == 201
    later = log(world.collector, world.case, contacted_at="2026-11-10T11:00:00+08:00")
    assert_problem(later, 409, "contact_hold", "party")


def test_emergency_contacts_only_when_allowed(world):
    theirs = EmergencyContact.objects.create(
        borrower=world.case.borrower, name="母亲", relation="parent", phone="13900000001"
    )
    stranger = EmergencyContact.objects.create(
        borrower=BorrowerFactory(), name="x", relation="friend", phone="13900000002"
    )
    early = log(
        world.collector,
        world.case,
        party="emergency_contact",
        emergency_contact=theirs.pk,
        contacted_at="2026-11-10T15:00:00+08:00",
    )
    assert_problem(early, 409, "contact_emergency_too_early", "emergency_contact")
    not_listed = log(
        world.collector, world.case, party="emergency_contact", emergency_contact=stranger.pk
    )
    assert_problem(not_listed, 409, "contact_party_not_allowed", "party")
    for hour in (9, 10, 11):
        assert (
            log(
                world.collector, world.case, contacted_at=f"2026-11-10T{hour:02d}:00:00+08:00"
            ).status_code
            == 201
        )
    allowed = log(
        world.collector,
        world.case,
        party="emergency_contact",
        emergency_contact=theirs.pk,
        contacted_at="2026-11-10T15:00:00+08:00",
    )
    assert allowed.status_code == 201, allowed.json()
    assert allowed.json()["emergency_contact_name"] == "母亲"
    assert allowed.json()["emergency_contact_phone"] != "13900000001"  # masked


@pytest.mark.parametrize(
    ("at", "why"),
    [("2999-01-01T10:00:00+08:00", "future"), ("2026-09-15T12:00:00+08:00", "opened")],
)
def test_a_time_in_the_future_or_before_the_case_is_a_400(world, at, why):
    before = collections_state()
    body = assert_problem(log(world.collector, world.case, contacted_at=at), 400, "out_of_range")
    assert "contacted_at" in body["errors"] and why in body["detail"]
    assert collections_state() == before


def test_a_closed_case_refuses_contacts(world):
    world.case.status, world.case.close_reason = "closed", "cured"
    world.case.closed_on = world.case.opened_on
    world.case.save()
    assert_problem(log(world.collector, world.case), 409, "case_closed", "case")


# --- promises, reassignment, queues, policies ----------------------------------------------


def test_a_promise_is_recorded_and_listed(world):
    response = world.collector.post(
        case_url(world.case, "promises/"),
        {"amount": "500.00", "promised_for": "2026-12-10"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == "500.00" and body["state"] == "pending"
    assert body["recorded_by"] == "collector"
    listed = world.collector.get(case_url(world.case, "promises/")).json()["results"]
    assert [p["id"] for p in listed] == [body["id"]]


def test_a_manager_reassigns_in_bulk(world):
    response = world.manager.post(
        COLLECTIONS + "cases/reassign/",
        {
            "cases": [world.case.pk, world.other.pk],
            "collector": world.collector2.user.pk,
            "reason": "holiday cover",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert {r["case"] for r in response.json()} == {world.case.pk, world.other.pk}
    assert ids(world.collector2.get(COLLECTIONS + "cases/")) == {world.case.pk, world.other.pk}
    # The collector who had it is now told it does not exist.
    assert_problem(world.collector.get(case_url(world.case)), 404, "not_found")
    assert CaseAssignment.objects.filter(reason="holiday cover").count() == 2


def test_reassigning_to_someone_outside_the_queue_is_refused_whole(world):
    before = collections_state()
    response = world.manager.post(
        COLLECTIONS + "cases/reassign/",
        {"cases": [world.case.pk], "collector": world.manager.user.pk, "reason": "x"},
        format="json",
    )
    assert_problem(response, 400, "invalid", "collector")
    missing = world.manager.post(
        COLLECTIONS + "cases/reassign/",
        {"cases": [world.case.pk, 10**12], "reason": "x"},
        format="json",
    )
    assert_problem(missing, 404, "not_found", "cases")
    assert collections_state() == before


def test_queues_are_read_and_their_members_set_by_a_manager(world):
    queues = world.collector.get(COLLECTIONS + "queues/").json()["results"]
    m1 = next(q for q in queues if q["id"] == world.queue.pk)
    assert {m["username"] for m in m1["members"]} == {"collector", "collector2"}
    response = world.manager.post(
        COLLECTIONS + f"queues/{world.queue.pk}/members/",
        {"members": [world.collector.user.pk]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [m["username"] for m in response.json()["members"]] == ["collector"]
    unknown = world.manager.post(
        COLLECTIONS + f"queues/{world.queue.pk}/members/", {"members": [10**12]}, format="json"
    )
    assert_problem(unknown, 400, "invalid", "members")
    # A credit officer cannot be handed cases by the night: refused, the members unchanged.
    officer = world.clients[roles.CREDIT_OFFICER].user
    not_a_collector = world.manager.post(
        COLLECTIONS + f"queues/{world.queue.pk}/members/",
        {"members": [world.collector.user.pk, officer.pk]},
        format="json",
    )
    problem = assert_problem(not_a_collector, 400, "invalid", "members")
    assert officer.username in problem["errors"]["members"][0]
    assert list(world.queue.members.values_list("username", flat=True)) == ["collector"]


def test_policies_are_read_and_activated_by_a_manager(world):
    listed = world.collector.get(COLLECTIONS + "policies/").json()["results"]
    assert [p["version"] for p in listed] == [2, 1]
    v1 = world.collector.get(COLLECTIONS + "policies/1/").json()
    assert v1["status"] == "active" and "GB/T 45251-2025" in v1["hours_source"]
    assert world.manager.post(COLLECTIONS + "policies/2/activate/").status_code == 200
    assert CompliancePolicy.objects.get(version=1).status == PolicyStatus.RETIRED
    twice = world.manager.post(COLLECTIONS + "policies/2/activate/")
    assert_problem(twice, 409, "illegal_transition", "status")
    assert_problem(world.manager.post(COLLECTIONS + "policies/99/activate/"), 404, "not_found")
