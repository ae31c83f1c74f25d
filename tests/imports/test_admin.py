"""The admin's imports: upload → dry run showing every row's fate → confirm, the error file,
templates, and each role forging the upload."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportRecord, ImportState
from lending import roles
from lending.access import may
from lending.identity import generate_national_id
from lending.models import Borrower
from tests.imports.helpers import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db
ID1 = generate_national_id(date_of_birth=date(1990, 3, 7), sex="M", sequence=1)
ID2 = generate_national_id(date_of_birth=date(1991, 3, 7), sex="F", sequence=2)
BAD = ID2[:-1] + ("0" if ID2[-1] != "0" else "1")
ROWS = [["姓名", "身份证号", "手机号"], ["张三", ID1, "13800138000"], ["李四", BAD, "13800138001"]]


@pytest.fixture
def logged_in(client, role_user):
    def make(role, username=None):
        client.force_login(role_user(role, username=username))
        return client

    return make


def upload(client, data, name="b.xlsx", **fields):
    return client.post(
        reverse("admin:imports_importrecord_upload", args=["borrowers"]),
        {"file": SimpleUploadedFile(name, data), **fields},
    )


def test_upload_shows_every_row_s_fate_then_confirm_writes_the_valid_rows(logged_in):
    client = logged_in(roles.CREDIT_OFFICER)
    assert client.get(reverse("admin:imports_importrecord_start")).status_code == 200
    response = upload(client, xlsx_bytes(ROWS))
    record = ImportRecord.objects.get()
    assert response.status_code == 302 and record.state == ImportState.CHECKED
    page = client.get(response["Location"]).content.decode()
    assert "dry run: nothing was written" in page
    assert "<td>2</td><td>new</td>" in page and "<td>3</td><td>error</td>" in page
    assert BAD in page and not Borrower.objects.exists()
    # all-or-nothing by default: the confirm writes nothing
    client.post(response["Location"], {"sha256": record.sha256})
    record.refresh_from_db()
    assert record.state == ImportState.NOT_WRITTEN and not Borrower.objects.exists()
    # valid rows only, chosen explicitly
    client.post(response["Location"], {"sha256": record.sha256, "valid_rows_only": "on"})
    record.refresh_from_db()
    assert record.written and Borrower.objects.count() == 1
    errors = client.get(reverse("admin:imports_importrecord_errors", args=[record.pk]))
    assert errors.status_code == 200 and errors["Content-Disposition"].endswith('.errors.xlsx"')


def test_a_changed_sha_is_refused(logged_in):
    client = logged_in(roles.CREDIT_OFFICER)
    url = upload(client, csv_bytes(ROWS[:2]), name="b.csv")["Location"]
    response = client.post(url, {"sha256": "f" * 64}, follow=True)
    assert "changed since its dry run" in response.content.decode()
    assert not Borrower.objects.exists()


@pytest.mark.parametrize(
    "junk", [b"", b"\x00\xff" * 5000, b"PK\x03\x04junk", ("x" * 11_000_000).encode()]
)
def test_junk_gets_a_plain_error_on_the_form(logged_in, junk, settings):
    settings.IMPORTS_ASYNC_BYTES = 50_000_000  # checked inline, not on a worker
    response = upload(logged_in(roles.CREDIT_OFFICER), junk, name="junk.csv")
    assert response.status_code == 200  # the form again, with the reason
    assert b"errorlist" in response.content
    assert not Borrower.objects.exists()


def test_another_user_s_import_is_not_found(logged_in, role_user):
    client = logged_in(roles.CREDIT_OFFICER)
    url = upload(client, xlsx_bytes(ROWS[:2]))["Location"]
    record = ImportRecord.objects.get()
    client.force_login(role_user(roles.CREDIT_OFFICER, username="officer2"))
    assert client.get(url).status_code == 404
    assert client.post(url, {"sha256": record.sha256}).status_code == 404
    assert not Borrower.objects.exists()


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_forging_the_upload_and_the_template(logged_in, role_user, role):
    client = logged_in(role)
    allowed = may(client_user(client), "lending.add_borrower")
    response = upload(client, xlsx_bytes(ROWS[:2]))
    if allowed:
        assert response.status_code == 302 and ImportRecord.objects.count() == 1
    else:
        assert response.status_code == 403 and not ImportRecord.objects.exists()
    template = client.get(reverse("admin:imports_importrecord_template", args=["borrowers"]))
    assert template.status_code == 200
    assert not Borrower.objects.exists()


def client_user(client):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


def test_the_record_pages_are_read_only(admin_client):
    upload(admin_client, xlsx_bytes(ROWS[:2]))
    record = ImportRecord.objects.get()
    assert admin_client.get(reverse("admin:imports_importrecord_changelist")).status_code == 200
    assert (
        admin_client.get(reverse("admin:imports_importrecord_change", args=[record.pk])).status_code
        == 200
    )
    assert (
        admin_client.post(
            reverse("admin:imports_importrecord_delete", args=[record.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_a_large_upload_is_queued_and_the_page_shows_its_progress(logged_in, settings):
    settings.IMPORTS_ASYNC_BYTES = 10
    client = logged_in(roles.CREDIT_OFFICER)
    response = upload(client, xlsx_bytes(ROWS[:2]))
    record = ImportRecord.objects.get()
    assert record.state == ImportState.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page and "0 rows done" in page
