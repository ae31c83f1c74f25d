"""Personal data (DESIGN §10): encrypted at rest, found by keyed hash, masked on every page and in
audit data, revealed only by a deliberate, permission-checked and audited POST; the ledger and the
audit trail refuse changes in the database itself; the demo stays out of production."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from lending import roles
from lending.access import SYSTEM
from lending.errors import LendingError, LendingErrorCode
from lending.models import AuditEvent, Borrower, Transaction, TransactionLine
from lending.pii import pii_digest
from lending.services.borrowers import borrower_create, borrower_update
from lending.services.repayments import repayment_post
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

NATIONAL_ID = "11010519491231002X"
MOBILE = "13912345678"
ADDRESS = "北京市朝阳区建国路88号"
CONTACT_PHONE = "13787654321"


@pytest.fixture
def borrower():
    return borrower_create(
        full_name="王芳",
        national_id=NATIONAL_ID,
        mobile=MOBILE,
        address=ADDRESS,
        emergency_contacts=[{"name": "王强", "relation": "sibling", "phone": CONTACT_PHONE}],
        acting_user=SYSTEM,
    )


@pytest.fixture
def login(client, django_user_model):
    def as_role(role: str):
        user = django_user_model.objects.create_user(
            username=role.replace(" ", "-"), password="pw-not-used-1", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


def shows_pii(html: str) -> list[str]:
    return [v for v in (NATIONAL_ID, MOBILE, ADDRESS, CONTACT_PHONE) if v in html]


def test_personal_data_is_stored_encrypted_and_found_by_its_keyed_hash(borrower):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT national_id, mobile, address, national_id_digest FROM lending_borrower "
            "WHERE id = %s",
            [borrower.pk],
        )
        national_id, mobile, address, digest = cursor.fetchone()
        cursor.execute(
            "SELECT phone FROM lending_emergencycontact WHERE borrower_id = %s", [borrower.pk]
        )
        (phone,) = cursor.fetchone()
    stored = " ".join([national_id, mobile, address, phone])
    assert not shows_pii(stored), "personal data is readable in the database"
    assert NATIONAL_ID[6:14] not in stored
    assert digest == pii_digest(NATIONAL_ID) != NATIONAL_ID
    reread = Borrower.objects.get(national_id_digest=pii_digest(NATIONAL_ID))
    assert (reread.national_id, reread.mobile, reread.address) == (NATIONAL_ID, MOBILE, ADDRESS)
    assert reread.emergency_contacts.get().phone == CONTACT_PHONE


def test_a_second_borrower_with_the_same_national_id_is_refused(borrower):
    with pytest.raises(LendingError) as excinfo:
        borrower_create(
            full_name="冒名",
            national_id=NATIONAL_ID.lower(),
            mobile="13900000009",
            acting_user=SYSTEM,
        )
    assert (excinfo.value.code, excinfo.value.field) == (LendingErrorCode.DUPLICATE, "national_id")
    assert NATIONAL_ID not in str(excinfo.value)
    assert Borrower.objects.count() == 1


def test_audit_data_keeps_personal_data_only_masked(borrower):
    borrower_update(
        borrower_id=borrower.pk, mobile="13900000003", employer="ACME", acting_user=SYSTEM
    )
    event = AuditEvent.objects.get(action="borrower.update")
    assert event.data["changes"]["mobile"] == ["139****5678", "139****0003"]
    assert event.data["changes"]["employer"] == ["", "ACME"]
    assert not shows_pii(str(event.data)) and "13900000003" not in str(event.data)


@pytest.mark.parametrize(
    "role",
    [roles.AUDITOR, roles.COLLECTOR, roles.FINANCE, roles.RISK_ANALYST, roles.CREDIT_OFFICER],
)
def test_list_and_page_show_personal_data_masked_to_every_role(client, login, borrower, role):
    login(role)
    listing = client.get(reverse("admin:lending_borrower_changelist"))
    page = client.get(reverse("admin:lending_borrower_change", args=[borrower.pk]))
    assert listing.status_code == page.status_code == 200
    for response in (listing, page):
        assert not shows_pii(response.content.decode()), role
    assert "110105********002X" in listing.content.decode()
    assert "110105********002X" in page.content.decode()


def test_an_officer_edits_without_seeing_and_empty_inputs_keep_the_values(client, login, borrower):
    login(roles.CREDIT_OFFICER)
    url = reverse("admin:lending_borrower_change", args=[borrower.pk])
    form = client.get(url).context["adminform"].form
    assert form.initial["national_id"] == form.initial["mobile"] == ""
    assert form.fields["mobile"].widget.attrs["placeholder"] == "139****5678"
    contact = borrower.emergency_contacts.get()
    data = {
        "full_name": "王芳",
        "national_id": "",
        "mobile": "139 0000 0004",
        "address": "",
        "employer": "",
        "monthly_income": "9000.00",
        "kyc_status": "verified",
        "blacklist_reason": "",
        "emergency_contacts-TOTAL_FORMS": "1",
        "emergency_contacts-INITIAL_FORMS": "1",
        "emergency_contacts-MIN_NUM_FORMS": "0",
        "emergency_contacts-MAX_NUM_FORMS": "1000",
        "emergency_contacts-0-id": str(contact.pk),
        "emergency_contacts-0-borrower": str(borrower.pk),
        "emergency_contacts-0-name": "王强",
        "emergency_contacts-0-relation": "sibling",
        "emergency_contacts-0-phone": "",
        "loans-TOTAL_FORMS": "0",
        "loans-INITIAL_FORMS": "0",
        "loans-MIN_NUM_FORMS": "0",
        "loans-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    borrower.refresh_from_db()
    assert (borrower.national_id, borrower.mobile, borrower.address) == (
        NATIONAL_ID,
        "13900000004",
        ADDRESS,
    )
    assert borrower.emergency_contacts.get().phone == CONTACT_PHONE


def test_reveal_is_a_post_by_a_holder_of_view_pii_and_is_audited(client, login, borrower):
    url = reverse("admin:lending_borrower_reveal", args=[borrower.pk])
    auditor = login(roles.AUDITOR)
    assert client.post(url).status_code == 403
    assert (
        "Reveal personal data"
        not in client.get(
            reverse("admin:lending_borrower_change", args=[borrower.pk])
        ).content.decode()
    )
    assert not AuditEvent.objects.filter(action="borrower.reveal_pii").exists()

    collector = login(roles.COLLECTOR)
    page = client.get(reverse("admin:lending_borrower_change", args=[borrower.pk]))
    assert "Reveal personal data" in page.content.decode()
    assert client.get(url).status_code == 403  # never by a link or a prefetch
    response = client.post(url)
    assert response.status_code == 200
    assert shows_pii(response.content.decode()) == [NATIONAL_ID, MOBILE, ADDRESS, CONTACT_PHONE]
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="borrower.reveal_pii")
    assert (event.actor, event.object_id) == (collector, str(borrower.pk))
    assert not AuditEvent.objects.filter(action="borrower.reveal_pii", actor=auditor).exists()


def test_find_by_national_id_or_mobile_is_posted_and_never_in_a_url(client, login, borrower):
    login(roles.COLLECTOR)
    find = reverse("admin:lending_borrower_find")
    by_id = client.post(find, {"identifier": "110105 19491231 002x"})
    assert by_id.status_code == 302
    assert by_id.url == reverse("admin:lending_borrower_change", args=[borrower.pk])
    by_mobile = client.post(find, {"identifier": "+86 139-1234-5678"})
    assert by_mobile.url == by_id.url
    for response in (by_id, by_mobile):
        assert NATIONAL_ID not in response.url and MOBILE not in response.url
    assert client.get(find).status_code == 405
    nobody = client.post(find, {"identifier": "13900000000"}, follow=True)
    assert "No borrower has that national ID or mobile number" in nobody.content.decode()
    garbage = client.post(find, {"identifier": "12345"}, follow=True)
    assert "national ID or an 11-digit mobile" in garbage.content.decode()
    # The GET search is by name only: an ID typed there finds nothing.
    listing = client.get(reverse("admin:lending_borrower_changelist"), {"q": NATIONAL_ID})
    assert listing.context["cl"].result_count == 0
    assert (
        client.get(reverse("admin:lending_borrower_changelist"), {"q": "王芳"})
        .context["cl"]
        .result_count
        == 1
    )


def test_roles_without_borrower_access_cannot_find(client, django_user_model, borrower):
    user = django_user_model.objects.create_user(username="x", password="pw-x-1", is_staff=True)
    client.force_login(user)
    response = client.post(reverse("admin:lending_borrower_find"), {"identifier": NATIONAL_ID})
    assert response.status_code == 403


# --- the ledger refuses changes in the database ----------------------------------------------


@pytest.fixture
def posted(postgres):
    loan = active_loan()
    payment = repayment_post(
        loan_id=loan.pk, amount="100.00", value_date=loan.start_date, acting_user=SYSTEM
    ).transaction
    return payment


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE lending_transaction SET amount = amount + 1 WHERE id = %(txn)s",
        "DELETE FROM lending_transaction WHERE id = %(txn)s",
        "UPDATE lending_transactionline SET principal = 0",
        "DELETE FROM lending_transactionline",
        "UPDATE lending_auditevent SET summary = 'nothing happened'",
        "DELETE FROM lending_auditevent",
        "UPDATE lending_transaction SET caused_by_id = id, amount = 1 WHERE id = %(txn)s",
    ],
)
def test_posted_transactions_lines_and_audit_events_cannot_be_changed(posted, statement):
    assert TransactionLine.objects.exists()  # the disbursement's lines, one per installment
    before = (
        list(Transaction.objects.values_list("pk", "amount", "caused_by_id")),
        list(TransactionLine.objects.values_list("pk", "principal")),
        AuditEvent.objects.count(),
    )
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, {"txn": posted.pk})
    after = (
        list(Transaction.objects.values_list("pk", "amount", "caused_by_id")),
        list(TransactionLine.objects.values_list("pk", "principal")),
        AuditEvent.objects.count(),
    )
    assert after == before


def test_the_write_once_link_to_the_causing_payment_is_the_one_update_allowed(posted):
    other = Transaction.objects.exclude(pk=posted.pk).get()  # the disbursement
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE lending_transaction SET caused_by_id = %s WHERE id = %s", [posted.pk, other.pk]
        )
    assert Transaction.objects.get(pk=other.pk).caused_by_id == posted.pk
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE lending_transaction SET caused_by_id = NULL WHERE id = %s", [other.pk]
        )
    assert Transaction.objects.get(pk=other.pk).caused_by_id == posted.pk


# --- the demo stays out of production ------------------------------------------------------


def test_load_demo_refuses_with_debug_off_unless_told_it_is_a_demo(settings):
    settings.DEBUG = False
    for command in ("load_demo", "load_risk_demo"):
        with pytest.raises(CommandError, match="--yes-this-is-a-demo"):
            call_command(command)
    assert not Borrower.objects.exists()


def test_a_demo_loaded_with_debug_off_has_no_published_password(settings, django_user_model):
    settings.DEBUG = False
    call_command("load_demo", "--borrowers", "3", "--yes-this-is-a-demo", stdout=None)
    admin = django_user_model.objects.get(username="admin")
    assert not admin.has_usable_password()
    assert not django_user_model.objects.filter(username="officer").get().has_usable_password()


# --- emergency contacts change through the services, audited ------------------------------------


def test_contact_edits_and_removals_go_through_the_service_audited_and_masked(
    client, login, borrower
):
    from lending.services.borrowers import emergency_contact_remove, emergency_contact_update

    contact = borrower.emergency_contacts.get()
    with pytest.raises(LendingError) as excinfo:
        emergency_contact_update(
            contact_id=contact.pk,
            name="王强",
            relation="sibling",
            phone=MOBILE,
            acting_user=SYSTEM,
        )
    assert (excinfo.value.field, excinfo.value.message) == ("phone", "is the borrower's own number")
    emergency_contact_update(
        contact_id=contact.pk,
        name="王强",
        relation="friend",
        phone="13700000001",
        acting_user=SYSTEM,
    )
    event = AuditEvent.objects.get(action="borrower.contact_update")
    assert event.data["changes"] == {
        "relation": ["sibling", "friend"],
        "phone": ["137****4321", "137****0001"],
    }
    emergency_contact_remove(contact_id=contact.pk, acting_user=SYSTEM)
    assert not borrower.emergency_contacts.exists()
    removed = AuditEvent.objects.get(action="borrower.contact_remove")
    assert removed.data["phone"] == "137****0001"
    assert not shows_pii(str(list(AuditEvent.objects.values_list("data", flat=True))))


def test_a_collector_cannot_edit_a_contact(borrower, django_user_model):
    from lending.services.borrowers import emergency_contact_update

    collector = django_user_model.objects.create_user(username="c", password="pw-c-12345")
    collector.groups.add(Group.objects.get(name=roles.COLLECTOR))
    contact = borrower.emergency_contacts.get()
    with pytest.raises(LendingError) as excinfo:
        emergency_contact_update(
            contact_id=contact.pk,
            name="x",
            relation="friend",
            phone="13700000002",
            acting_user=collector,
        )
    assert excinfo.value.code == LendingErrorCode.PERMISSION_DENIED
    assert borrower.emergency_contacts.get().phone == CONTACT_PHONE


def test_saving_only_the_mobile_keeps_its_keyed_hash_current(borrower):
    borrower.mobile = "13900000007"
    borrower.save(update_fields=["mobile"])
    assert Borrower.objects.filter(mobile_digest=pii_digest("13900000007")).get() == borrower
    assert not Borrower.objects.filter(mobile_digest=pii_digest(MOBILE)).exists()


def test_a_contact_given_the_borrowers_own_number_is_an_error_on_the_field(client, login, borrower):
    """Before: the service refused inside the save and the officer got HTTP 500."""
    login(roles.CREDIT_OFFICER)
    url = reverse("admin:lending_borrower_change", args=[borrower.pk])
    contact = borrower.emergency_contacts.get()
    events = AuditEvent.objects.count()
    response = client.post(
        url,
        {
            "full_name": "王芳",
            "national_id": "",
            "mobile": "",
            "address": "",
            "employer": "",
            "monthly_income": "9000.00",
            "kyc_status": "verified",
            "blacklist_reason": "",
            "emergency_contacts-TOTAL_FORMS": "1",
            "emergency_contacts-INITIAL_FORMS": "1",
            "emergency_contacts-MIN_NUM_FORMS": "0",
            "emergency_contacts-MAX_NUM_FORMS": "1000",
            "emergency_contacts-0-id": str(contact.pk),
            "emergency_contacts-0-borrower": str(borrower.pk),
            "emergency_contacts-0-name": "王强",
            "emergency_contacts-0-relation": "sibling",
            "emergency_contacts-0-phone": MOBILE,
            "loans-TOTAL_FORMS": "0",
            "loans-INITIAL_FORMS": "0",
            "loans-MIN_NUM_FORMS": "0",
            "loans-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors == {"phone": ["is the borrower's own number"]}
    assert borrower.emergency_contacts.get().phone == CONTACT_PHONE
    assert AuditEvent.objects.count() == events
