"""Personal data in exports: masked exactly as the admin masks it, unmasked only for a holder of
view_pii *and* export_pii (the administrator) who asks for it — revealing one borrower's number
to call them is not taking every borrower's away — and every export an audit event saying who
took which kind, how many rows, which columns and whether unmasked."""

import pytest
from django.urls import reverse

from debt_collection.exports import CaseExport
from lending import roles
from lending.exports import LoanExport, OverdueExport, ScheduleExport
from lending.models import AuditEvent
from lending.pii import masked
from tests.exports.helpers import read, records, take

pytestmark = pytest.mark.django_db


def exports():
    return AuditEvent.objects.filter(action__startswith="export.")


@pytest.mark.parametrize("kind, index", [(LoanExport, 0), (OverdueExport, 2)])
def test_without_view_pii_the_file_holds_what_the_admin_list_shows(
    book, role_user, login, kind, index
):
    finance = login(role_user(roles.FINANCE))  # exports the book, holds no view_pii
    borrower = book.late.borrower
    rows = records(read(take(finance, "lending_loan", kind, index=index, query="q=张三")))
    assert (
        rows[0]["national ID"]
        == borrower.masked_national_id
        == masked("national_id", borrower.national_id)
    )
    assert rows[0]["mobile phone"] == borrower.masked_mobile == "139****5678"
    body = str(read(take(finance, "lending_loan", kind, index=index)))
    assert borrower.national_id not in body and "13912345678" not in body


def test_the_unmask_choice_is_offered_only_to_a_holder_of_view_pii_and_export_pii(
    book, role_user, login
):
    page = login(role_user(roles.FINANCE)).get(reverse("admin:lending_loan_export"))
    assert page.status_code == 200 and 'name="unmask_pii"' not in page.content.decode()
    # The collector holds view_pii (to call) and exports their work list: masked only.
    page = login(role_user(roles.COLLECTOR, username="c")).get(
        reverse("admin:collections_case_export")
    )
    assert page.status_code == 200 and 'name="unmask_pii"' not in page.content.decode()
    page = login(role_user(roles.ADMINISTRATOR)).get(reverse("admin:lending_loan_export"))
    assert 'name="unmask_pii"' in page.content.decode()


@pytest.mark.parametrize(
    "role, admin_name, kind",
    [
        (roles.FINANCE, "lending_loan", LoanExport),  # no view_pii
        (roles.AUDITOR, "lending_loan", LoanExport),  # no view_pii: read-only, masked
        (roles.COLLECTOR, "collections_case", CaseExport),  # view_pii, no export_pii
    ],
)
def test_a_forged_unmask_is_refused_and_nothing_is_exported_or_audited(
    book, role_user, login, role, admin_name, kind
):
    client = login(role_user(role, username="forger"))
    response = take(client, admin_name, kind, unmask=True)
    assert response.status_code == 403
    assert not response.has_header("Content-Disposition")
    assert not exports().exists()


def test_a_holder_gets_it_unmasked_only_when_asking_and_the_audit_says_so(book, role_user, login):
    officer = role_user(roles.ADMINISTRATOR)
    client = login(officer)
    borrower = book.late.borrower
    masked_rows = records(read(take(client, "lending_loan", LoanExport, query="q=张三")))
    assert masked_rows[0]["national ID"] == borrower.masked_national_id
    plain = records(read(take(client, "lending_loan", LoanExport, query="q=张三", unmask=True)))
    assert plain[0]["national ID"] == borrower.national_id
    assert plain[0]["mobile phone"] == "13912345678"

    first, second = exports().order_by("pk")
    assert (first.actor, first.action) == (officer, "export.loans")
    assert first.object_type == "lending.loan"
    assert first.data["rows"] == 1 and first.data["format"] == "csv"
    assert first.data["pii_unmasked"] is False and second.data["pii_unmasked"] is True
    assert "national_id" in second.data["columns"]
    assert second.data["filters"] == "q=%E5%BC%A0%E4%B8%89"  # the list's search for 张三
    assert "unmasked" in second.summary
    # The audit keeps no personal data itself.
    assert borrower.national_id not in str(second.data) + second.summary


def test_unmasking_a_kind_without_personal_data_is_recorded_as_masked(book, role_user, login):
    client = login(role_user(roles.ADMINISTRATOR))
    read(take(client, "lending_loan", ScheduleExport, index=1, unmask=True))
    event = exports().get()
    assert event.action == "export.schedules" and event.data["pii_unmasked"] is False
    assert event.data["rows"] == 36  # three loans of twelve installments


def test_unmasked_needs_the_columns_a_user_unticked_them(book, role_user, login):
    client = login(role_user(roles.ADMINISTRATOR))
    rows = read(
        take(client, "lending_loan", LoanExport, unmask=True, columns=["reference", "principal"])
    )
    assert rows[0] == ["reference", "principal"]
    event = exports().get()
    assert event.data["columns"] == ["reference", "principal"]
    assert event.data["pii_unmasked"] is False  # no personal data left the system
