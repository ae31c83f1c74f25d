"""Reminders: written by the night at each offset from the due date, once per installment and
kind however often the date is re-run; their facts are the contract's."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from debt_collection.models import Case, Reminder, ReminderKind, ReminderState
from debt_collection.services.reminders import reminder_write
from lending.models import BusinessDayStep
from tests.collections.helpers import START
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import close

pytestmark = pytest.mark.django_db

DUE = date(2026, 9, 15)  # the first installment of a loan disbursed on START


def write(business_date):
    with transaction.atomic():
        return reminder_write(business_date=business_date)


def kinds_by_night(first, last):
    found = {}
    day = first
    while day <= last:
        before = set(Reminder.objects.values_list("pk", flat=True))
        write(day)
        new = Reminder.objects.exclude(pk__in=before)
        found[day] = sorted(new.values_list("kind", flat=True))
        day += timedelta(days=1)
    return found


def test_the_night_before_the_send_day_writes_each_offset_once():
    active_loan(start=START)
    found = kinds_by_night(DUE - timedelta(days=6), DUE + timedelta(days=9))
    # The night that closes D writes for the next morning, D + 1: 3 days before the due date,
    # on it, 1 and 7 days after it — and on no other night.
    assert {d: k for d, k in found.items() if k} == {
        DUE - timedelta(days=4): [ReminderKind.BEFORE_DUE],
        DUE - timedelta(days=1): [ReminderKind.DUE_TODAY],
        DUE: [ReminderKind.OVERDUE_1],
        DUE + timedelta(days=6): [ReminderKind.OVERDUE_7],
    }
    sends = dict(Reminder.objects.values_list("kind", "send_on"))
    assert sends == {
        ReminderKind.BEFORE_DUE: DUE - timedelta(days=3),
        ReminderKind.DUE_TODAY: DUE,
        ReminderKind.OVERDUE_1: DUE + timedelta(days=1),
        ReminderKind.OVERDUE_7: DUE + timedelta(days=7),
    }


def test_re_running_the_nights_writes_nothing_twice():
    active_loan(start=START)
    kinds_by_night(DUE - timedelta(days=4), DUE + timedelta(days=6))
    again = kinds_by_night(DUE - timedelta(days=4), DUE + timedelta(days=6))
    assert not any(again.values())
    assert Reminder.objects.count() == 4
    assert write(DUE)["reminders_written"] == 0


def test_a_paid_installment_gets_no_reminder():
    from lending.access import SYSTEM
    from lending.services.repayments import repayment_post

    paid = active_loan(start=START)
    due = paid.installments.get(seq=1)
    repayment_post(
        loan_id=paid.pk,
        amount=due.outstanding,
        value_date=DUE - timedelta(days=5),
        acting_user=SYSTEM,
        idempotency_key="pay-first",
    )
    assert write(DUE - timedelta(days=4)) == {"reminders_written": 0}


def test_the_facts_are_the_contracts():
    loan = active_loan(
        start=START,
        rate="0.12",
        penalty_rate_value=Decimal("1.5"),
        grace_days=3,
        penalty_start="grace_end",
        cost_cap_value=Decimal("0.24"),
    )
    write(DUE - timedelta(days=4))
    reminder = Reminder.objects.get()
    installment = loan.installments.get(seq=1)
    assert reminder.amount_due == installment.outstanding
    assert reminder.penalty_rate == Decimal("0.180000")  # 12 % × 1.5
    assert reminder.grace_until == DUE + timedelta(days=3)
    assert reminder.penalty_from == DUE + timedelta(days=3)  # counted from the end of grace
    assert reminder.cost_cap_rate == Decimal("0.240000")
    assert reminder.time_zone == "Asia/Shanghai"
    assert reminder.language == "zh-hans"
    assert reminder.state == ReminderState.PENDING


def test_an_overdue_reminder_takes_the_case_time_zone_and_skips_what_tolerance_ignores():
    late = active_loan(start=START)
    close(DUE + timedelta(days=1))  # dpd 1: the case opens
    Case.objects.filter(loan=late).update(time_zone="America/New_York")
    write(DUE + timedelta(days=6))
    assert Reminder.objects.get(kind=ReminderKind.OVERDUE_7).time_zone == "America/New_York"


def test_the_close_of_business_runs_the_step():
    active_loan(start=START)
    run = close(DUE - timedelta(days=4))
    step = BusinessDayStep.objects.get(run=run, name="reminder_write")
    assert step.counts == {"reminders_written": 1}
    assert Reminder.objects.get().kind == ReminderKind.BEFORE_DUE
