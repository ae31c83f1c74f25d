"""The set-based SQL case step (PostgreSQL) writes exactly what the portable path writes:
cases opened, updated, closed (cured, paid off, written off), reopened, assigned."""

from datetime import date, timedelta

import pytest

from debt_collection.models import Case, CaseAssignment, Queue
from debt_collection.services import nightly
from lending import roles
from lending.access import SYSTEM
from lending.models import Installment
from lending.services.ledger import loan_installments, lock_loan, payoff_for
from lending.services.loans import loan_write_off
from lending.services.repayments import repayment_post, repayment_reverse
from tests.collections.helpers import FIRST_LATE_NIGHT, START, local
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import close, close_each, rolled_back

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "cases": sorted(
            Case.objects.values_list(
                "loan_id",
                "status",
                "close_reason",
                "opened_on",
                "closed_on",
                "dpd",
                "bucket",
                "overdue_amount",
                "total_outstanding",
                "queue_id",
                "collector_id",
                "priority",
                "priority_parts",
                "updated_on",
            )
        ),
        "assignments": sorted(
            CaseAssignment.objects.values_list(
                "case__loan_id", "queue_id", "collector_id", "from_collector_id", "business_date"
            )
        ),
    }


def test_the_sql_case_step_writes_what_the_rows_path_writes(postgres, monkeypatch, role_user):
    team = [role_user(roles.COLLECTOR, username=f"pg{n}") for n in range(2)]
    Queue.objects.get(name="M1 early reminders").members.add(*team)
    loans = [active_loan(start=START + timedelta(days=max(n - 3, 0))) for n in range(8)]

    def story(set_based):
        monkeypatch.setattr(nightly, "set_based_sql", lambda: set_based)
        close(FIRST_LATE_NIGHT)
        cured = repayment_post(
            loan_id=loans[0].pk,
            amount=Installment.objects.get(loan=loans[0], seq=1).outstanding,
            value_date=FIRST_LATE_NIGHT,
            acting_user=SYSTEM,
        ).transaction
        quote = payoff_for(lock_loan(loans[1].pk), loan_installments(loans[1]), FIRST_LATE_NIGHT)
        repayment_post(
            loan_id=loans[1].pk,
            amount=quote.amount,
            value_date=FIRST_LATE_NIGHT,
            acting_user=SYSTEM,
        )
        loan_write_off(
            loan_id=loans[2].pk, reason="lost", value_date=FIRST_LATE_NIGHT, acting_user=SYSTEM
        )
        repayment_post(
            loan_id=loans[3].pk, amount="100.00", value_date=FIRST_LATE_NIGHT, acting_user=SYSTEM
        )
        close_each(FIRST_LATE_NIGHT + timedelta(days=1), FIRST_LATE_NIGHT + timedelta(days=3))
        # What people do between nights: a contact logged just after local midnight (the days
        # since it are counted in the borrower's time zone, not UTC), a broken promise, a case
        # sent to an outside agency, a collector who leaves the queue (their cases move on).
        contacted = local(*(FIRST_LATE_NIGHT + timedelta(days=2)).timetuple()[:3], 0, 30)
        Case.objects.filter(loan=loans[4], status="open").update(
            last_contact_at=contacted, broken_promises=1
        )
        Case.objects.filter(loan=loans[5], status="open").update(
            queue=Queue.objects.get(outside_agency=True), collector=None
        )
        Queue.objects.get(name="M1 early reminders").members.remove(team[1])
        repayment_reverse(transaction_id=cured.pk, reason="bounced", acting_user=SYSTEM)
        close_each(FIRST_LATE_NIGHT + timedelta(days=4), FIRST_LATE_NIGHT + timedelta(days=6))
        middle = snapshot()
        close_each(FIRST_LATE_NIGHT + timedelta(days=7), date(2026, 10, 20))
        return middle, snapshot()

    (sql_middle, sql), (rows_middle, rows) = (
        rolled_back(lambda: story(True)),
        rolled_back(lambda: story(False)),
    )
    assert sql_middle == rows_middle
    assert sql == rows
    # Four local days after the contact (five in UTC): 4 × 10 // 14 = 2 points.
    middle = {c[0]: c for c in sql_middle["cases"] if c[1] == "open"}
    assert middle[loans[4].pk][12]["no_contact"] == 2
    assert len(sql["cases"]) == 9  # eight opened, one reopened after the bounce
    reasons = sorted(c[2] for c in sql["cases"] if c[1] == "closed")
    assert reasons == ["cured", "paid_off", "written_off"]
    by_loan = {c[0]: c for c in sql["cases"] if c[1] == "open"}
    contacted = by_loan[loans[4].pk][12]
    assert contacted["broken_promises"] == 10 and contacted["no_contact"] == 10  # 14+ days on
    assert by_loan[loans[5].pk][9] == Queue.objects.get(outside_agency=True).pk
    assert by_loan[loans[5].pk][10] is None  # the night leaves an agency's case alone
    assert team[1].pk not in {c[10] for c in by_loan.values()}
