"""Policy versions: one active, retired ones read-only, invalid definitions refused by rule."""

import copy

import pytest
from django.urls import reverse

from lending import roles
from lending.access import SYSTEM
from lending.errors import LendingError, LendingErrorCode
from lending.models import AuditEvent
from risk.models import CreditPolicy, PolicyStatus
from risk.policy import DEFAULT_POLICY, parse_policy
from risk.services.policies import policy_activate, policy_copy, policy_create, policy_update

pytestmark = pytest.mark.django_db


def broken_definition():
    definition = copy.deepcopy(DEFAULT_POLICY)
    definition["limits"]["A"]["income_multiple"] = "-1"
    return definition


def test_version_one_is_seeded_active():
    [policy] = CreditPolicy.objects.all()
    assert (policy.version, policy.status) == (1, PolicyStatus.ACTIVE)
    assert parse_policy(policy.definition).grades  # the seeded copy is still a valid policy


def test_activating_a_new_version_retires_the_old_one_and_keeps_it_read_only():
    draft = policy_create(name="Tighter", definition=DEFAULT_POLICY, acting_user=SYSTEM)
    assert draft.version == 2 and draft.status == PolicyStatus.DRAFT
    policy_activate(policy_id=draft.pk, acting_user=SYSTEM)
    statuses = dict(CreditPolicy.objects.values_list("version", "status"))
    assert statuses == {1: PolicyStatus.RETIRED, 2: PolicyStatus.ACTIVE}
    with pytest.raises(LendingError) as refused:
        policy_update(
            policy_id=CreditPolicy.objects.get(version=1).pk,
            acting_user=SYSTEM,
            name="rewrite history",
        )
    assert refused.value.code == LendingErrorCode.ILLEGAL_TRANSITION
    assert "read-only for audit" in refused.value.message
    assert AuditEvent.objects.filter(action="policy.activate").count() == 1


def test_a_retired_version_comes_back_only_as_a_copy():
    v1 = CreditPolicy.objects.get(version=1)
    policy_activate(
        policy_id=policy_create(name="v2", definition=DEFAULT_POLICY, acting_user=SYSTEM).pk,
        acting_user=SYSTEM,
    )
    with pytest.raises(LendingError):
        policy_activate(policy_id=v1.pk, acting_user=SYSTEM)
    copy_of_v1 = policy_copy(policy_id=v1.pk, acting_user=SYSTEM)
    assert copy_of_v1.definition == v1.definition and copy_of_v1.version == 3


def test_whoever_wrote_or_edited_a_version_cannot_activate_it(role_user):
    """Four eyes: the analyst who wrote a version and any who edited it are makers; another
    analyst (or an administrator) activates it."""
    writer, editor, checker = (
        role_user(roles.RISK_ANALYST, username=name) for name in ("writer", "editor", "checker")
    )
    draft = policy_create(name="v2", definition=DEFAULT_POLICY, acting_user=writer)
    policy_update(policy_id=draft.pk, acting_user=editor, notes="tightened DTI")
    for maker in (writer, editor):
        with pytest.raises(LendingError) as refused:
            policy_activate(policy_id=draft.pk, acting_user=maker)
        assert (refused.value.code, refused.value.field) == (
            LendingErrorCode.SAME_PERSON,
            "activated_by",
        )
        assert "you wrote or edited version 2" in refused.value.message
    statuses = dict(CreditPolicy.objects.values_list("version", "status"))
    assert statuses == {1: PolicyStatus.ACTIVE, 2: PolicyStatus.DRAFT}
    assert not AuditEvent.objects.filter(action="policy.activate").exists()

    policy_activate(policy_id=draft.pk, acting_user=checker)
    draft.refresh_from_db()
    assert (draft.status, draft.activated_by) == (PolicyStatus.ACTIVE, checker)
    assert AuditEvent.objects.get(action="policy.activate").actor == checker


@pytest.mark.parametrize("role", [roles.CREDIT_OFFICER, roles.FINANCE, roles.AUDITOR])
def test_only_analysts_and_administrators_write_or_activate_policy(role_user, role):
    user = role_user(role)
    draft = policy_create(name="v2", definition=DEFAULT_POLICY, acting_user=SYSTEM)
    for call, kwargs in [
        (policy_create, {"name": "v3", "definition": DEFAULT_POLICY}),
        (policy_update, {"policy_id": draft.pk, "notes": "mine"}),
        (policy_activate, {"policy_id": draft.pk}),
    ]:
        with pytest.raises(LendingError) as refused:
            call(acting_user=user, **kwargs)
        assert (refused.value.code, refused.value.field) == (
            LendingErrorCode.PERMISSION_DENIED,
            None,
        )
    assert list(CreditPolicy.objects.order_by("version").values_list("version", "status")) == [
        (1, PolicyStatus.ACTIVE),
        (2, PolicyStatus.DRAFT),
    ]
    draft.refresh_from_db()
    assert draft.notes == ""


def test_invalid_definition_is_refused_naming_the_rule_and_nothing_is_saved():
    with pytest.raises(LendingError) as refused:
        policy_create(name="bad", definition=broken_definition(), acting_user=SYSTEM)
    assert refused.value.field == "definition"
    assert "limits.A.income_multiple" in refused.value.message
    assert CreditPolicy.objects.count() == 1


def test_admin_import_shows_the_broken_rule(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("risk", "r@example.com", "pw"))
    page = client.post(
        reverse("admin:risk_creditpolicy_import"),
        {"name": "bad", "text": __import__("json").dumps(broken_definition())},
    )
    assert page.status_code == 200
    assert "limits.A.income_multiple" in str(page.context["problems"])
    assert CreditPolicy.objects.count() == 1


def test_admin_activate_action(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("risk", "r@example.com", "pw"))
    draft = policy_create(name="v2", definition=DEFAULT_POLICY, acting_user=SYSTEM)
    client.post(
        reverse("admin:risk_creditpolicy_changelist"),
        {"action": "activate", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.status == PolicyStatus.ACTIVE


def test_copying_a_long_named_version_keeps_the_name_within_its_field(admin_client):
    long_name = "Q4 pricing — thin-file young salaried applicants, tier-2 cities, " + "x" * 34
    draft = policy_create(name=long_name, definition=DEFAULT_POLICY, acting_user=SYSTEM)
    admin_client.post(
        reverse("admin:risk_creditpolicy_changelist"),
        {"action": "copy_to_draft", "_selected_action": [draft.pk]},
    )
    copy = CreditPolicy.objects.order_by("-version").first()
    assert copy.pk != draft.pk
    assert len(copy.name) == 100 and copy.name.endswith(f" (copy of v{draft.version})")


def test_a_version_activated_after_its_page_opened_is_not_saved(admin_client):
    draft = policy_create(name="v2", definition=DEFAULT_POLICY, acting_user=SYSTEM)
    url = reverse("admin:risk_creditpolicy_change", args=[draft.pk])
    assert admin_client.get(url).status_code == 200
    policy_activate(policy_id=draft.pk, acting_user=SYSTEM)  # another analyst, meanwhile

    page = admin_client.post(url, {"name": "renamed", "notes": "", "definition": "{}"})

    assert page.status_code == 403  # refused, not a server error
    draft.refresh_from_db()
    assert (draft.name, draft.status) == ("v2", PolicyStatus.ACTIVE)
    view = admin_client.get(url).content.decode()
    assert 'name="_save"' not in view  # shown read-only: active versions are copied, not edited
