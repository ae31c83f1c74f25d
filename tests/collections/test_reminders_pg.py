"""The set-based reminder step (one INSERT … SELECT per kind, PostgreSQL) writes exactly what
the portable path writes, over nights with every offset, a prepayment held as credit, a paid
installment, an LPR-multiple cap, a grace-end penalty start and a case in another time zone."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from debt_collection.models import Case, Reminder
from debt_collection.services import reminders
from lending.access import SYSTEM
from lending.services.repayments import repayment_post
from tests.collections.helpers import START
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import close_each, rolled_back

pytestmark = pytest.mark.django_db

FIELDS = (
    "installment_id",
    "kind",
    "language",
    "business_date",
    "send_on",
    "time_zone",
    "due_date",
    "amount_due",
    "currency",
    "penalty_rate",
    "penalty_from",
    "grace_until",
    "cost_cap_rate",
    "state",
)


def test_the_sql_reminder_step_writes_what_the_rows_path_writes(postgres, monkeypatch):
    loans = [active_loan(start=START + timedelta(days=n)) for n in range(4)]
    loans.append(
        active_loan(
            start=START,
            cost_cap_type="lpr_multiple",
            cost_cap_value=Decimal("4"),
            penalty_rate_type="absolute",
            penalty_rate_value=Decimal("0.2"),
            penalty_start="grace_end",
            grace_days=3,
        )
    )
    monkeypatch.setattr(reminders, "CHUNK", 2)  # several chunks a night on the rows path

    def story(set_based):
        monkeypatch.setattr(reminders, "set_based_sql", lambda: set_based)
        repayment_post(
            loan_id=loans[1].pk, amount="300.00", value_date=date(2026, 9, 1), acting_user=SYSTEM
        )  # ahead of the due date: a credit balance
        repayment_post(
            loan_id=loans[2].pk,
            amount=loans[2].installments.get(seq=1).outstanding,
            value_date=date(2026, 9, 16),
            acting_user=SYSTEM,
        )
        close_each(date(2026, 9, 10), date(2026, 9, 20))
        Case.objects.filter(loan=loans[3]).update(time_zone="Europe/Berlin")
        close_each(date(2026, 9, 21), date(2026, 9, 26))
        return sorted(Reminder.objects.values_list(*FIELDS))

    sql, rows = rolled_back(lambda: story(True)), rolled_back(lambda: story(False))
    assert sql == rows
    assert {r[1] for r in sql} == {"before_due", "due_today", "overdue_1", "overdue_7"}
    assert any(r[5] == "Europe/Berlin" for r in sql)
    assert any(r[12] not in (None, Decimal("0.240000")) for r in sql)  # 4 × LPR
