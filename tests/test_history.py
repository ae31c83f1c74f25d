"""An object's History page shows what the audit trail holds about it, in words, to those who
read the audit trail; others are told where it is kept instead of "no change history"."""

import pytest
from django.urls import reverse

from lending import roles
from lending.models import AuditEvent
from lending.services.audit import audit_log
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db


def history_of(client, loan, **headers):
    return client.get(reverse("admin:lending_loan_history", args=[loan.pk]), headers=headers)


@pytest.mark.parametrize("role", [roles.ADMINISTRATOR, roles.AUDITOR])
def test_the_loans_history_lists_its_audit_events_in_words(client, role_user, role):
    loan = active_loan()  # booked and disbursed through the services, as the platform
    client.force_login(role_user(role))
    html = history_of(client, loan).content.decode()
    assert "Loan disbursed" in html and "the platform" in html
    assert "doesn’t have a change history" not in html
    events = AuditEvent.objects.filter(object_type="lending.loan", object_id=str(loan.pk))
    assert f"{events.count()} audit event" in html


def test_an_event_by_a_person_names_them_and_other_records_events_stay_out(client, role_user):
    loan, other = active_loan(), active_loan()
    admin = role_user(roles.ADMINISTRATOR)
    audit_log(actor=admin, action="loan.write_off", obj=loan, summary="uncollectable: deceased")
    audit_log(actor=admin, action="limit.increase_approved", obj=other, summary="other loan")
    client.force_login(admin)
    html = history_of(client, loan).content.decode()
    assert "Loan written off" in html and "uncollectable: deceased" in html
    assert "other loan" not in html
    assert "Limit increase approved" in history_of(client, other).content.decode()


def test_the_history_in_chinese_shows_chinese_dates(client, role_user):
    loan = active_loan()
    client.force_login(role_user(roles.ADMINISTRATOR))
    html = history_of(client, loan, accept_language="zh-hans").content.decode()
    assert "年" in html and "月" in html


@pytest.mark.parametrize("role", [roles.CREDIT_OFFICER, roles.FINANCE, roles.COLLECTOR])
def test_roles_without_the_audit_trail_are_told_where_the_history_is(client, role_user, role):
    loan = active_loan()
    client.force_login(role_user(role))
    page = history_of(client, loan)
    html = page.content.decode()
    assert page.status_code == 200
    assert "kept in the audit trail, which auditors and administrators read" in html
    assert "Loan disbursed" not in html
