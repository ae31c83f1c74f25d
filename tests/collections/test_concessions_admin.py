"""The concessions admin: a collector proposes a waiver from the case page, a manager approves
it from the list, and a refusal (the same person, more than owed) is shown, not swallowed."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse

from debt_collection.models import ProposalState, WaiverProposal
from lending.models import Loan
from tests.collections.test_concessions import own_case

pytestmark = pytest.mark.django_db


def test_propose_from_the_case_page_and_approve_from_the_list(client, collector, manager):
    case = own_case(collector)
    client.force_login(collector)
    page = client.get(reverse("admin:collections_case_change", args=[case.pk]))
    propose = reverse("admin:collections_waiverproposal_propose", args=[case.pk])
    assert propose in page.content.decode()  # one click from the case
    too_much = client.post(propose, {"penalty": "99999.00", "reason": "hardship"})
    assert too_much.status_code == 200 and "owed" in too_much.content.decode()
    done = client.post(propose, {"penalty": "0.50", "reason": "hardship"})
    assert done.status_code == 302
    proposal = WaiverProposal.objects.get()
    # The proposer cannot decide it (and holds no decide permission anyway: not offered).
    listing = reverse("admin:collections_waiverproposal_changelist")
    body = {"action": "approve", ACTION_CHECKBOX_NAME: [proposal.pk]}
    client.post(listing, body)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
    client.force_login(manager)
    before = Loan.objects.get(pk=case.loan_id).penalty_outstanding
    response = client.post(listing, body)
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.APPROVED
    assert Loan.objects.get(pk=case.loan_id).penalty_outstanding == before - proposal.penalty


def test_a_manager_approving_their_own_proposal_sees_the_refusal(client, collector, manager):
    case = own_case(collector)
    client.force_login(manager)
    propose = reverse("admin:collections_waiverproposal_propose", args=[case.pk])
    client.post(propose, {"penalty": "0.50", "reason": "hardship"})
    proposal = WaiverProposal.objects.get()
    listing = reverse("admin:collections_waiverproposal_changelist")
    response = client.post(listing, {"action": "approve", ACTION_CHECKBOX_NAME: [proposal.pk]})
    sent = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("same_person" in m for m in sent), sent
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
