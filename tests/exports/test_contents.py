"""What each export holds for a small book, read back as a user's spreadsheet program would
(csv module, openpyxl): money to the cent, dates ISO, the list's filters and selection kept,
headers in English and in Chinese."""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import translation

from lending import roles
from lending.close_of_business.exports import RunExport, RunStepExport
from lending.exports import LoanExport, OverdueExport, ScheduleExport, counts_text
from lending.models import BusinessDayStep, Installment, LoanStatus
from tests.exports.helpers import form_body, read, records, take

pytestmark = pytest.mark.django_db

MONEY = re.compile(r"^-?\d+\.\d{2}$")


@pytest.fixture
def finance(role_user, login):
    return login(role_user(roles.FINANCE))


def test_the_loans_list_as_csv(book, finance):
    rows = read(take(finance, "lending_loan", LoanExport))
    assert rows[0][:4] == ["reference", "borrower", "national ID", "mobile phone"]
    by_ref = {r["reference"]: r for r in records(rows)}
    assert set(by_ref) == {book.late.reference, book.other_late.reference, book.current.reference}
    late = by_ref[book.late.reference]
    assert late["borrower"] == "张三"
    assert late["principal"] == "10000.00"
    assert late["annual rate"] == "0.180000"
    assert late["disbursement date"] == "2026-08-15"
    assert late["next due date"] == "2026-09-15"
    assert (late["dpd"], late["bucket"], late["status"]) == ("1", "M1", "Active")
    # Every amount to the cent, and exactly what the loan's balances hold.
    for name in ("principal outstanding", "interest outstanding", "penalty outstanding"):
        assert MONEY.match(late[name]), late[name]
    assert Decimal(late["outstanding"]) == book.late.total_outstanding
    assert Decimal(late["penalty outstanding"]) == book.late.penalty_outstanding > 0


def test_the_loans_list_as_xlsx_keeps_numbers_and_dates_typed(book, finance):
    late = next(
        r
        for r in records(read(take(finance, "lending_loan", LoanExport, fmt="xlsx")))
        if r["reference"].value == book.late.reference
    )
    principal, outstanding = late["principal"], late["outstanding"]
    assert principal.data_type == "n" and principal.number_format == "0.00"
    assert Decimal(str(principal.value)) == Decimal("10000.00")
    assert Decimal(str(outstanding.value)).quantize(Decimal("0.01")) == (
        book.late.total_outstanding
    )
    due = late["next due date"]
    assert due.is_date and due.number_format == "yyyy-mm-dd"
    assert due.value.date() == date(2026, 9, 15)
    assert late["national ID"].value == book.late.borrower.masked_national_id


def test_headers_and_words_in_chinese_for_a_chinese_user(book, finance):
    response = finance.post(
        reverse("admin:lending_loan_export"),
        form_body(LoanExport),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    rows = read(response)
    assert rows[0][:8] == [
        *("贷款编号", "借款人", "身份证号", "手机号"),
        *("贷款产品", "状态", "币种", "本金"),
    ]
    assert {"逾期天数", "逾期阶段", "未还余额", "下一应还日期"} <= set(rows[0])
    late = next(r for r in records(rows) if r["贷款编号"] == book.late.reference)
    assert late["本金"] == "10000.00"  # numbers are not localised: the file stays machine-readable
    with translation.override("zh-hans"):
        active = str(LoanStatus.ACTIVE.label)
    assert late["状态"] == active != "Active"  # the status as the Chinese admin shows it


def test_the_export_is_what_the_list_shows_its_filters_and_search(book, finance):
    overdue = records(read(take(finance, "lending_loan", LoanExport, query="delinquency=overdue")))
    assert {r["reference"] for r in overdue} == {book.late.reference, book.other_late.reference}
    found = records(read(take(finance, "lending_loan", LoanExport, query="q=张三")))
    assert [r["reference"] for r in found] == [book.late.reference]


def test_export_selected_takes_only_the_ticked_loans(book, finance):
    changelist = reverse("admin:lending_loan_changelist")
    page = finance.post(
        changelist, {"action": "export_admin_action", ACTION_CHECKBOX_NAME: [book.current.pk]}
    )
    assert page.status_code == 200
    assert "Export 1 selected item." in page.content.decode()
    body = form_body(LoanExport, export_items=[str(book.current.pk)])
    rows = records(read(finance.post(reverse("admin:lending_loan_export"), body)))
    assert [r["reference"] for r in rows] == [book.current.reference]


def test_schedules_of_the_listed_loans_sum_to_their_principal(book, finance):
    rows = records(read(take(finance, "lending_loan", ScheduleExport, index=1, query="q=张三")))
    assert len(rows) == 12 and {r["reference"] for r in rows} == {book.late.reference}
    assert [r["number"] for r in rows] == [str(n) for n in range(1, 13)]
    assert sum(Decimal(r["principal"]) for r in rows) == Decimal("10000.00")
    stored = {i.seq: i for i in Installment.objects.filter(loan=book.late)}
    for row in rows:
        installment = stored[int(row["number"])]
        assert row["due date"] == installment.due_date.isoformat()
        assert Decimal(row["interest"]) == installment.interest_due
        assert Decimal(row["total"]) == installment.total_due
        assert Decimal(row["outstanding"]) == installment.outstanding
        assert all(MONEY.match(row[c]) for c in ("principal", "interest", "fee", "penalty"))
    assert rows[0]["due date"] == "2026-09-15" and rows[0]["settled on"] == ""


def test_the_overdue_list_holds_active_loans_past_due_with_what_is_overdue(book, finance):
    rows = records(read(take(finance, "lending_loan", OverdueExport, index=2)))
    assert {r["reference"] for r in rows} == {book.late.reference, book.other_late.reference}
    late = next(r for r in rows if r["reference"] == book.late.reference)
    assert (late["dpd"], late["bucket"], late["dpd as of"]) == ("1", "M1", "2026-09-16")
    first = Installment.objects.get(loan=book.late, seq=1)
    # The first installment, due 15 September, is what is late; collections measures the same.
    assert Decimal(late["overdue amount"]) == first.outstanding == book.case.overdue_amount
    assert MONEY.match(late["overdue amount"])
    assert Decimal(late["total outstanding"]) == book.late.total_outstanding


def test_nightly_runs_with_their_steps_counts_and_durations(book, role_user, login):
    analyst = login(role_user(roles.RISK_ANALYST))
    (run,) = records(read(take(analyst, "lending_businessdayrun", RunExport)))
    assert run["business date"] == "2026-09-16"
    assert (run["status"], run["loans newly overdue"]) == ("Done", "2")
    assert run["loans examined"] == str(book.run.loans_examined)
    assert MONEY.match(run["penalty accrued"])
    assert Decimal(run["penalty accrued"]) == book.run.accrual_total
    started = datetime.fromisoformat(run["started at"])
    # Local time with its offset (the site's zone, Asia/Shanghai), to the second.
    assert run["started at"].endswith("+08:00")
    assert started == book.run.started_at.replace(microsecond=0)
    steps = list(BusinessDayStep.objects.filter(run=book.run).order_by("position"))
    assert steps and run["steps"] == "; ".join(
        f"{s.name}: {s.seconds} s" + (f" ({counts_text(s.counts)})" if s.counts else "")
        for s in steps
    )

    rows = records(read(take(analyst, "lending_businessdayrun", RunStepExport, index=1)))
    assert [r["step"] for r in rows] == [s.name for s in steps]
    for row, step in zip(rows, steps, strict=True):
        assert row["business date"] == "2026-09-16"
        assert Decimal(row["seconds"]) == step.seconds
        assert row["counts"] == counts_text(step.counts)


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_written_as_text(book, finance):
    borrower = book.current.borrower
    borrower.full_name = '=HYPERLINK("http://evil.example","x")'
    borrower.save(update_fields=["full_name"])
    for fmt in ("csv", "xlsx"):
        rows = records(read(take(finance, "lending_loan", LoanExport, fmt=fmt)))
        names = [r["borrower"] if fmt == "csv" else r["borrower"].value for r in rows]
        assert "'" + borrower.full_name in names
        if fmt == "xlsx":
            assert all(r["borrower"].data_type == "s" for r in rows)
