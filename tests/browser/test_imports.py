"""A spreadsheet import as the credit officer does it: from the start page to the upload, a dry
run that shows every row's fate and writes nothing, then the confirm that writes the valid rows."""

from datetime import date

import pytest

from imports.models import ImportRecord
from lending import roles
from lending.identity import generate_national_id
from lending.models import Borrower
from tests.imports.helpers import csv_bytes

pytestmark = pytest.mark.xdist_group("browser")

GOOD = [
    generate_national_id(date_of_birth=date(1988, 5, 1), sex="M", sequence=3),
    generate_national_id(date_of_birth=date(1993, 9, 9), sex="F", sequence=4),
]
BAD = GOOD[0][:-1] + ("0" if GOOD[0][-1] != "0" else "1")  # a wrong check digit


def test_a_dry_run_writes_nothing_and_the_confirm_writes_the_valid_rows(staff, login, tmp_path):
    officer = staff(roles.CREDIT_OFFICER, "officer")
    upload = tmp_path / "新借款人.csv"
    upload.write_bytes(
        csv_bytes(
            [
                ["姓名", "身份证号", "手机号"],
                ["赵敏", GOOD[0], "13700000001"],
                ["钱坤", BAD, "13700000002"],
                ["孙丽", GOOD[1], "13700000003"],
            ]
        )
    )
    page = login(officer)
    page.click("#content-main a[href$='/admin/imports/importrecord/']")
    page.click("text=New import")
    page.click("a[href$='/upload/borrowers/']")
    page.set_input_files("input[type=file]", str(upload))
    page.click("input[type=submit]")

    assert "dry run: nothing was written" in page.locator("#import-state").inner_text()
    fates = page.locator("#import-report tbody tr td:nth-child(2)").all_inner_texts()
    assert fates == ["new", "error", "new"]
    assert BAD in page.locator("#import-report tr.fate-error").inner_text()
    assert not Borrower.objects.exists()

    page.check("input[name=valid_rows_only]")
    page.click("#confirm input[type=submit]")
    assert page.locator("#confirm").count() == 0  # nothing left to confirm
    assert sorted(Borrower.objects.values_list("full_name", flat=True)) == ["孙丽", "赵敏"]
    assert ImportRecord.objects.get().written

    page.goto("/admin/lending/borrower/")
    listed = page.locator("#result_list").inner_text()
    assert "赵敏" in listed and "孙丽" in listed and "钱坤" not in listed
