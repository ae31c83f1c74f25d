"""A small book: two loans a day late (each with its collection case, one per collector) and
one current loan, after the night of 16 September 2026 closed."""

from dataclasses import dataclass
from datetime import date

import pytest

from debt_collection.models import Case, Queue
from debt_collection.services.cases import case_reassign
from lending import roles
from lending.access import SYSTEM
from lending.models import BusinessDayRun, Loan
from tests.collections.helpers import FIRST_LATE_NIGHT, START
from tests.factories import BorrowerFactory
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import close


@dataclass
class Book:
    late: Loan  # 10,000.00 over 12 months, collector's case
    other_late: Loan  # 5,000.00, collector2's case
    current: Loan  # 3,000.00, first due after the night
    case: Case
    other_case: Case
    run: BusinessDayRun


@pytest.fixture
def collector(role_user):
    return role_user(roles.COLLECTOR, username="collector")


@pytest.fixture
def collector2(role_user):
    return role_user(roles.COLLECTOR, username="collector2")


@pytest.fixture
def book(db, collector, collector2) -> Book:
    Queue.objects.get(name="M1 early reminders").members.add(collector, collector2)
    late = active_loan(
        start=START,
        principal="10000.00",
        borrower=BorrowerFactory(full_name="张三", mobile="13912345678"),
    )
    other = active_loan(start=START, principal="5000.00", product=late.product)
    current = active_loan(start=date(2026, 9, 1), principal="3000.00", product=late.product)
    run = close(FIRST_LATE_NIGHT)
    for loan in (late, other, current):
        loan.refresh_from_db()
    case, other_case = Case.objects.get(loan=late), Case.objects.get(loan=other)
    case_reassign(case_ids=[case.pk], collector_id=collector.pk, reason="t", acting_user=SYSTEM)
    case_reassign(
        case_ids=[other_case.pk], collector_id=collector2.pk, reason="t", acting_user=SYSTEM
    )
    case.refresh_from_db()
    other_case.refresh_from_db()
    return Book(late, other, current, case, other_case, run)


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user
