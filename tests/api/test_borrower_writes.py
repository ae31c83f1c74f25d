"""Registering and updating borrowers and their emergency contacts through the API: the
service's rules (national ID, mobile, duplicates), personal data masked in every answer, a
field nobody may write refused naming it (mass assignment), each role forging each write
refused, and bad input a 400 that changes nothing."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from debt_collection.models import CompliancePolicy, ContactAttempt
from lending import roles
from lending.identity import generate_national_id
from lending.models import AuditEvent, Borrower, EmergencyContact
from tests.api.conftest import API, assert_problem
from tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db
NATIONAL_ID = generate_national_id(
    date_of_birth=date(1990, 6, 15), sex="F", region_code="440301", sequence=7
)
NEW = {
    "full_name": "Wang Fang",
    "national_id": NATIONAL_ID,
    "mobile": "138 0013 8000",
    "address": "1 Long Road, Shenzhen",
    "employer": "Shenzhen Metro",
    "monthly_income": "12000.00",
    "emergency_contacts": [{"name": "Wang Lei", "relation": "sibling", "phone": "13900139000"}],
}
WRITERS = {roles.CREDIT_OFFICER, roles.ADMINISTRATOR}
CODES = {"invalid", "required", "out_of_range", "unknown_field"}


def borrowers_state() -> tuple:
    """Everything a borrower write could change (equal before and after: nothing was)."""
    return (
        sorted(
            Borrower.objects.values_list(
                "pk", "full_name", "mobile_digest", "national_id_digest", "monthly_income",
                "kyc_status", "is_blacklisted", "address", "employer",
            )
        ),
        sorted(EmergencyContact.objects.values_list("pk", "name", "relation", "phone")),
        AuditEvent.objects.count(),
    )  # fmt: skip


@pytest.fixture
def borrower():
    borrower = BorrowerFactory(mobile="13800138001")
    EmergencyContact.objects.create(
        borrower=borrower, name="Mother", relation="parent", phone="13900139001"
    )
    return borrower


def test_an_officer_registers_a_borrower_with_contacts_masked_in_the_answer(officer):
    response = officer.post(API + "borrowers/", NEW, format="json")
    body = response.json()
    assert response.status_code == 201, body
    borrower = Borrower.objects.get(pk=body["id"])
    # The national ID gave the date of birth and sex; the mobile was normalised.
    assert (borrower.date_of_birth, borrower.sex) == (date(1990, 6, 15), "F")
    assert borrower.mobile == "13800138000" and borrower.monthly_income == Decimal("12000.00")
    # Masked as on every borrower page, even for a user holding view_pii.
    assert body["national_id"] == borrower.masked_national_id != NATIONAL_ID
    assert body["mobile"] == "138****8000" and body["address"] == "•••"
    assert body["emergency_contacts"][0]["phone"] == "139****9000"
    assert NATIONAL_ID not in str(body) and "13900139000" not in str(body)
    assert borrower.emergency_contacts.get().phone == "13900139000"
    assert AuditEvent.objects.filter(action="borrower.create", object_id=str(borrower.pk)).exists()


def test_a_national_id_registered_already_is_a_409(officer, borrower):
    before = borrowers_state()
    again = officer.post(API + "borrowers/", {**NEW, "national_id": borrower.national_id},
                         format="json")  # fmt: skip
    assert_problem(again, 409, "duplicate", "national_id")
    assert borrowers_state() == before


@pytest.mark.parametrize(
    "field",
    ["id", "created_at", "updated_at", "national_id_digest", "mobile_digest", "is_staff", "loans"],
)
def test_a_field_nobody_writes_is_refused_naming_it(officer, borrower, field):
    before = borrowers_state()
    created = officer.post(API + "borrowers/", {**NEW, field: 1}, format="json")
    assert_problem(created, 400, "unknown_field", field)
    updated = officer.patch(API + f"borrowers/{borrower.pk}/", {"employer": "X", field: 1},
                            format="json")  # fmt: skip
    assert_problem(updated, 400, "unknown_field", field)
    assert borrowers_state() == before


def test_an_unknown_field_of_a_contact_is_refused_naming_it(officer):
    contacts = [{**NEW["emergency_contacts"][0], "borrower": 1}]
    response = officer.post(API + "borrowers/", {**NEW, "emergency_contacts": contacts},
                            format="json")  # fmt: skip
    assert_problem(response, 400, "unknown_field", "emergency_contacts.0.borrower")
    assert not Borrower.objects.exists()


def test_an_officer_updates_a_profile_and_the_change_is_audited(officer, borrower):
    url = API + f"borrowers/{borrower.pk}/"
    response = officer.patch(url, {"monthly_income": "15000.00", "kyc_status": "rejected"},
                             format="json")  # fmt: skip
    body = response.json()
    assert response.status_code == 200, body
    assert (body["monthly_income"], body["kyc_status"]) == ("15000.00", "rejected")
    borrower.refresh_from_db()
    assert borrower.monthly_income == Decimal("15000.00")
    event = AuditEvent.objects.get(action="borrower.update")
    assert set(event.data["changes"]) == {"monthly_income", "kyc_status"}
    # A new national ID brings its date of birth and sex; the answer stays masked.
    moved = officer.patch(url, {"national_id": NATIONAL_ID, "mobile": "13700137000"},
                          format="json")  # fmt: skip
    assert moved.status_code == 200, moved.json()
    borrower.refresh_from_db()
    assert (borrower.date_of_birth, borrower.sex) == (date(1990, 6, 15), "F")
    assert moved.json()["mobile"] == "137****7000" and NATIONAL_ID not in str(moved.json())
    # The mobile is personal data: masked in the audit log too.
    assert "13700137000" not in str(AuditEvent.objects.filter(action="borrower.update").last().data)


def test_an_unknown_borrower_is_a_404(officer):
    missing = officer.patch(API + f"borrowers/{10**12}/", {"employer": "X"}, format="json")
    assert_problem(missing, 404, "not_found")


# --- emergency contacts --------------------------------------------------------------------


def contact_url(borrower, contact=None) -> str:
    return API + f"borrowers/{borrower.pk}/emergency-contacts/" + (f"{contact.pk}/" if contact
                                                                    else "")  # fmt: skip


def test_contacts_are_corrected_and_removed(officer, borrower):
    contact = borrower.emergency_contacts.get()
    corrected = officer.patch(contact_url(borrower, contact), {"phone": "13700137001"},
                              format="json")  # fmt: skip
    assert corrected.status_code == 200, corrected.json()
    assert corrected.json() == {"id": contact.pk, "name": "Mother", "relation": "parent",
                                "phone": "137****7001"}  # fmt: skip
    contact.refresh_from_db()
    assert contact.phone == "13700137001"
    assert AuditEvent.objects.filter(action="borrower.contact_update").exists()
    own = officer.patch(contact_url(borrower, contact), {"phone": borrower.mobile}, format="json")
    assert_problem(own, 400, "invalid", "phone")

    removed = officer.delete(contact_url(borrower, contact))
    assert removed.status_code == 204
    assert not EmergencyContact.objects.filter(pk=contact.pk).exists()
    assert AuditEvent.objects.filter(action="borrower.contact_remove").exists()
    assert_problem(officer.delete(contact_url(borrower, contact)), 404, "not_found")


def test_a_contact_is_reached_only_through_its_borrower(officer, borrower):
    contact = borrower.emergency_contacts.get()
    stranger = BorrowerFactory()
    before = borrowers_state()
    wrong = officer.patch(contact_url(stranger, contact), {"name": "X"}, format="json")
    assert_problem(wrong, 404, "not_found")
    assert_problem(officer.delete(contact_url(stranger, contact)), 404, "not_found")
    assert borrowers_state() == before


def test_a_contact_that_was_called_is_kept(officer, borrower):
    from tests.collections.helpers import open_case, overdue_loans

    (loan,) = overdue_loans(borrower=borrower)
    contact = borrower.emergency_contacts.get()
    ContactAttempt.objects.create(
        case=open_case(loan), borrower=borrower, channel="call", party="emergency_contact",
        emergency_contact=contact, contacted_at=datetime(2026, 9, 17, 10, tzinfo=ZoneInfo("UTC")),
        outcome="no_answer", policy=CompliancePolicy.objects.get(status="active"),
    )  # fmt: skip
    before = borrowers_state()
    refused = officer.delete(contact_url(borrower, contact))
    assert_problem(refused, 409, "in_use", "contact")
    assert borrowers_state() == before


# --- every role at every door --------------------------------------------------------------


def writes(borrower) -> dict:
    contact = borrower.emergency_contacts.get()
    new_contact = {"name": "Brother", "relation": "sibling", "phone": "13700137002"}
    return {
        "create": ("post", API + "borrowers/", NEW),
        "update": ("patch", API + f"borrowers/{borrower.pk}/", {"employer": "Forged Ltd"}),
        "add contact": ("post", contact_url(borrower), new_contact),
        "correct contact": ("patch", contact_url(borrower, contact), {"name": "Forged"}),
        "remove contact": ("delete", contact_url(borrower, contact), None),
    }


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_at_each_borrower_write(client_for, borrower, role):
    client = client_for(role)
    for name, (method, url, body) in writes(borrower).items():
        before = borrowers_state()
        response = getattr(client, method)(url, body, format="json")
        if role in WRITERS:
            assert response.status_code in (200, 201, 204), (name, response.content)
        else:
            assert_problem(response, 403, "permission_denied")
            assert borrowers_state() == before, name


def test_anonymous_is_a_401(anon, borrower):
    for method, url, body in writes(borrower).values():
        assert_problem(getattr(anon, method)(url, body, format="json"), 401, "not_authenticated")


# --- bad input -----------------------------------------------------------------------------

BAD = [
    ("full_name", ""),
    ("full_name", " "),
    ("full_name", None),
    ("full_name", "x" * 101),
    ("full_name", ["Wang"]),
    ("national_id", ""),
    ("national_id", "123"),
    ("national_id", "x" * 19),
    ("national_id", NATIONAL_ID[:-1] + ("0" if NATIONAL_ID[-1] != "0" else "1")),  # checksum
    ("national_id", 12345),
    ("national_id", [NATIONAL_ID]),
    ("national_id", {"number": NATIONAL_ID}),
    ("mobile", ""),
    ("mobile", "12345"),
    ("mobile", "1" * 33),
    ("date_of_birth", "1990-06-16"),  # not what the ID says
    ("date_of_birth", "2999-01-01"),
    ("date_of_birth", "not a date"),
    ("sex", "M"),  # not what the ID says
    ("sex", "X"),
    ("monthly_income", "-1.00"),
    ("monthly_income", "NaN"),
    ("monthly_income", "Infinity"),
    ("monthly_income", "1e30"),
    ("monthly_income", "abc"),
    ("monthly_income", "0.001"),
    ("kyc_status", "maybe"),
    ("is_blacklisted", "perhaps"),
    ("address", "x" * 256),
    ("employer", "x" * 201),
    ("emergency_contacts", "not a list"),
    ("emergency_contacts", [NEW["emergency_contacts"][0]] * 11),
    ("emergency_contacts", [{"name": "", "relation": "sibling", "phone": "13900139000"}]),
    ("emergency_contacts", [{"name": "A", "relation": "boss", "phone": "13900139000"}]),
    ("emergency_contacts", [{"name": "A", "relation": "sibling", "phone": "13800138000"}]),
]


def assert_400(response, field):
    body = response.json()
    assert response.status_code == 400, (field, body)
    assert response["Content-Type"].startswith("application/problem+json")
    assert any(name == field or name.startswith(f"{field}.") for name in body["errors"]), body
    assert body["code"] in CODES, body


def test_bad_input_to_a_new_borrower_names_the_field_and_writes_nothing(officer):
    before = borrowers_state()
    for field, value in BAD:
        response = officer.post(API + "borrowers/", {**NEW, field: value}, format="json")
        assert_400(response, field)
        assert borrowers_state() == before, (field, value)
    blacklisted = officer.post(API + "borrowers/", {**NEW, "is_blacklisted": True}, format="json")
    assert_400(blacklisted, "blacklist_reason")
    empty = officer.post(API + "borrowers/", {}, format="json")
    assert_400(empty, "full_name")
    assert set(empty.json()["errors"]) == {"full_name", "national_id", "mobile"}
    assert borrowers_state() == before


def test_bad_input_to_an_update_names_the_field_and_changes_nothing(officer, borrower):
    url = API + f"borrowers/{borrower.pk}/"
    before = borrowers_state()
    for field, value in BAD:
        if field in ("emergency_contacts", "date_of_birth", "sex"):
            continue  # contacts have their own URLs; birth and sex are checked with an ID
        assert_400(officer.patch(url, {field: value}, format="json"), field)
        assert borrowers_state() == before, (field, value)
    assert_400(officer.patch(url, {"emergency_contacts": []}, format="json"), "emergency_contacts")
    empty = officer.patch(url, {}, format="json")
    assert empty.status_code == 400 and empty.json()["code"] in CODES
    for body in ("[]", "null", "{", '"x"'):
        response = officer.patch(url, body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
    assert borrowers_state() == before


def test_bad_input_to_a_contact_names_the_field_and_changes_nothing(officer, borrower):
    contact = borrower.emergency_contacts.get()
    before = borrowers_state()
    for field, value in [
        ("name", ""),
        ("name", "x" * 101),
        ("relation", "boss"),
        ("phone", "12"),
        ("phone", None),
        ("borrower", 2),
        ("id", 5),
    ]:
        url = contact_url(borrower, contact)
        assert_400(officer.patch(url, {field: value}, format="json"), field)
        full = {"name": "A", "relation": "sibling", "phone": "13700137003", field: value}
        assert_400(officer.post(contact_url(borrower), full, format="json"), field)
        assert borrowers_state() == before, (field, value)
