"""Collections tests build their world through lending's services and the nightly close."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from debt_collection.models import Case, CaseStatus
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import close

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = date(2026, 8, 15)  # first installment due 15 September
FIRST_LATE_NIGHT = date(2026, 9, 16)  # dpd 1


def overdue_loans(n=1, **kwargs):
    """`n` loans whose first installment falls due unpaid, and the night that makes them late:
    each gets its case."""
    loans = [active_loan(start=START, **kwargs) for _ in range(n)]
    close(FIRST_LATE_NIGHT)
    for loan in loans:
        loan.refresh_from_db()
    return loans


def open_case(loan) -> Case:
    return Case.objects.get(loan=loan, status=CaseStatus.OPEN)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)
