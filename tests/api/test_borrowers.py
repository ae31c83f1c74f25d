"""Borrowers: personal data masked in lists and pages, revealed only by an audited request
of a user with view_pii; emergency contacts."""

import pytest

from lending import roles
from lending.models import AuditEvent, EmergencyContact
from tests.api.conftest import API, assert_problem
from tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def borrower():
    borrower = BorrowerFactory(mobile="13800138000", address="1 Long Road, Shenzhen")
    EmergencyContact.objects.create(
        borrower=borrower, name="Mother", relation="parent", phone="13900139000"
    )
    return borrower


def test_lists_and_pages_are_masked_for_everyone(client_for, borrower):
    for role in (roles.FINANCE, roles.CREDIT_OFFICER, roles.AUDITOR):
        client = client_for(role)
        row = client.get(API + "borrowers/").json()["results"][0]
        assert row["mobile"] == "138****8000"
        assert row["national_id"] == borrower.masked_national_id
        assert "*" in row["national_id"] and borrower.national_id not in str(row)
        assert row["address"] == "•••"
        page = client.get(API + f"borrowers/{borrower.pk}/").json()
        assert page["emergency_contacts"] == [
            {"id": page["emergency_contacts"][0]["id"], "name": "Mother", "relation": "parent",
             "phone": "139****9000"}
        ]  # fmt: skip
        assert "13900139000" not in str(page)


def test_find_by_exact_identifier(finance, borrower):
    BorrowerFactory()
    found = finance.get(API + "borrowers/", {"identifier": borrower.national_id}).json()
    assert [row["id"] for row in found["results"]] == [borrower.pk]
    by_mobile = finance.get(API + "borrowers/", {"identifier": "138 0013 8000"}).json()
    assert [row["id"] for row in by_mobile["results"]] == [borrower.pk]
    assert_problem(
        finance.get(API + "borrowers/", {"identifier": "12345"}), 400, "invalid", "identifier"
    )


def test_reveal_is_audited_and_needs_view_pii(officer, finance, borrower):
    events = AuditEvent.objects.filter(action="borrower.reveal_pii")
    refused = finance.post(API + f"borrowers/{borrower.pk}/reveal/")
    assert_problem(refused, 403, "permission_denied")
    assert not events.exists()

    shown = officer.post(API + f"borrowers/{borrower.pk}/reveal/").json()
    assert shown["national_id"] == borrower.national_id
    assert shown["mobile"] == "13800138000"
    assert shown["emergency_contacts"][0]["phone"] == "13900139000"
    assert events.get().actor == officer.user


def test_add_an_emergency_contact(officer, finance, borrower):
    url = API + f"borrowers/{borrower.pk}/emergency-contacts/"
    body = {"name": "Brother", "relation": "sibling", "phone": "13700137000"}
    assert_problem(finance.post(url, body, format="json"), 403, "permission_denied")
    own = officer.post(url, {**body, "phone": "13800138000"}, format="json")
    assert_problem(own, 400, "invalid", "phone")
    assert_problem(
        officer.post(url, {**body, "relation": "boss"}, format="json"), 400, "invalid", "relation"
    )
    assert borrower.emergency_contacts.count() == 1

    added = officer.post(url, body, format="json")
    assert added.status_code == 201, added.json()
    assert added.json()["phone"] == "137****7000"
    listed = officer.get(url).json()
    assert [c["name"] for c in listed] == ["Mother", "Brother"]


def test_a_role_without_borrowers_cannot_list_them(client_for, borrower):
    # Every role reads borrowers today; a user with no role reads nothing.
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    nobody = get_user_model().objects.create_user("nobody", password="pw-nobody-1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=nobody).key}")
    assert_problem(client.get(API + "borrowers/"), 403, "permission_denied")
    assert_problem(client.get(API + f"borrowers/{borrower.pk}/"), 403, "permission_denied")
