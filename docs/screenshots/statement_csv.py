"""Write a bank statement of repayments for capture_imports.py to upload, from the demo book in
DATABASE_URL: GB18030, a bank's title rows above the header, three active loans paying their next
instalment today and one line naming a loan that does not exist (an error row to show).

    DATABASE_URL=sqlite:///… DEBUG=1 SECRET_KEY=x .venv/bin/python \
        docs/screenshots/statement_csv.py OUT.csv
"""

import csv
import io
import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.utils import timezone  # noqa: E402

from lending.models import Loan  # noqa: E402


def main(out: str) -> None:
    today = timezone.localdate()
    rows = [["某某银行 账户交易明细"], ["账号: 6222 **** **** 0001", f"导出日期: {today}"], []]
    rows.append(["贷款编号", "还款金额", "交易日期", "交易流水号"])
    loans = Loan.objects.filter(status="active").order_by("pk")[:3]
    for n, loan in enumerate(loans, start=1):
        due = loan.installments.filter(settled_on__isnull=True).order_by("seq").first()
        amount = due.principal_due + due.interest_due + due.fee_due if due else "100.00"
        rows.append([loan.reference, f"{amount:,}", f"{today:%Y年%m月%d日}", f"SHOT{n:06d}"])
    rows.append(["LN99999999", "500.00", f"{today:%Y-%m-%d}", "SHOT999999"])
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    Path(out).write_bytes(text.getvalue().encode("gb18030"))


if __name__ == "__main__":
    main(sys.argv[1])
