"""/api/v1/imports/: upload with a dry run, confirm, the error file, templates, who may."""

import io
from datetime import date

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports.models import ImportRecord, ImportState
from lending import roles
from lending.access import may
from lending.identity import generate_national_id
from lending.models import Borrower
from tests.conftest import celery_configured
from tests.imports.helpers import csv_bytes

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/"
ID1 = generate_national_id(date_of_birth=date(1990, 3, 7), sex="M", sequence=1)
ID2 = generate_national_id(date_of_birth=date(1991, 3, 7), sex="F", sequence=2)
BAD = ID2[:-1] + ("0" if ID2[-1] != "0" else "1")
GOOD = [["name", "national_id", "mobile"], ["张三", ID1, "13800138000"]]
WITH_ERROR = [*GOOD, ["李四", BAD, "13800138001"]]


@pytest.fixture
def client_for(role_user):
    def make(role, username=None):
        user = role_user(role, username=username)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        client.user = user
        return client

    return make


def upload(client, rows, **fields):
    data = rows if isinstance(rows, bytes) else csv_bytes(rows)
    return client.post(
        URL,
        {"kind": "borrowers", "file": SimpleUploadedFile("b.csv", data), **fields},
        format="multipart",
    )


def test_upload_dry_runs_then_confirm_writes_the_same_bytes(client_for):
    officer = client_for(roles.CREDIT_OFFICER)
    checked = upload(officer, GOOD)
    assert checked.status_code == 200, checked.json()
    body = checked.json()
    assert (body["state"], body["new"], body["written"]) == ("checked", 1, False)
    assert body["report"] == [{"row": 2, "fate": "new", "column": "", "value": "", "message": ""}]
    assert not Borrower.objects.exists()
    wrong = officer.post(f"{URL}{body['id']}/confirm/", {"sha256": "0" * 64}, format="json")
    assert wrong.status_code == 400 and wrong.json()["errors"] == {
        "sha256": [wrong.json()["errors"]["sha256"][0]]
    }
    done = officer.post(f"{URL}{body['id']}/confirm/", {"sha256": body["sha256"]}, format="json")
    assert done.status_code == 201 and done.json()["written"] is True
    assert Borrower.objects.count() == 1
    again = officer.post(f"{URL}{body['id']}/confirm/", {"sha256": body["sha256"]}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"


def test_errors_come_back_as_rows_and_a_file(client_for):
    officer = client_for(roles.CREDIT_OFFICER)
    response = upload(officer, WITH_ERROR, dry_run=False)
    body = response.json()
    assert response.status_code == 201 and body["written"] is False and body["errors"] == 1
    [error] = [r for r in body["report"] if r["fate"] == "error"]
    assert (error["row"], error["column"], error["value"]) == (3, "national_id", BAD)
    errors = officer.get(f"{URL}{body['id']}/errors/")
    assert errors.status_code == 200 and "attachment" in errors["Content-Disposition"]
    text = errors.content.decode("utf-8-sig")
    assert BAD in text and "错误 error" in text
    assert not Borrower.objects.exists()


@pytest.mark.parametrize("junk", [b"", bytes(range(256)) * 10, b"a,b\n1,2\n"])
def test_a_refused_file_is_a_400_problem_naming_file(client_for, junk):
    response = upload(client_for(roles.CREDIT_OFFICER), junk)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert list(response.json()["errors"]) == ["file"]


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_forging_an_upload(client_for, role):
    client = client_for(role)
    response = upload(client, GOOD, dry_run=False)
    if may(client.user, "lending.add_borrower"):
        assert response.status_code == 201 and Borrower.objects.count() == 1
    else:
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
        assert not Borrower.objects.exists() and not ImportRecord.objects.exists()


def test_a_user_sees_only_their_own_imports(client_for):
    officer = client_for(roles.CREDIT_OFFICER)
    record = upload(officer, GOOD).json()
    other = client_for(roles.CREDIT_OFFICER, username="other-officer")
    assert other.get(f"{URL}{record['id']}/").status_code == 404
    assert (
        other.post(
            f"{URL}{record['id']}/confirm/", {"sha256": record["sha256"]}, format="json"
        ).status_code
        == 404
    )
    assert officer.get(f"{URL}{record['id']}/").json()["state"] == "checked"
    assert APIClient().get(f"{URL}{record['id']}/").status_code == 401


@pytest.mark.parametrize(
    "kind", ["borrowers", "loans", "repayments", "bureau", "agency_results", "agency_cases"]
)
def test_each_kind_has_an_xlsx_template_with_both_names(client_for, kind):
    response = client_for(roles.AUDITOR).get(f"{URL}templates/{kind}/")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    header = [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))]
    explained = list(book.worksheets[1].iter_rows(values_only=True))
    assert header == [row[0] for row in explained[1 : len(header) + 1]]
    assert all(row[1] for row in explained[1 : len(header) + 1])  # the Chinese name
    assert client_for(roles.AUDITOR, username="a2").get(f"{URL}templates/cats/").status_code == 404


def test_a_large_upload_runs_on_a_worker(client_for, settings, django_capture_on_commit_callbacks):
    settings.IMPORTS_ASYNC_BYTES = 10
    officer = client_for(roles.CREDIT_OFFICER)
    with (
        celery_configured(task_always_eager=True, result_backend="cache+memory://"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = upload(officer, GOOD, dry_run=False)
    assert response.status_code == 202 and response.json()["state"] == "queued"
    record = ImportRecord.objects.get()
    assert (record.state, record.written, record.progress) == (ImportState.WRITTEN, True, 1)
    assert Borrower.objects.count() == 1
