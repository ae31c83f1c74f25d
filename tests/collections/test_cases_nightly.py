"""Cases open, follow the loan and close through the nightly run and on every payment; each
date's steps change nothing when run again."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from debt_collection.models import Case, CaseAssignment, CaseStatus, CloseReason, Queue
from debt_collection.services.nightly import collection_cases
from debt_collection.services.promises import promise_check
from lending.access import SYSTEM
from lending.close_of_business.registry import registered_steps
from lending.models import AuditEvent, Installment
from lending.services.ledger import loan_installments, lock_loan, payoff_for
from lending.services.loans import loan_write_off
from lending.services.repayments import repayment_post, repayment_reverse
from lending.services.repayments_many import Payment, repayments_post_many
from tests.collections.helpers import FIRST_LATE_NIGHT, open_case, overdue_loans
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import close, close_each, rolled_back

pytestmark = pytest.mark.django_db


def first_due(loan) -> Decimal:
    return Installment.objects.get(loan=loan, seq=1).outstanding


def test_steps_sit_after_lending_and_before_risk():
    positions = {s.name: s.position for s in registered_steps()}
    assert positions["accrue_penalty"] < positions["collection_cases"] < 300
    assert positions["collection_cases"] < positions["promise_check"] < positions["limit_review"]


def test_a_case_opens_the_first_night_past_due_and_follows_the_loan():
    loan = active_loan(start=date(2026, 8, 15))
    close(date(2026, 9, 15))  # due today: not late yet
    assert not Case.objects.exists()
    close(FIRST_LATE_NIGHT)
    case = open_case(loan)
    assert (case.opened_on, case.dpd, case.bucket) == (FIRST_LATE_NIGHT, 1, "M1")
    assert case.overdue_amount == first_due(loan)
    loan.refresh_from_db()
    assert case.total_outstanding == loan.total_outstanding
    assert case.queue.name == "M1 early reminders"
    assert case.priority == sum(case.priority_parts.values()) > 0
    close_each(date(2026, 9, 17), date(2026, 10, 17))
    case.refresh_from_db()
    assert (case.dpd, case.bucket, case.queue.name) == (32, "M2", "M2–M3 agents")
    assert Case.objects.count() == 1


def test_within_the_arrears_tolerance_no_case_opens():
    loan = active_loan(start=date(2026, 8, 15), arrears_tolerance=Decimal("50.00"))
    repayment_post(
        loan_id=loan.pk,
        amount=first_due(loan) - Decimal("10.00"),
        value_date=date(2026, 9, 15),
        acting_user=SYSTEM,
    )
    close(FIRST_LATE_NIGHT)
    assert not Case.objects.exists()


def test_a_repayment_that_cures_closes_the_case_and_a_new_delinquency_gets_a_new_case():
    (loan,) = overdue_loans()
    case = open_case(loan)
    payment = repayment_post(
        loan_id=loan.pk, amount=first_due(loan), value_date=FIRST_LATE_NIGHT, acting_user=SYSTEM
    ).transaction
    case.refresh_from_db()
    assert (case.status, case.close_reason) == (CaseStatus.CLOSED, CloseReason.CURED)
    assert case.closed_on is not None
    # The payment bounces: overdue again. The night opens a new case; the old one is history.
    repayment_reverse(transaction_id=payment.pk, reason="bounced", acting_user=SYSTEM)
    close(FIRST_LATE_NIGHT + timedelta(days=1))
    cases = list(Case.objects.filter(loan=loan).order_by("pk"))
    assert [c.status for c in cases] == [CaseStatus.CLOSED, CaseStatus.OPEN]
    assert cases[1].opened_on == FIRST_LATE_NIGHT + timedelta(days=1)


def test_a_partial_payment_keeps_the_case_open_with_its_figures_current():
    (loan,) = overdue_loans()
    before = first_due(loan)
    repayment_post(
        loan_id=loan.pk, amount="100.00", value_date=FIRST_LATE_NIGHT, acting_user=SYSTEM
    )
    case = open_case(loan)
    loan.refresh_from_db()
    assert case.overdue_amount == before - Decimal("100.00")
    assert case.total_outstanding == loan.total_outstanding


def test_paid_off_and_written_off_close_with_their_reason():
    paid, lost = overdue_loans(2)
    quote = payoff_for(lock_loan(paid.pk), loan_installments(paid), FIRST_LATE_NIGHT)
    repayment_post(
        loan_id=paid.pk, amount=quote.amount, value_date=FIRST_LATE_NIGHT, acting_user=SYSTEM
    )
    loan_write_off(
        loan_id=lost.pk, reason="uncollectable", value_date=FIRST_LATE_NIGHT, acting_user=SYSTEM
    )
    reasons = dict(Case.objects.values_list("loan_id", "close_reason"))
    assert reasons == {paid.pk: CloseReason.PAID_OFF, lost.pk: CloseReason.WRITTEN_OFF}


def test_the_night_closes_a_case_of_its_chunk_the_day_did_not(monkeypatch):
    """Credit spent by the night cures a loan without a posting hook: the chunk's step sees the
    loan (it was due) and closes its case."""
    (loan,) = overdue_loans()
    from lending.services import hooks

    monkeypatch.setattr(hooks, "_hooks", {})  # a day whose postings told nobody
    repayment_post(
        loan_id=loan.pk, amount=first_due(loan), value_date=FIRST_LATE_NIGHT, acting_user=SYSTEM
    )
    assert open_case(loan)
    night = FIRST_LATE_NIGHT + timedelta(days=1)
    assert collection_cases(business_date=night, loan_ids=[loan.pk])["cases_closed"] == 1
    case = Case.objects.get(loan=loan)
    assert (case.close_reason, case.closed_on) == (CloseReason.CURED, night)


def snapshot():
    return {
        "cases": sorted(
            Case.objects.values_list(
                "pk",
                "status",
                "close_reason",
                "dpd",
                "bucket",
                "overdue_amount",
                "total_outstanding",
                "queue_id",
                "collector_id",
                "assigned_at",
                "priority",
                "updated_on",
            )
        ),
        "assignments": CaseAssignment.objects.count(),
    }


def test_the_steps_change_nothing_when_run_again_for_the_date(collector, collector2):
    loans = overdue_loans(5)
    queue = Queue.objects.get(name="M1 early reminders")
    queue.members.add(collector, collector2)
    ids = [loan.pk for loan in loans]
    collection_cases(business_date=FIRST_LATE_NIGHT, loan_ids=ids)  # assigns the five
    promise_check(business_date=FIRST_LATE_NIGHT)
    first = snapshot()
    assert first["assignments"] == 10  # to the queue last night, to a collector now
    collection_cases(business_date=FIRST_LATE_NIGHT, loan_ids=ids)
    promise_check(business_date=FIRST_LATE_NIGHT)
    assert snapshot() == first


def test_a_case_keeps_its_collector_while_it_stays_in_its_queue(collector, collector2):
    Queue.objects.get(name="M1 early reminders").members.add(collector, collector2)
    (loan,) = overdue_loans()
    case = open_case(loan)
    owner = case.collector
    assert owner in (collector, collector2)
    close_each(FIRST_LATE_NIGHT + timedelta(days=1), FIRST_LATE_NIGHT + timedelta(days=10))
    case.refresh_from_db()
    assert case.collector == owner
    assert CaseAssignment.objects.filter(case=case).count() == 1
    # Into M2: the M2–M3 queue has no members yet; it waits there unassigned, recorded.
    close_each(FIRST_LATE_NIGHT + timedelta(days=11), date(2026, 10, 17))
    case.refresh_from_db()
    assert (case.queue.name, case.collector) == ("M2–M3 agents", None)
    last = CaseAssignment.objects.filter(case=case).first()
    assert (last.from_collector, last.collector, last.assigned_by) == (owner, None, None)


def test_assignment_balances_one_hundred_cases_34_33_33(role_user):
    from lending import roles

    team = [role_user(roles.COLLECTOR, username=f"c{n}") for n in range(3)]
    Queue.objects.get(name="M1 early reminders").members.add(*team)
    overdue_loans(100)
    counts = sorted(Case.objects.filter(collector__in=team).values_list("collector_id", flat=True))
    per = sorted((counts.count(u.pk) for u in team), reverse=True)
    assert per == [34, 33, 33]
    assert CaseAssignment.objects.filter(collector__in=team).count() == 100


def test_a_bank_files_payments_move_the_cases_as_one_by_one_would(monkeypatch):
    """A batch (a bank statement's import) cures one loan, pays part of another's arrears and
    pays a third off, straight onto the loans the day after the night — through the batch's
    own collections hook, none handed to repayment_post — : each case closes with its reason
    and its event, or stays open with its figures current, as payment by payment."""
    cured, partial, paid = overdue_loans(3)
    day = FIRST_LATE_NIGHT + timedelta(days=1)  # after the last closed night: straight on
    payoff = payoff_for(lock_loan(paid.pk), loan_installments(paid), day).amount
    payments = [
        Payment(loan_id=cured.pk, amount=first_due(cured), value_date=day),
        Payment(loan_id=partial.pk, amount=Decimal("100.00"), value_date=day),
        Payment(loan_id=paid.pk, amount=payoff, value_date=day),
    ]

    def cases_after(post) -> tuple:
        post()
        return (
            sorted(
                Case.objects.values_list(
                    "loan_id",
                    "status",
                    "close_reason",
                    "closed_on",
                    "dpd",
                    "bucket",
                    "overdue_amount",
                    "total_outstanding",
                    "priority",
                )
            ),
            sorted(
                AuditEvent.objects.filter(action="case.close").values_list("object_id", "summary")
            ),
        )

    handed_over = []
    monkeypatch.setattr(Payment, "post_alone", lambda payment, user: handed_over.append(payment))
    batch = rolled_back(
        lambda: cases_after(lambda: repayments_post_many(payments=payments, acting_user=SYSTEM))
    )
    assert handed_over == []  # every payment went the batch's way
    monkeypatch.undo()
    alone = rolled_back(
        lambda: cases_after(lambda: [payment.post_alone(SYSTEM) for payment in payments])
    )
    assert batch == alone
    reasons = {loan_id: reason for loan_id, _s, reason, *_ in batch[0]}
    assert reasons == {
        cured.pk: CloseReason.CURED,
        partial.pk: "",
        paid.pk: CloseReason.PAID_OFF,
    }
    assert len(batch[1]) == 2  # a close event for each case closed
