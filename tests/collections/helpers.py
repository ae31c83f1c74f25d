"""Collections tests build their world through lending's services and the nightly close."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from debt_collection.models import Case, CaseStatus, Queue
from debt_collection.services.cases import case_reassign
from lending.access import SYSTEM
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


def assigned_case(*collectors) -> Case:
    """An overdue loan's open case in the M1 queue, whose members are `collectors`, handed to
    the first of them."""
    (loan,) = overdue_loans()
    case = open_case(loan)
    Queue.objects.get(name="M1 early reminders").members.add(*collectors)
    case_reassign(case_ids=[case.pk], collector_id=collectors[0].pk, reason="t", acting_user=SYSTEM)
    case.refresh_from_db()
    return case


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)
