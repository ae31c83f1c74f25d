"""A case's borrower time zone is where contact hours are checked: a manager sets it, with a
reason, audited; a collector cannot widen their own hours by moving the borrower; bad input
names the field and changes nothing; the admin's form does the same through the service."""

import pytest
from django.urls import reverse
from django.utils import translation

from debt_collection.errors import CollectionsErrorCode as Code
from debt_collection.models import CaseStatus, ContactAttempt
from debt_collection.services.case_time_zone import case_time_zone_set
from debt_collection.services.contacts import contact_log
from lending import roles
from lending.errors import LendingError, LendingErrorCode
from lending.models import AuditEvent
from tests.collections.helpers import assigned_case, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(collector):
    return assigned_case(collector)


def set_zone(case, user, zone="Asia/Urumqi", reason="works in Urumqi, said on the phone"):
    return case_time_zone_set(case_id=case.pk, time_zone=zone, reason=reason, acting_user=user)


def call_at_half_past_ten_shanghai(case, collector):
    return contact_log(
        case_id=case.pk,
        channel="call",
        party="borrower",
        contacted_at=local(2026, 11, 10, 22, 30),
        connected=False,
        outcome="no_answer",
        acting_user=collector,
    )


def test_a_manager_moves_the_borrower_and_the_hours_follow(case, collector, manager):
    with pytest.raises(LendingError) as refused:  # 22:30 in Shanghai: past the hours
        call_at_half_past_ten_shanghai(case, collector)
    assert refused.value.code == Code.CONTACT_OUTSIDE_HOURS

    changed = set_zone(case, manager)

    assert changed.time_zone == "Asia/Urumqi"
    case.refresh_from_db()
    assert case.time_zone == "Asia/Urumqi"
    call_at_half_past_ten_shanghai(case, collector)  # 20:30 in Urumqi: within them
    assert ContactAttempt.objects.filter(case=case).count() == 1
    event = AuditEvent.objects.get(action="case.time_zone")
    assert (event.actor, event.object_id) == (manager, str(case.pk))
    reason = "works in Urumqi, said on the phone"
    assert event.data == {"from": "Asia/Shanghai", "to": "Asia/Urumqi", "reason": reason}
    assert event.summary == f"Asia/Shanghai → Asia/Urumqi: {reason}"


def test_a_long_reason_is_kept_whole_in_the_event_s_data(case, manager):
    reason = "said on the phone: " + "works in Urumqi; " * 13  # 240 characters
    set_zone(case, manager, reason=reason.strip())
    event = AuditEvent.objects.get(action="case.time_zone")
    assert event.data["reason"] == reason.strip() and len(event.summary) == 255


@pytest.mark.parametrize(
    "role",
    [
        roles.COLLECTOR,
        roles.FINANCE,
        roles.AUDITOR,
        roles.CREDIT_OFFICER,
        roles.RISK_ANALYST,
    ],
)
def test_every_other_role_is_refused_and_nothing_changes(case, role, role_user):
    # The collector working the case first of all: moving the borrower would move their hours.
    user = case.collector if role == roles.COLLECTOR else role_user(role)
    with pytest.raises(LendingError) as refused:
        set_zone(case, user)
    assert refused.value.code == LendingErrorCode.PERMISSION_DENIED
    case.refresh_from_db()
    assert case.time_zone == "Asia/Shanghai"
    assert not AuditEvent.objects.filter(action="case.time_zone").exists()


@pytest.mark.parametrize(
    ("zone", "reason", "field", "code"),
    [
        ("", "x", "time_zone", LendingErrorCode.REQUIRED),
        ("   ", "x", "time_zone", LendingErrorCode.REQUIRED),
        (None, "x", "time_zone", LendingErrorCode.REQUIRED),
        (8, "x", "time_zone", LendingErrorCode.REQUIRED),
        ("UTC+8", "x", "time_zone", LendingErrorCode.INVALID),
        ("NaN", "x", "time_zone", LendingErrorCode.INVALID),
        ("asia/urumqi", "x", "time_zone", LendingErrorCode.INVALID),
        ("Asia/Urumqi" * 1000, "x", "time_zone", LendingErrorCode.INVALID),
        ("Asia/Shanghai", "x", "time_zone", LendingErrorCode.INVALID),  # already
        ("Asia/Urumqi", "", "reason", LendingErrorCode.REQUIRED),
        ("Asia/Urumqi", "r" * 256, "reason", LendingErrorCode.INVALID),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(case, manager, zone, reason, field, code):
    with pytest.raises(LendingError) as refused:
        set_zone(case, manager, zone=zone, reason=reason)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert len(refused.value.message) < 200  # a huge value is not echoed back
    case.refresh_from_db()
    assert case.time_zone == "Asia/Shanghai"
    assert not AuditEvent.objects.filter(action="case.time_zone").exists()


def test_a_closed_case_or_an_unknown_one_is_refused(case, manager):
    case.status, case.close_reason = CaseStatus.CLOSED, "cured"
    case.closed_on = case.opened_on
    case.save()
    with pytest.raises(LendingError) as closed:
        set_zone(case, manager)
    assert closed.value.code == Code.CASE_CLOSED
    with pytest.raises(LendingError) as unknown:
        case_time_zone_set(case_id=10**9, time_zone="Asia/Urumqi", reason="x", acting_user=manager)
    assert unknown.value.code == LendingErrorCode.NOT_FOUND


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("UTC+8", "UTC+8 不是有效的时区"),
        ("", "请填写时区"),
        ("Asia/Shanghai", "已经是 Asia/Shanghai"),
    ],
)
def test_the_refusals_read_in_chinese(case, manager, zone, shown):
    with translation.override("zh-hans"), pytest.raises(LendingError) as refused:
        set_zone(case, manager, zone=zone)
    assert shown in refused.value.message
    assert not any(word in refused.value.message for word in ("time zone", "give", "already"))


# --- the admin ---------------------------------------------------------------------------------


def test_the_manager_sets_it_on_the_case_page(case, manager, client):
    client.force_login(manager)
    page = client.get(reverse("admin:collections_case_change", args=[case.pk]))
    url = reverse("admin:collections_case_time_zone", args=[case.pk])
    assert url in page.content.decode()  # the operation is on the case's page
    form = client.get(url)
    assert form.status_code == 200 and 'value="Asia/Urumqi"' in form.content.decode()

    done = client.post(url, {"time_zone": "Asia/Urumqi", "reason": "works in Urumqi"})

    assert done.status_code == 302
    case.refresh_from_db()
    assert case.time_zone == "Asia/Urumqi"


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"time_zone": "Mars/Olympus", "reason": "x"}, "Mars/Olympus is not one of"),
        ({"time_zone": "Asia/Urumqi", "reason": ""}, "This field is required"),
        ({"time_zone": "Asia/Shanghai", "reason": "x"}, "the case is in Asia/Shanghai already"),
    ],
)
def test_the_admin_form_shows_the_problem_on_its_field(case, manager, client, data, shown):
    client.force_login(manager)
    page = client.post(reverse("admin:collections_case_time_zone", args=[case.pk]), data)
    assert page.status_code == 200 and shown in page.content.decode()
    case.refresh_from_db()
    assert case.time_zone == "Asia/Shanghai"


@pytest.mark.parametrize("role", [roles.COLLECTOR, roles.FINANCE, roles.AUDITOR])
def test_other_roles_neither_see_the_operation_nor_may_post_it(case, role, role_user, client):
    user = case.collector if role == roles.COLLECTOR else role_user(role)
    client.force_login(user)
    url = reverse("admin:collections_case_time_zone", args=[case.pk])
    page = client.get(reverse("admin:collections_case_change", args=[case.pk]))
    assert page.status_code == 200 and url not in page.content.decode()
    forged = client.post(url, {"time_zone": "Asia/Urumqi", "reason": "forged"})
    assert forged.status_code == 403
    case.refresh_from_db()
    assert case.time_zone == "Asia/Shanghai"
