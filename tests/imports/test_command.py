"""`manage.py import_data`: the JSON line, the exit codes, the acting user."""

import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from imports.models import ImportRecord
from lending import roles
from lending.identity import generate_national_id
from lending.models import Borrower
from tests.imports.helpers import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

ID1 = generate_national_id(date_of_birth=date(1990, 3, 7), sex="M", sequence=1)
ID2 = generate_national_id(date_of_birth=date(1991, 3, 7), sex="F", sequence=2)
BAD = ID2[:-1] + ("0" if ID2[-1] != "0" else "1")
GOOD = [["name", "national_id", "mobile"], ["张三", ID1, "13800138000"]]
WITH_ERROR = [*GOOD, ["李四", BAD, "13800138001"]]


@pytest.fixture
def officer(role_user):
    return role_user(roles.CREDIT_OFFICER, username="officer1")


def command(tmp_path, rows, *flags, fmt="csv", user="officer1"):
    path = tmp_path / f"file.{fmt}"
    path.write_bytes(
        rows
        if isinstance(rows, bytes)
        else (xlsx_bytes(rows) if fmt == "xlsx" else csv_bytes(rows))
    )
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command(
            "import_data", "borrowers", str(path), "--user", user, *flags, stdout=out, stderr=err
        )
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_json_ends_with_the_issue_s_line(tmp_path, officer, fmt):
    code, out, _ = command(tmp_path, GOOD, "--json", fmt=fmt)
    assert code == 0
    line = json.loads(out.strip().splitlines()[-1])
    assert line == {
        "kind": "borrowers",
        "rows": 1,
        "new": 1,
        "updated": 0,
        "skipped": 0,
        "duplicates": 0,
        "errors": [],
        "written": True,
    }
    assert Borrower.objects.get().full_name == "张三"
    assert ImportRecord.objects.get().created_by == officer


def test_an_error_row_writes_nothing_and_exits_1(tmp_path, officer):
    code, out, _ = command(tmp_path, WITH_ERROR, "--json")
    line = json.loads(out.strip().splitlines()[-1])
    assert code == 1 and line["written"] is False and line["new"] == 1
    assert line["errors"] == [
        {"row": 3, "column": "national_id", "value": BAD, "message": line["errors"][0]["message"]}
    ]
    assert not Borrower.objects.exists()


def test_a_dry_run_with_errors_exits_1_and_without_exits_0(tmp_path, officer):
    assert command(tmp_path, WITH_ERROR, "--dry-run")[0] == 1
    code, out, _ = command(tmp_path, GOOD, "--dry-run", "--json")
    line = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and line["new"] == 1 and line["written"] is False
    assert not Borrower.objects.exists()


def test_valid_rows_only_writes_and_exits_0(tmp_path, officer):
    code, out, _ = command(tmp_path, WITH_ERROR, "--valid-rows-only")
    assert code == 0 and Borrower.objects.count() == 1
    assert "row 3, column national_id" in out


@pytest.mark.parametrize(
    "junk", [b"", b"\x00\x01\x02binary" * 100, "名字,电话\n张三,1\n".encode("gb18030")]
)
def test_a_refused_file_exits_1_with_the_reason(tmp_path, officer, junk):
    code, out, _err = command(tmp_path, junk, "--json")
    line = json.loads(out.strip().splitlines()[-1])
    assert code == 1 and line["written"] is False and line["errors"][0]["message"]
    with pytest.raises(CommandError, match="refused"):
        call_command(
            "import_data",
            "borrowers",
            str(tmp_path / "file.csv"),
            "--user",
            "officer1",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


def test_a_user_without_the_permission_is_refused(tmp_path, role_user):
    role_user(roles.FINANCE, username="cashier")
    code, out, _ = command(tmp_path, GOOD, "--json", user="cashier")
    assert code == 1 and "permission" in json.loads(out.splitlines()[-1])["errors"][0]["message"]
    assert not Borrower.objects.exists()


def test_an_unknown_kind_or_user(tmp_path, officer):
    path = tmp_path / "f.csv"
    path.write_bytes(csv_bytes(GOOD))
    with pytest.raises(CommandError, match="no user"):
        call_command("import_data", "borrowers", str(path), "--user", "nobody")
    with pytest.raises(CommandError, match="no import kind"):
        call_command(
            "import_data",
            "cats",
            str(path),
            "--user",
            "officer1",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
