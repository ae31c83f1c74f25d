"""The contact log's guard through the service: every rule on both sides of its boundary in the
borrower's time zone, counted across agents, refusals counted per collector, and who may act."""

from datetime import timedelta

import pytest
from django.utils import timezone

from debt_collection.errors import CollectionsErrorCode as Code
from debt_collection.models import (
    CompliancePolicy,
    ComplianceRefusal,
    ContactAttempt,
    ContactHold,
)
from debt_collection.services.cases import case_reassign
from debt_collection.services.contacts import contact_hold_lift, contact_hold_place, contact_log
from debt_collection.services.policies import compliance_policy_activate
from lending import roles
from lending.access import SYSTEM
from lending.errors import LendingError
from lending.models import EmergencyContact
from tests.collections.helpers import assigned_case, local
from tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(collector, collector2):
    return assigned_case(collector, collector2)


def log(case, user, at, *, channel="call", party="borrower", connected=False, **kw):
    return contact_log(
        case_id=case.pk,
        channel=channel,
        party=party,
        contacted_at=at,
        connected=connected,
        outcome=kw.pop("outcome", "no_answer"),
        acting_user=user,
        **kw,
    )


def refused(code, func, *args, **kwargs) -> LendingError:
    with pytest.raises(LendingError) as caught:
        func(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


def test_contact_hours_at_both_edges(case, collector):
    log(case, collector, local(2026, 11, 10, 21, 59, 59))
    error = refused(Code.CONTACT_OUTSIDE_HOURS, log, case, collector, local(2026, 11, 10, 22))
    assert "GB/T 45251-2025" in error.message and error.field == "contacted_at"
    refused(Code.CONTACT_OUTSIDE_HOURS, log, case, collector, local(2026, 11, 11, 7, 59, 59))
    log(case, collector, local(2026, 11, 11, 8))
    # The refusals are counted for the collector, by rule.
    assert (
        list(ComplianceRefusal.objects.values_list("collector", "rule"))
        == [(collector.pk, "contact_outside_hours")] * 2
    )


def test_hours_are_the_borrowers_clock(case, collector):
    case.time_zone = "Asia/Urumqi"  # UTC+6: 22:00 in Shanghai is 20:00 there
    case.save()
    log(case, collector, local(2026, 11, 10, 22, 30))


def test_daily_limit_counts_connected_calls_across_agents(case, collector, manager):
    for hour, agent in ((9, collector), (10, manager), (11, collector)):
        log(case, agent, local(2026, 11, 10, hour), connected=True)
    error = refused(
        Code.CONTACT_DAILY_LIMIT, log, case, manager, local(2026, 11, 10, 15), connected=False
    )
    assert "3" in error.message
    log(case, collector, local(2026, 11, 10, 15), channel="sms")  # not a call
    log(case, collector, local(2026, 11, 11, 8), connected=True)  # a new local day


def test_weekly_limit_under_regulation_f(case, collector):
    compliance_policy_activate(
        policy_id=CompliancePolicy.objects.get(version=2).pk, acting_user=SYSTEM
    )
    first = local(2026, 11, 2, 9)
    for n in range(7):
        log(case, collector, first + timedelta(hours=n))
    refused(Code.CONTACT_WEEKLY_LIMIT, log, case, collector, first + timedelta(days=7, seconds=-1))
    log(case, collector, first + timedelta(days=7))


def test_a_hold_stops_all_contact_until_lifted(case, collector, manager):
    hold = contact_hold_place(
        borrower_id=case.borrower_id, kind="do_not_contact", reason="asked", acting_user=manager
    )
    refused(Code.CONTACT_HOLD, log, case, collector, local(2026, 11, 10, 12), channel="letter")
    contact_hold_lift(hold_id=hold.pk, acting_user=manager)
    log(case, collector, local(2026, 11, 10, 12))


def test_a_dispute_outcome_places_a_hold(case, collector):
    log(case, collector, local(2026, 11, 10, 12), connected=True, outcome="dispute")
    assert ContactHold.objects.get(borrower=case.borrower).kind == "dispute"
    refused(Code.CONTACT_HOLD, log, case, collector, local(2026, 11, 10, 13))


def test_emergency_contacts_only_after_three_unreachable_attempts(case, collector):
    contact = EmergencyContact.objects.create(
        borrower=case.borrower, name="母亲", relation="parent", phone="13900000001"
    )
    stranger = EmergencyContact.objects.create(
        borrower=BorrowerFactory(),
        name="x",
        relation="friend",
        phone="13900000002",
    )
    for hour in (9, 10):
        log(case, collector, local(2026, 11, 10, hour))
    at = local(2026, 11, 10, 15)
    refused(
        Code.CONTACT_EMERGENCY_TOO_EARLY,
        log,
        case,
        collector,
        at,
        party="emergency_contact",
        emergency_contact_id=contact.pk,
    )
    log(case, collector, local(2026, 11, 10, 11))
    log(case, collector, at, party="emergency_contact", emergency_contact_id=contact.pk)
    # Someone else's emergency contact, or nobody listed: never.
    refused(
        Code.CONTACT_PARTY_NOT_ALLOWED,
        log,
        case,
        collector,
        at,
        party="emergency_contact",
        emergency_contact_id=stranger.pk,
    )
    refused(Code.CONTACT_PARTY_NOT_ALLOWED, log, case, collector, at, party="employer")


def test_the_time_must_be_past_and_after_the_case_opened(case, collector):
    error = refused("out_of_range", log, case, collector, timezone.now() + timedelta(minutes=5))
    assert error.field == "contacted_at"
    error = refused("out_of_range", log, case, collector, local(2026, 9, 15, 12))
    assert error.field == "contacted_at" and "opened" in error.message
    assert not ComplianceRefusal.objects.exists()  # bad input, not a compliance refusal


def test_a_logged_contact_keeps_its_policy_and_updates_the_case(case, collector):
    attempt = log(case, collector, local(2026, 11, 10, 12), connected=True, outcome="refused")
    case.refresh_from_db()
    assert case.last_contact_at == attempt.contacted_at
    assert attempt.policy.version == 1 and attempt.agent == collector


def test_another_collectors_case_is_not_found(case, collector2):
    error = refused("not_found", log, case, collector2, local(2026, 11, 10, 12))
    assert str(case.pk) in error.message
    assert not ComplianceRefusal.objects.exists() and not ContactAttempt.objects.exists()


@pytest.mark.parametrize(
    ("role", "code"),
    [
        (roles.FINANCE, "permission_denied"),
        (roles.AUDITOR, "permission_denied"),
        (roles.CREDIT_OFFICER, "permission_denied"),
        (roles.RISK_ANALYST, "permission_denied"),
    ],
)
def test_roles_without_the_permission_are_refused(case, role_user, role, code):
    user = role_user(role)
    refused(code, log, case, user, local(2026, 11, 10, 12))
    refused(code, case_reassign, case_ids=[case.pk], reason="x", acting_user=user)
    refused(
        code,
        contact_hold_place,
        borrower_id=case.borrower_id,
        kind="dispute",
        reason="x",
        acting_user=user,
    )
    refused(
        code,
        compliance_policy_activate,
        policy_id=CompliancePolicy.objects.get(version=2).pk,
        acting_user=user,
    )
    assert not ContactAttempt.objects.exists()


def test_collectors_neither_reassign_nor_manage_policies(case, collector):
    refused(
        "permission_denied", case_reassign, case_ids=[case.pk], reason="x", acting_user=collector
    )
    refused(
        "permission_denied",
        compliance_policy_activate,
        policy_id=CompliancePolicy.objects.get(version=2).pk,
        acting_user=collector,
    )


def test_one_policy_active_at_a_time(manager):
    reg_f = CompliancePolicy.objects.get(version=2)
    compliance_policy_activate(policy_id=reg_f.pk, acting_user=manager)
    assert list(
        CompliancePolicy.objects.filter(status="active").values_list("version", flat=True)
    ) == [2]
    assert CompliancePolicy.objects.get(version=1).status == "retired"
    refused(
        "illegal_transition", compliance_policy_activate, policy_id=reg_f.pk, acting_user=manager
    )
