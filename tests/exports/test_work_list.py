"""The collections work list: a collector exports their own cases only — the admin's and the
API's visibility rule (`visible_cases`), whatever the request names — a manager exports all."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from debt_collection.exports import CaseByBorrowerExport, CaseExport
from lending import roles
from lending.models import AuditEvent
from tests.exports.helpers import form_body, read, records, take

pytestmark = pytest.mark.django_db


def test_a_collector_exports_only_their_own_cases(book, collector, login):
    client = login(collector)
    rows = records(read(take(client, "collections_case", CaseExport)))
    assert [r["reference"] for r in rows] == [book.late.reference]
    row = rows[0]
    assert row["case"] == str(book.case.pk) and row["collector"] == "collector"
    assert (row["bucket"], row["dpd"]) == ("M1", "1")
    assert row["overdue amount"] == f"{book.case.overdue_amount:.2f}"
    assert row["opened on"] == book.case.opened_on.isoformat()
    assert row["mobile phone"] == "139****5678"  # masked unless they ask (and may)
    event = AuditEvent.objects.get(action="export.work_list")
    assert event.actor == collector and event.data["rows"] == 1


def test_a_collector_naming_another_collectors_case_gets_nothing_of_it(book, collector, login):
    client = login(collector)
    body = form_body(CaseExport, export_items=[str(book.other_case.pk)])
    response = client.post(reverse("admin:collections_case_export"), body)
    assert not response.has_header("Content-Disposition")
    assert book.other_late.reference not in response.content.decode()
    assert not AuditEvent.objects.filter(action="export.work_list").exists()
    # A search matching only the other collector's borrower exports an empty list.
    other_name = book.other_late.borrower.full_name
    rows = read(take(client, "collections_case", CaseExport, query=f"q={other_name}"))
    assert rows[1:] == []


def test_a_manager_exports_every_case_and_a_selection(book, role_user, login):
    client = login(role_user(roles.COLLECTIONS_MANAGER))
    rows = records(read(take(client, "collections_case", CaseExport, fmt="xlsx")))
    assert {r["reference"].value for r in rows} == {book.late.reference, book.other_late.reference}
    page = client.post(
        reverse("admin:collections_case_changelist"),
        {"action": "export_admin_action", ACTION_CHECKBOX_NAME: [book.other_case.pk]},
    )
    assert page.status_code == 200
    body = form_body(CaseExport, export_items=[str(book.other_case.pk)])
    rows = records(read(client.post(reverse("admin:collections_case_export"), body)))
    assert [r["reference"] for r in rows] == [book.other_late.reference]
    assert rows[0]["mobile phone"] == book.other_late.borrower.masked_mobile  # no view_pii


def test_the_work_list_by_borrower_groups_a_collectors_own_loans(book, collector, login):
    rows = records(read(take(login(collector), "collections_casebyborrower", CaseByBorrowerExport)))
    assert len(rows) == 1
    row = rows[0]
    assert row["borrower"] == "张三" and row["open cases"] == "1"
    assert row["loans"] == (f"{book.late.reference} M1 1 dpd {book.case.overdue_amount}")
    assert row["overdue, all loans"] == f"{book.case.overdue_amount:.2f}"


def test_the_work_list_by_borrower_for_a_manager_holds_every_borrower(book, role_user, login):
    client = login(role_user(roles.COLLECTIONS_MANAGER))
    rows = records(read(take(client, "collections_casebyborrower", CaseByBorrowerExport)))
    assert {r["borrower"] for r in rows} == {
        book.late.borrower.full_name,
        book.other_late.borrower.full_name,
    }
