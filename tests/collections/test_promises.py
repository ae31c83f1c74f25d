"""Promises kept or broken at the edges: payments from the day made up to the date plus the
policy's grace; the nightly step decides each once."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from debt_collection.models import CompliancePolicy, PromiseToPay, Queue
from debt_collection.services.cases import case_reassign
from debt_collection.services.promises import promise_check, promise_record
from lending.access import SYSTEM
from lending.errors import LendingError
from lending.services.repayments import repayment_post
from tests.collections.helpers import open_case, overdue_loans

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 2)


@pytest.fixture
def promise(collector, monkeypatch):
    (loan,) = overdue_loans()
    case = open_case(loan)
    Queue.objects.get(name="M1 early reminders").members.add(collector)
    case_reassign(case_ids=[case.pk], collector_id=collector.pk, reason="t", acting_user=SYSTEM)
    CompliancePolicy.objects.filter(status="active").update(promise_grace_days=2)
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)
    promise = promise_record(
        case_id=case.pk,
        amount="200.00",
        promised_for=TODAY + timedelta(days=5),
        acting_user=collector,
    )
    monkeypatch.undo()
    return promise


def pay(promise, amount, on):
    repayment_post(loan_id=promise.case.loan_id, amount=amount, value_date=on, acting_user=SYSTEM)


def state(promise) -> str:
    promise.refresh_from_db()
    return promise.state


def test_paid_on_the_last_day_of_grace_is_kept(promise):
    deadline = promise.promised_for + timedelta(days=2)
    promise_check(business_date=deadline - timedelta(days=1))
    assert state(promise) == "pending"
    pay(promise, "150.00", TODAY)
    pay(promise, "50.00", deadline)
    promise_check(business_date=deadline)
    assert state(promise) == "kept" and promise.paid == Decimal("200.00")


def test_short_by_a_cent_at_the_deadline_is_broken_and_raises_priority(promise):
    deadline = promise.promised_for + timedelta(days=2)
    pay(promise, "199.99", deadline)
    case = promise.case
    case.refresh_from_db()
    before = case.priority
    assert promise_check(business_date=deadline) == {"promises_kept": 0, "promises_broken": 1}
    assert state(promise) == "broken"
    case.refresh_from_db()
    assert case.broken_promises == 1 and case.priority == before + 10
    # Decided once: the next night and a re-run change nothing.
    assert promise_check(business_date=deadline) == {"promises_kept": 0, "promises_broken": 0}
    assert promise_check(business_date=deadline + timedelta(days=1))["promises_broken"] == 0


def test_payments_before_the_promise_do_not_count(promise):
    pay(promise, "200.00", TODAY - timedelta(days=1))
    promise_check(business_date=promise.promised_for + timedelta(days=2))
    assert state(promise) == "broken"


def test_a_promise_is_for_an_open_case_and_a_date_ahead(promise, collector, collector2):
    with pytest.raises(LendingError) as caught:
        promise_record(
            case_id=promise.case_id,
            amount="10",
            promised_for=date(2020, 1, 1),
            acting_user=collector,
        )
    assert caught.value.field == "promised_for"
    with pytest.raises(LendingError) as caught:
        promise_record(
            case_id=promise.case_id,
            amount="10",
            promised_for=timezone.localdate(),
            acting_user=collector2,
        )
    assert caught.value.code == "not_found"
    assert PromiseToPay.objects.count() == 1
