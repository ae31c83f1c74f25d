"""The set-based SQL night (PostgreSQL) against the portable one built on the pure modules.

The portable path is the pure `lending.delinquency` and `lending.penalty` rules applied row by
row; the SQL must write exactly what it writes — dpd, buckets and their moves, every accrual and
line, the exact accrual (Σ base × rate × days) and posted penalty, the loans' cached balances —
for any mix of penalty options, partial payments, grace, cap kinds and catch-up nights. Each day
of a catch-up is charged on that day's base, so payments are valued on the due date, inside
grace (a catch-up counted from the due date crosses them) and after the dates being closed (a
late night), and both paths close every date, the first included.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lending.access import SYSTEM
from lending.close_of_business import lending_steps
from lending.close_of_business.runner import close_business_days
from lending.services.repayments import repayment_post, repayment_reverse
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import (
    assert_one_accrual_per_loan_day,
    book_snapshot,
    close,
    rolled_back,
)

pytestmark = pytest.mark.django_db

D = Decimal

loan_specs = st.fixed_dictionaries(
    {
        "start_day": st.integers(1, 28),
        "rate": st.sampled_from([D("0.08"), D("0.1499"), D("0.18")]),
        "day_count": st.sampled_from(["act360", "act365f", "30_360"]),
        "paid": st.sampled_from([None, "1.00", "333.33", "900.00"]),
        # Valued on the due date; two days after it (inside grace when there are 2 days or more,
        # and inside the first night's catch-up from the due date either way); or after the
        # first two nights closed (posted before them: each is a late night for it).
        "paid_on": st.sampled_from(["due", "in_grace", "late"]),
        # The payment bounces after the missed stretch: the penalty of the days it stood is due.
        "reversed": st.booleans(),
        "tolerance": st.sampled_from([D("0.00"), D("1.00"), D("50.00")]),
        "grace_days": st.integers(0, 5),
        "penalty": st.sampled_from(
            [("contract_multiple", D("1.5")), ("absolute", D("0.36")), ("absolute", D("0.2433"))]
        ),
        "penalty_base": st.sampled_from(["overdue_principal", "overdue_principal_interest"]),
        "penalty_start": st.sampled_from(["due_date", "grace_end"]),
        # Caps low enough to be reached within the nights closed, and the LPR multiple.
        "cap": st.sampled_from(
            [
                ("fixed", D("0.36")),
                ("fixed", D("0.101")),
                ("fixed", D("0.0905")),
                ("lpr_multiple", D("4")),
                ("lpr_multiple", D("2.2")),
            ]
        ),
    }
)


def spec(**changes) -> dict:
    base = {
        "start_day": 15,
        "rate": D("0.18"),
        "day_count": "act365f",
        "paid": None,
        "paid_on": "due",
        "reversed": False,
        "tolerance": D("1.00"),
        "grace_days": 3,
        "penalty": ("absolute", D("0.36")),
        "penalty_base": "overdue_principal",
        "penalty_start": "due_date",
        "cap": ("fixed", D("0.36")),
    }
    return base | changes


@settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(loan_specs, min_size=1, max_size=4),
    catch_up_days=st.sampled_from([1, 15, 50]),
    late_nights=st.integers(0, 5),
)
# The cap reached in the middle of a catch-up (8.39 of room at 18 %: about 15 days of penalty),
# one loan partly paid under each base, and the LPR multiple on two contract dates.
@example(
    specs=[
        spec(cap=("fixed", D("0.101"))),
        spec(start_day=3, paid="333.33", grace_days=0),
        spec(start_day=10, paid="333.33", reversed=True),
    ],
    catch_up_days=50,
    late_nights=2,
)
@example(
    specs=[
        spec(penalty_base="overdue_principal_interest", paid="900.00", penalty_start="grace_end"),
        spec(rate=D("0.08"), cap=("lpr_multiple", D("2.2")), day_count="act360", start_day=28),
    ],
    catch_up_days=15,
    late_nights=3,
)
# Each day's base on both paths: a partial payment inside grace that ends after the first night
# (due 28 September, grace 3: the 2nd of October catches up 4 days across the payment of the
# 30th), one inside the first night's catch-up under each base, one bounced, and one valued on
# 2 October, posted before the nights of 30 September and 1 October are closed.
@example(
    specs=[
        spec(start_day=28, paid="333.33", paid_on="in_grace"),
        spec(
            start_day=5,
            paid="333.33",
            paid_on="in_grace",
            penalty_base="overdue_principal_interest",
        ),
        spec(start_day=12, paid="333.33", paid_on="in_grace", grace_days=5, reversed=True),
        spec(start_day=20, paid="333.33", paid_on="late", grace_days=0, day_count="act360"),
    ],
    catch_up_days=1,
    late_nights=3,
)
def test_the_sql_night_writes_what_the_pure_rules_write(
    postgres, monkeypatch, specs, catch_up_days, late_nights
):
    first_night = date(2026, 9, 30)
    caught_up = first_night + timedelta(days=catch_up_days)
    value_dates = {
        "due": lambda loan: loan.first_due_date,
        "in_grace": lambda loan: loan.first_due_date + timedelta(days=2),
        "late": lambda loan: first_night + timedelta(days=2),
    }

    def example():
        bounced = []
        for spec in specs:
            rate_type, rate_value = spec["penalty"]
            cap_type, cap_value = spec["cap"]
            loan = active_loan(
                start=date(2026, 8, spec["start_day"]),
                rate=str(spec["rate"]),
                arrears_tolerance=spec["tolerance"],
                grace_days=spec["grace_days"],
                penalty_rate_type=rate_type,
                penalty_rate_value=rate_value,
                penalty_base=spec["penalty_base"],
                penalty_start=spec["penalty_start"],
                cost_cap_type=cap_type,
                cost_cap_value=cap_value,
                day_count=spec["day_count"],
            )
            if spec["paid"]:
                payment = repayment_post(
                    loan_id=loan.pk,
                    amount=spec["paid"],
                    value_date=value_dates[spec["paid_on"]](loan),
                    acting_user=SYSTEM,
                ).transaction
                # 900.00 can exceed the installment at 8 %: its leftover credit is spent by the
                # night, and such a payment is not reversible (tested in test_repayments).
                if spec["reversed"] and spec["paid"] != "900.00":
                    bounced.append(payment.pk)

        def nights(set_based):
            monkeypatch.setattr(lending_steps, "set_based_sql", lambda: set_based)
            # The first close of a book takes any date (each loan catches up from its due date:
            # the payments inside grace fall in it); then day by day.
            close(first_night)
            close_business_days(until=caught_up, acting_user=SYSTEM)  # a missed stretch at once
            for payment_id in bounced:
                repayment_reverse(transaction_id=payment_id, reason="bounced", acting_user=SYSTEM)
            for n in range(1, late_nights + 1):
                close(caught_up + timedelta(days=n))
            assert_one_accrual_per_loan_day()  # inside: the rollback would hide a double posting
            return book_snapshot()

        sql, rows = rolled_back(lambda: nights(True)), rolled_back(lambda: nights(False))
        assert sql == rows
        assert all(run[1] == "done" for run in sql["runs"])

    rolled_back(example)
