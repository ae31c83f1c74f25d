"""Importing borrowers: created or updated through the borrower services, row by row."""

from datetime import date
from decimal import Decimal

import pytest

from imports.engine import Fate
from imports.models import ImportRecord, ImportState
from imports.reading import read_table
from imports.registry import get_kind
from lending import roles
from lending.identity import generate_national_id
from lending.models import AuditEvent, Borrower, EmergencyContact
from tests.imports.helpers import csv_bytes, fates, run

pytestmark = pytest.mark.django_db

ID1 = generate_national_id(date_of_birth=date(1990, 3, 7), sex="M", sequence=1)
ID2 = generate_national_id(date_of_birth=date(1985, 6, 1), sex="F", sequence=2)
ID3 = generate_national_id(date_of_birth=date(1979, 12, 31), sex="M", sequence=3)
BAD_ID = ID3[:-1] + ("0" if ID3[-1] != "0" else "1")
HEADER = ["姓名", "身份证号", "手机号", "月收入", "单位", "联系人", "关系", "联系人手机号"]


def rows(*extra):
    return [
        HEADER,
        ["张三", ID1, "13800138000", "￥12,000", "某某科技", "李四", "配偶", "13900139000"],
        ["王芳", ID2, "+86 139 0000 0001", "８，５００．００元", "", "", "", ""],
        *extra,
    ]


@pytest.fixture
def officer(role_user):
    return role_user(roles.CREDIT_OFFICER)


def test_new_borrowers_are_created_with_their_emergency_contact(officer):
    record, result = run("borrowers", rows(), officer)
    assert fates(result) == [(2, "new"), (3, "new")]
    zhang = Borrower.objects.get(full_name="张三")
    assert zhang.national_id == ID1 and zhang.monthly_income == Decimal("12000.00")
    assert zhang.date_of_birth == date(1990, 3, 7)  # from the ID, as the service does
    contact = EmergencyContact.objects.get(borrower=zhang)
    assert (contact.name, contact.relation, contact.phone) == ("李四", "spouse", "13900139000")
    assert Borrower.objects.get(full_name="王芳").mobile == "13900000001"
    assert (record.state, record.new, record.written) == (ImportState.WRITTEN, 2, True)
    assert record.created_by == officer
    assert AuditEvent.objects.filter(action="borrower.create", actor=officer).count() == 2


def test_the_same_file_twice_creates_nothing_new(officer):
    run("borrowers", rows(), officer)
    counts = (Borrower.objects.count(), EmergencyContact.objects.count())
    record, result = run("borrowers", rows(), officer)
    assert fates(result) == [(2, "skip"), (3, "skip")]
    assert (Borrower.objects.count(), EmergencyContact.objects.count()) == counts
    assert (record.new, record.updated, record.skipped) == (0, 0, 2)


def test_a_known_national_id_updates_the_cells_given_and_adds_a_contact(officer):
    run("borrowers", rows(), officer)
    changed = [HEADER, ["", ID2, "", "9,000", "新单位", "赵六", "朋友", "13700137000"]]
    _, result = run("borrowers", changed, officer)
    assert fates(result) == [(2, "update")]
    wang = Borrower.objects.get(
        national_id_digest=Borrower.objects.get(full_name="王芳").national_id_digest
    )
    assert (wang.monthly_income, wang.employer, wang.mobile) == (
        Decimal("9000.00"),
        "新单位",
        "13900000001",
    )
    assert wang.emergency_contacts.get().relation == "friend"


def test_an_error_names_row_column_value_and_what_was_expected_and_nothing_is_written(officer):
    record, result = run(
        "borrowers", rows(["赵七", BAD_ID, "13800000009", "", "", "", "", ""]), officer
    )
    assert not result.written and Borrower.objects.count() == 0
    [error] = result.errors
    assert (error.row, error.column, error.value) == (4, "身份证号", BAD_ID)
    assert "check" in error.message.lower()
    assert error.sentence().startswith("row 4, column 身份证号: ")
    assert record.state == ImportState.NOT_WRITTEN and record.errors == 1
    # the rows without errors were fine: a dry run's counts say what would be written
    assert (record.new, record.written) == (2, False)


def test_valid_rows_only_writes_the_others(officer):
    _, result = run(
        "borrowers",
        rows(["赵七", BAD_ID, "13800000009", "", "", "", "", ""]),
        officer,
        valid_rows_only=True,
    )
    assert result.written and fates(result) == [(2, "new"), (3, "new"), (4, "error")]
    assert Borrower.objects.count() == 2


def test_a_dry_run_writes_nothing_and_shows_each_row_s_fate(officer):
    audit = AuditEvent.objects.count()
    record, result = run("borrowers", rows(), officer, dry_run=True)
    assert fates(result) == [(2, "new"), (3, "new")]
    assert not result.written
    assert Borrower.objects.count() == 0 and EmergencyContact.objects.count() == 0
    assert AuditEvent.objects.count() == audit
    assert record.state == ImportState.CHECKED and record.report[0]["fate"] == "new"


def test_a_key_seen_earlier_in_the_file_is_a_duplicate_or_an_error(officer):
    same = ["张三", ID1, "13800138000", "￥12,000", "某某科技", "李四", "配偶", "13900139000"]
    other = ["张三", ID1, "13800138000", "15000", "某某科技", "李四", "配偶", "13900139000"]
    _, result = run("borrowers", rows(same, other), officer, valid_rows_only=True)
    assert fates(result) == [(2, "new"), (3, "new"), (4, "duplicate"), (5, "error")]
    assert "row 2" in result.results[3].message and "月收入" in result.results[3].message
    assert Borrower.objects.get(full_name="张三").monthly_income == Decimal("12000.00")


def test_the_error_file_round_trips(officer):
    record, result = run(
        "borrowers", rows(["赵七", BAD_ID, "13800000009", "", "", "", "", ""]), officer
    )
    error_file = bytes(ImportRecord.objects.get(pk=record.pk).error_file)
    table = read_table(error_file, get_kind("borrowers").specs())
    assert table.headers == [*HEADER, "错误 error"]
    [(number, cells)] = table.rows
    assert number == 2 and cells[1] == BAD_ID and "身份证号" in cells[-1]
    cells[1] = ID3  # the fix
    fixed = csv_bytes([table.headers, cells])
    from imports.services import import_file

    again, result = import_file(
        kind="borrowers", file_name="fixed.csv", data=fixed, acting_user=officer
    )
    assert fates(result) == [(2, "new")] and again.written
    assert Borrower.objects.filter(full_name="赵七").exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_excel_numbers_for_ids_and_phones_are_read_whole(officer, fmt):
    data = [HEADER, ["张三", ID1, 13800138000, 12000.5, "", "李四", "spouse", 13900139000.0]]
    _, result = run("borrowers", data, officer, fmt=fmt)
    assert fates(result) == [(2, "new")]
    assert Borrower.objects.get().monthly_income == Decimal("12000.50")


def test_a_blank_required_cell_for_a_new_borrower(officer):
    _, result = run("borrowers", [HEADER, ["", ID1, "13800138000", "", "", "", "", ""]], officer)
    [error] = result.errors
    assert (error.column, error.message) == ("姓名", "is required for a new borrower")


def test_a_half_given_emergency_contact_is_an_error(officer):
    _, result = run(
        "borrowers", [HEADER, ["张三", ID1, "13800138000", "", "", "李四", "", ""]], officer
    )
    assert result.errors[0].column == "关系"


def test_fates_are_the_engine_s():
    assert {f.value for f in Fate} == {"new", "update", "skip", "duplicate", "error"}
