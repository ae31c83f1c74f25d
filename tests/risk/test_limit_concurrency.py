"""Simultaneous applications of one borrower never take the exposure past the limit (DESIGN §7).

Real threads against PostgreSQL (skipped with a reason on SQLite): each has its own connection
and closes it; data is committed (transaction=True). serialized_rollback restores the seeded
policy version 1 that an earlier flushing test may have removed.
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from lending.access import SYSTEM
from lending.identity import generate_national_id
from lending.models import Loan, LoanStatus
from risk.models import (
    ApplicationStatus,
    CreditLimit,
    CreditLimitChange,
    CreditPolicy,
    LimitStatus,
    LoanApplication,
    PolicyStatus,
)
from risk.policy import DEFAULT_POLICY
from risk.selectors import exposure
from risk.services.limits import credit_limit_change
from risk.services.policies import policy_activate, policy_create
from risk.services.underwriting import application_submit
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def seeded_policy(postgres, transactional_db):
    """A transactional test may start on a flushed database: bring back the active policy that
    migration risk 0002 seeds (serialized rollback clashes with other tests' flushes)."""
    if not CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE).exists():
        draft = policy_create(name="Default policy", definition=DEFAULT_POLICY, acting_user=SYSTEM)
        policy_activate(policy_id=draft.pk, acting_user=SYSTEM)


D = Decimal
TODAY = date(2026, 11, 29)
THREADS = 8
LIMIT = D("10000.00")
EACH = D("3000.00")


def run_at_once(count: int, work):
    """Start `count` threads together on `work(index)`; return (results, errors) by index."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results, errors


def good_borrower():
    """Age 36, income 12,000, payroll-verified: grade A, the policy would allow 60,000."""
    born = date(1990, 6, 15)
    borrower = BorrowerFactory(
        national_id=generate_national_id(
            date_of_birth=born, sex="M", region_code="440301", sequence=1
        ),
        date_of_birth=born,
        sex="M",
    )
    RiskProfileFactory(borrower=borrower)
    return borrower


def test_simultaneous_applications_stay_within_the_limit(seeded_policy):
    assert CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE, version=1).exists()
    borrower, product = good_borrower(), ProductFactory()
    credit_limit_change(
        borrower=borrower,
        kind="set",
        amount=LIMIT,
        status=LimitStatus.ACTIVE,
        reason="starter limit",
        acting_user=SYSTEM,
    )

    results, errors = run_at_once(
        THREADS,
        lambda i: application_submit(
            borrower_id=borrower.pk,
            product=product,
            amount=EACH,
            term_months=6,
            acting_user=SYSTEM,
            purpose=f"thread {i}",
            as_of=TODAY,
        ),
    )
    assert errors == [None] * THREADS

    statuses = sorted(r.status for r in results)
    assert statuses == [ApplicationStatus.APPROVED] * 3 + [ApplicationStatus.DECLINED] * 5

    loans = Loan.objects.filter(borrower=borrower)
    assert loans.count() == 3
    assert all(loan.status == LoanStatus.APPROVED for loan in loans)
    total = loans.aggregate(total=Sum("principal"))["total"]
    assert total == D("9000.00") <= LIMIT
    assert exposure(borrower.pk) == total

    applications = LoanApplication.objects.filter(borrower=borrower)
    assert applications.count() == THREADS
    declined = applications.filter(status=ApplicationStatus.DECLINED)
    for application in declined:
        assert application.loan_id is None
        assert "exceeds the limit of 10000.00" in application.review_note
        assert "9000.00 already owed or approved" in application.review_note
        assert application.decision.reasons[0]["code"] == "LIMIT_EXCEEDED"
    approved = applications.filter(status=ApplicationStatus.APPROVED)
    assert sorted(a.loan.principal for a in approved) == [EACH] * 3

    # The hand-set limit stands: no decision replaced it, no change was recorded.
    limit = CreditLimit.objects.get(borrower=borrower)
    assert (limit.amount, limit.status) == (LIMIT, LimitStatus.ACTIVE)
    assert CreditLimitChange.objects.filter(credit_limit=limit).count() == 1
