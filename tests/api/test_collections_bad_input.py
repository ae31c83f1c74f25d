"""Bad input to the collections operations — huge, negative, NaN, far-future, empty, a time
without its offset, unknown fields — is a 400 naming the field, and nothing is written (not
even a compliance refusal: bad input is not a breach)."""

import pytest

from tests.api.collections_world import (
    COLLECTIONS,
    case_url,
    collections_state,
    contact,
    make_world,
)

pytestmark = pytest.mark.django_db
CODES = {"invalid", "required", "out_of_range", "unknown_field"}


@pytest.fixture
def world(client_for):
    return make_world(client_for)


def assert_400(response, field):
    body = response.json()
    assert response.status_code == 400, (field, body)
    assert response["Content-Type"].startswith("application/problem+json")
    # A list's item is named by its index ("cases.0").
    assert any(name == field or name.startswith(f"{field}.") for name in body["errors"]), body
    assert body["code"] in CODES, body


CONTACT_CASES = [
    ("channel", "fax"),
    ("channel", ""),
    ("channel", None),
    ("party", "employer"),
    ("party", ["borrower"]),
    ("outcome", "happy"),
    ("connected", "maybe"),
    ("connected", None),
    ("contacted_at", "2026-11-10T10:00:00"),  # no offset: whose 10:00?
    ("contacted_at", "2026-11-10"),
    ("contacted_at", "not a time"),
    ("contacted_at", ""),
    ("contacted_at", "1900-01-01T10:00:00+08:05"),
    ("contacted_at", "2026-02-30T10:00:00+08:00"),
    ("contacted_at", "2026-11-10T10:00:00+25:00"),
    ("contacted_at", "9999-12-31T23:59:59-12:00"),
    ("contacted_at", "2999-01-01T10:00:00+08:00"),  # the future
    ("contacted_at", "2026-09-01T10:00:00+08:00"),  # before the case opened
    ("contacted_at", 1731200000),
    ("emergency_contact", -1),
    ("emergency_contact", 0),
    ("emergency_contact", 10**30),
    ("emergency_contact", "NaN"),
    ("note", "x" * 2001),
    ("agent", 1),
    ("policy", 2),
    ("case", 1),
]


def test_a_bad_contact_names_the_field_and_writes_nothing(world):
    # One world for every case (building one runs a nightly close): each must leave it as it was.
    before = collections_state()
    for field, value in CONTACT_CASES:
        response = world.collector.post(
            case_url(world.case, "contacts/"), {**contact(), field: value}, format="json"
        )
        assert_400(response, field)
        assert collections_state() == before, (field, value)


def test_an_empty_contact_names_every_required_field(world):
    response = world.collector.post(case_url(world.case, "contacts/"), {}, format="json")
    assert_400(response, "channel")
    assert set(response.json()["errors"]) == {
        "channel",
        "party",
        "contacted_at",
        "connected",
        "outcome",
    }


def test_a_body_that_is_not_an_object_is_a_400(world):
    before = collections_state()
    for body in ["[]", '"x"', "{", "null", "1e999", "\u0000"]:
        response = world.collector.post(
            case_url(world.case, "contacts/"), body, content_type="application/json"
        )
        assert response.status_code == 400, (body, response.content)
        assert collections_state() == before


PROMISE = {"amount": "100.00", "promised_for": "2026-12-20"}


PROMISE_CASES = [
    ("amount", "-5.00"),
    ("amount", "0"),
    ("amount", "NaN"),
    ("amount", "Infinity"),
    ("amount", "1e30"),
    ("amount", "1" * 40),
    ("amount", "0.001"),
    ("amount", ""),
    ("amount", None),
    ("promised_for", "2999-01-01"),
    ("promised_for", "2026-01-01"),  # the past
    ("promised_for", "2027-12-31"),  # past 90 days
    ("promised_for", "not a date"),
    ("promised_for", ""),
    ("contact", -1),
    ("contact", 10**30),
    ("contact", 10**12),  # not a contact of this case
    ("state", "kept"),
    ("paid", "100.00"),
]


def test_a_bad_promise_names_the_field_and_writes_nothing(world):
    before = collections_state()
    for field, value in PROMISE_CASES:
        response = world.collector.post(
            case_url(world.case, "promises/"), {**PROMISE, field: value}, format="json"
        )
        if field == "contact" and value == 10**12:
            assert response.status_code == 404 and "contact" in response.json()["errors"]
        else:
            assert_400(response, field)
        assert collections_state() == before, (field, value)


REASSIGN_CASES = [
    ("cases", []),
    ("cases", ["x"]),
    ("cases", [10**30]),
    ("cases", [-1]),
    ("cases", list(range(1, 1100))),
    ("cases", None),
    ("reason", ""),
    ("reason", "x" * 256),
    ("queue", 0),
    ("collector", "me"),
    ("assigned_by", 1),
]


def test_a_bad_reassignment_names_the_field_and_writes_nothing(world):
    before = collections_state()
    for field, value in REASSIGN_CASES:
        body = {"cases": [world.case.pk], "reason": "r", field: value}
        response = world.manager.post(COLLECTIONS + "cases/reassign/", body, format="json")
        assert_400(response, field)
        assert collections_state() == before, (field, value)


def test_a_bad_time_zone_names_the_field_and_writes_nothing(world):
    before = collections_state()
    for field, value in [
        ("time_zone", ""),
        ("time_zone", None),
        ("time_zone", "UTC+8"),
        ("time_zone", "NaN"),
        ("time_zone", "Asia/Shanghai"),  # the case's already
        ("time_zone", "x" * 65),
        ("time_zone", "x" * 100_000),
        ("time_zone", ["Asia/Urumqi"]),
        ("reason", ""),
        ("reason", "r" * 256),
    ]:
        body = {"time_zone": "Asia/Urumqi", "reason": "r", field: value}
        response = world.manager.post(case_url(world.case, "time-zone/"), body, format="json")
        assert_400(response, field)
        assert len(response.content) < 2000  # a huge value is not echoed back
        assert collections_state() == before, (field, value)


def test_a_bad_hold_names_the_field_and_writes_nothing(world):
    before = collections_state()
    for field, value in [
        ("borrower", 0),
        ("borrower", "x"),
        ("kind", "forever"),
        ("reason", ""),
        ("lifted_at", "x"),
    ]:
        body = {"borrower": world.case.borrower_id, "kind": "dispute", "reason": "r", field: value}
        assert_400(world.manager.post(COLLECTIONS + "holds/", body, format="json"), field)
        assert collections_state() == before, (field, value)


def test_odd_query_strings_are_never_a_500(world):
    queries = [{"page": "x"}, {"page_size": "-1"}, {"ordering": "password"}, {"cursor": "zzz"}]
    for query in queries:
        for url in (COLLECTIONS + "cases/", case_url(world.case, "contacts/")):
            assert world.manager.get(url, query).status_code < 500, (url, query)
