"""The analyst's path without dead ends (issue 13): draft → simulation → put forward for
activation → activated by a second person, each page linking to the next; the simulation
labels each version by its status and says who it leaves out.

The book is test_simulation's: seven borrowers on record, five on the book (Erin without a
risk profile), Frank with no loan and Gina with only a cancelled one."""

import pytest
from django.urls import reverse

from lending import roles
from lending.models import AuditEvent
from risk.models import CreditPolicy, PolicyStatus
from risk.services.policies import policy_update
from tests.risk.test_simulation import book  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("book")]

LIST = reverse("admin:risk_creditpolicy_changelist")


def simulate_url(policy):
    return reverse("admin:risk_creditpolicy_simulate", args=[policy.pk])


def change_url(policy):
    return reverse("admin:risk_creditpolicy_change", args=[policy.pk])


def button(action: str, policy, here: str) -> dict:
    """What a button of the steps bar posts (an admin action on one version)."""
    return {"action": action, "_selected_action": [policy.pk], "_from": here}


@pytest.fixture
def analysts(client, role_user):
    return role_user(roles.RISK_ANALYST, username="ann"), role_user(
        roles.RISK_ANALYST, username="bo"
    )


def test_the_simulation_labels_active_and_draft_and_explains_who_is_left_out(client, analysts):
    client.force_login(analysts[0])
    draft = CreditPolicy.objects.get(version=2)
    page = client.get(simulate_url(draft))
    assert page.context["titles"] == ["active v1", "draft v2"]
    coverage = page.context["coverage"]
    assert (coverage.borrowers, coverage.evaluated) == (7, 5)
    assert (coverage.no_loan, coverage.only_refused, coverage.without_profile) == (1, 1, 1)
    text = " ".join(page.content.decode().split())
    assert "5 borrowers on the book" in text
    assert "Left out of the 7 borrowers on record: 1 with no loan" in text
    assert "and 1 whose every loan was rejected or cancelled." in text
    assert "1 borrower on the book has no risk profile" in text
    assert "candidate v2" not in text


def test_the_active_version_simulated_is_one_column(client, analysts):
    client.force_login(analysts[0])
    page = client.get(simulate_url(CreditPolicy.objects.get(version=1)))
    assert page.context["titles"] == ["active v1"]
    assert all(len(cells) == 1 for _, cells in page.context["rows"])


def test_draft_to_simulation_to_activation_without_hunting(client, analysts):
    writer, checker = analysts
    client.force_login(writer)
    draft = CreditPolicy.objects.get(version=2)
    policy_update(policy_id=draft.pk, name="Stricter, reviewed", acting_user=writer)

    editor = client.get(change_url(draft)).content.decode()
    assert simulate_url(draft) in editor  # the editor links to the simulation
    simulation = client.get(simulate_url(draft))
    html = simulation.content.decode()
    assert change_url(draft) in html  # and back
    assert 'value="request_activation"' in html  # the next step is a button on the page
    assert 'value="activate"' not in html

    response = client.post(LIST, button("request_activation", draft, "simulate"))
    assert response["Location"] == simulate_url(draft)
    draft.refresh_from_db()
    assert draft.status == PolicyStatus.CANDIDATE
    after = client.get(simulate_url(draft))
    assert after.context["activate_blocked"] and not after.context["can_activate"]
    assert "another analyst or an administrator must activate it" in after.content.decode()
    # Forging the activation anyway is refused by the four-eyes service.
    client.post(LIST, button("activate", draft, "simulate"))
    draft.refresh_from_db()
    assert draft.status == PolicyStatus.CANDIDATE

    client.force_login(checker)
    page = client.get(simulate_url(draft))
    assert page.context["can_activate"] and 'value="activate"' in page.content.decode()
    response = client.post(LIST, button("activate", draft, "simulate"))
    assert response["Location"] == simulate_url(draft)
    draft.refresh_from_db()
    assert (draft.status, draft.activated_by) == (PolicyStatus.ACTIVE, checker)
    assert CreditPolicy.objects.get(version=1).status == PolicyStatus.RETIRED


def test_only_a_draft_is_put_forward_and_only_by_who_may_edit(client, role_user):
    draft = CreditPolicy.objects.get(version=2)
    for role in (roles.CREDIT_OFFICER, roles.COLLECTOR, roles.FINANCE):
        client.force_login(role_user(role))
        client.post(LIST, button("request_activation", draft, "change"))
    draft.refresh_from_db()
    assert draft.status == PolicyStatus.DRAFT
    assert not AuditEvent.objects.filter(action="policy.request_activation").exists()

    client.force_login(role_user(roles.RISK_ANALYST))
    active = CreditPolicy.objects.get(version=1)
    client.post(LIST, button("request_activation", active, "change"))
    assert CreditPolicy.objects.get(version=1).status == PolicyStatus.ACTIVE


def test_a_read_only_version_offers_its_copy_and_lands_in_the_new_draft(client, analysts):
    client.force_login(analysts[0])
    active = CreditPolicy.objects.get(version=1)
    page = client.get(change_url(active)).content.decode()
    assert 'value="copy_to_draft"' in page
    response = client.post(LIST, button("copy_to_draft", active, "change"))
    copied = CreditPolicy.objects.order_by("-version").first()
    assert copied.status == PolicyStatus.DRAFT and copied.definition == active.definition
    assert response["Location"] == change_url(copied)
