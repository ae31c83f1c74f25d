"""A bank statement imported as finance does it, in Chinese at 1440 px: the repayments kind runs
through the batch door (chunks of 500 written while the next is worked out), so the dry run, the
row fates and the confirm must read exactly as for any other kind."""

from datetime import date
from pathlib import Path

import pytest

from imports.models import ImportRecord
from lending import roles
from lending.models import Transaction, TransactionKind
from tests.browser.test_chinese import switch_to_chinese
from tests.imports.helpers import csv_bytes
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.xdist_group("browser")
SHOTS = Path("var/browser")


def test_a_statement_dry_run_then_confirm_posts_the_valid_rows(staff, login, tmp_path):
    cashier = staff(roles.FINANCE, "cashier")
    loans = [active_loan(start=date(2026, 1, 15)) for _ in range(2)]
    upload = tmp_path / "银行流水.csv"
    upload.write_bytes(
        csv_bytes(
            [
                ["贷款编号", "还款金额", "还款日期", "渠道", "流水号"],
                [loans[0].reference, "¥916.80", "2026年2月15日", "bank", "BS-1"],
                ["LN-NO-SUCH", "100.00", "2026-02-15", "bank", "BS-2"],
                [loans[1].reference, "500", "2026/02/16", "bank", "BS-3"],
            ]
        )
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = login(cashier)
    switch_to_chinese(page)  # as staff do: the language menu
    page.goto("/admin/imports/importrecord/")
    page.click("a[href$='/admin/imports/importrecord/start/']")
    page.click("a[href$='/upload/repayments/']")
    page.set_input_files("input[type=file]", str(upload))
    page.click("input[type=submit]")

    fates = page.locator("#import-report tbody tr td:nth-child(2)").all_inner_texts()
    assert fates == ["新增", "错误", "新增"]
    assert "LN-NO-SUCH" in page.locator("#import-report tr.fate-error").inner_text()
    assert not Transaction.objects.filter(kind=TransactionKind.REPAYMENT).exists()
    page.screenshot(path=str(SHOTS / "repayment-import-dry-run-zh.png"), full_page=True)

    page.check("input[name=valid_rows_only]")
    page.click("#confirm input[type=submit]")
    assert page.locator("#confirm").count() == 0
    posted = Transaction.objects.filter(kind=TransactionKind.REPAYMENT).order_by("loan_id")
    assert [(t.loan_id, str(t.amount), t.idempotency_key) for t in posted] == [
        (loans[0].pk, "916.80", "BS-1"),
        (loans[1].pk, "500.00", "BS-3"),
    ]
    assert ImportRecord.objects.get().written
    page.screenshot(path=str(SHOTS / "repayment-import-written-zh.png"), full_page=True)
