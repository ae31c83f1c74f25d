"""The collections admin: a collector's work list holds their own cases only (another's case is
a 404), managers see all, the operations call the services and show a refusal on its field, and
managers reassign in bulk."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from debt_collection.models import Case, CaseAssignment, ComplianceRefusal, ContactAttempt, Queue
from debt_collection.services.cases import case_reassign
from lending import formatting, roles
from lending.access import SYSTEM
from tests.collections.helpers import overdue_loans

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(collector, collector2):
    Queue.objects.get(name="M1 early reminders").members.add(collector, collector2)
    overdue_loans(2)
    mine, theirs = Case.objects.order_by("pk")
    case_reassign(case_ids=[mine.pk], collector_id=collector.pk, reason="t", acting_user=SYSTEM)
    case_reassign(case_ids=[theirs.pk], collector_id=collector2.pk, reason="t", acting_user=SYSTEM)
    return mine, theirs


def client_for(client, user):
    client.force_login(user)
    return client


def url(name, *args):
    return reverse(f"admin:collections_case_{name}", args=args)


def test_a_collector_sees_only_own_cases_and_another_is_not_found(client, collector, cases):
    mine, theirs = cases
    c = client_for(client, collector)
    page = c.get(url("changelist"))
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [mine]
    assert c.get(url("change", mine.pk)).status_code == 200
    for name in ("change", "history", "contact", "promise"):
        assert c.get(url(name, theirs.pk)).status_code == 404, name
    # The records of another's case are hidden the same way.
    assignment = CaseAssignment.objects.filter(case=theirs).first()
    other = reverse("admin:collections_caseassignment_change", args=[assignment.pk])
    assert c.get(other).status_code == 404


def test_managers_and_auditors_see_every_case(client, role_user, cases):
    for role in (roles.COLLECTIONS_MANAGER, roles.AUDITOR, roles.FINANCE):
        c = client_for(client, role_user(role))
        page = c.get(url("changelist"))
        assert len(page.context["cl"].result_list) == 2, role
        assert c.get(url("change", cases[1].pk)).status_code == 200


def test_the_list_explains_priority_and_masks_the_phone(client, collector, cases):
    mine, _ = cases
    page = client_for(client, collector).get(url("change", mine.pk)).content.decode()
    assert "days without contact" in page and mine.borrower.mobile not in page
    assert mine.borrower.masked_mobile in page


def test_a_refused_contact_shows_on_its_field_and_is_counted(client, collector, cases):
    mine, _ = cases
    body = {
        "channel": "call",
        "party": "borrower",
        "contacted_at": "2026-11-10 22:00:00",
        "outcome": "no_answer",
    }
    page = client_for(client, collector).post(url("contact", mine.pk), body)
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert "contacted_at" in errors and "GB/T 45251-2025" in errors["contacted_at"][0]
    assert not ContactAttempt.objects.exists()
    assert ComplianceRefusal.objects.filter(collector=collector).count() == 1
    body["contacted_at"] = "2026-11-10 21:59:59"
    page = client.post(url("contact", mine.pk), body)
    assert page.status_code == 302 and ContactAttempt.objects.count() == 1


def test_an_operation_page_shows_the_case_s_overdue_amount_formatted(client, collector, cases):
    mine, _ = cases
    Case.objects.filter(pk=mine.pk).update(overdue_amount="12345.60")
    page = client_for(client, collector).get(url("contact", mine.pk))
    assert "<strong>12,345.60</strong>" in page.text


def test_a_promise_through_the_admin(client, collector, cases):
    mine, _ = cases
    c = client_for(client, collector)
    page = c.post(url("promise", mine.pk), {"amount": "0", "promised_for": "2027-01-01"})
    assert "amount" in page.context["form"].errors
    page = c.post(url("promise", mine.pk), {"amount": "100", "promised_for": "2026-12-20"})
    assert page.status_code == 302 and mine.promises.count() == 1


def test_a_work_list_row_carries_what_the_narrow_columns_stack(client, collector, cases):
    # The loan with its borrower, the priority with its parts, the collector with the queue: one
    # cell each (tests/browser/test_widths.py), none of it dropped; dates in words.
    mine, _ = cases
    c = client_for(client, collector)
    promised = timezone.localdate() + timedelta(days=5)
    c.post(url("promise", mine.pk), {"amount": "100", "promised_for": promised.isoformat()})
    contact = {"channel": "call", "party": "borrower", "outcome": "no_answer"}
    c.post(url("contact", mine.pk), {**contact, "contacted_at": "2026-11-10 21:59:59"})
    page = c.get(url("changelist")).content.decode()
    body = page[page.index("<tbody>", page.index('id="result_list"')) :]
    row = body.split("</tr>")[0]
    for shown in (
        f'href="{url("change", mine.pk)}">{mine.loan.reference}</a>',
        mine.borrower.full_name,
        mine.borrower.masked_national_id,
        "overdue amount",  # a part of the priority
        "collector",
        "M1 early reminders",
        "Pending",
        formatting.local_date(promised),
        "Nov. 10, 2026",  # the last contact's day
    ):
        assert shown in row, shown
    assert promised.isoformat() not in row and "2026-11-10" not in row


@pytest.mark.parametrize(
    "role", [roles.AUDITOR, roles.FINANCE, roles.CREDIT_OFFICER, roles.RISK_ANALYST]
)
def test_roles_without_the_operation_are_refused_at_every_door(client, role_user, role, cases):
    mine, _ = cases
    c = client_for(client, role_user(role))
    body = {
        "channel": "sms",
        "party": "borrower",
        "contacted_at": "2026-11-10 12:00",
        "outcome": "no_answer",
    }
    assert c.post(url("contact", mine.pk), body).status_code == 403
    assert (
        c.post(url("promise", mine.pk), {"amount": "10", "promised_for": "2026-12-20"}).status_code
        == 403
    )
    c.post(
        url("changelist"),
        {"action": "reassign", ACTION_CHECKBOX_NAME: [mine.pk], "apply": "1", "reason": "x"},
    )
    assert not ContactAttempt.objects.exists() and not mine.promises.exists()
    assert CaseAssignment.objects.filter(reason="x").count() == 0


def test_a_collector_cannot_reassign(client, collector, cases):
    mine, _ = cases
    c = client_for(client, collector)
    c.post(
        url("changelist"),
        {"action": "reassign", ACTION_CHECKBOX_NAME: [mine.pk], "apply": "1", "reason": "x"},
    )
    assert not CaseAssignment.objects.filter(reason="x").exists()


def test_a_manager_reassigns_in_bulk(client, manager, collector, collector2, cases):
    c = client_for(client, manager)
    ids = [case.pk for case in cases]
    page = c.post(url("changelist"), {"action": "reassign", ACTION_CHECKBOX_NAME: ids})
    assert page.status_code == 200  # the form asking where to
    page = c.post(
        url("changelist"),
        {
            "action": "reassign",
            ACTION_CHECKBOX_NAME: ids,
            "apply": "1",
            "reason": "holiday",
            "collector": collector2.pk,
        },
    )
    assert page.status_code == 302
    assert set(Case.objects.values_list("collector", flat=True)) == {collector2.pk}
    records = CaseAssignment.objects.filter(reason="holiday")
    assert sorted(records.values_list("from_collector", flat=True)) == sorted(
        [collector.pk, collector2.pk]
    )
    assert set(records.values_list("assigned_by", flat=True)) == {manager.pk}
