"""The demo book's size and history: the default plan is big enough for every page to mean
something, a small book has every bucket, 20 months of nights (the last ones real) and a
ledger that `lending.replay` re-lives to the same balances, and the same seed loads the same
book twice."""

from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from lending.access import SYSTEM
from lending.allocation import Parts
from lending.delinquency import DEFAULT_BUCKETS
from lending.demo import (
    DEFAULT_BORROWERS,
    DEFAULT_SEED,
    HISTORY_DAYS,
    REAL_NIGHTS,
    demo_borrower_profiles,
    load_demo_book,
    plan_loans,
)
from lending.demo_ledger import DEMO_HISTORY_STEP
from lending.models import (
    BucketChange,
    BusinessDayRun,
    Installment,
    Loan,
    LoanStatus,
    RunStatus,
    Transaction,
    TransactionKind,
)
from lending.models.borrowers import KycStatus
from lending.replay import replay
from lending.services.ledger import loan_installments
from lending.services.reconcile import reconcile_loans
from lending.services.reprocess import load_history, night_range

PLAN_DAY = date(2026, 11, 29)


@cache
def default_plan():
    profiles = demo_borrower_profiles(seed=DEFAULT_SEED, count=DEFAULT_BORROWERS, today=PLAN_DAY)
    return profiles, plan_loans(seed=DEFAULT_SEED, profiles=profiles, today=PLAN_DAY)


def test_the_default_book_is_big_enough_for_every_page():
    profiles, plans = default_plan()
    loans = [p for p in plans if any(kind == "approve" for _, _, kind, _ in p.events)]
    disbursed = [p.start for p in plans if p.start is not None]
    assert len(profiles) >= 2000
    assert len(loans) >= 5000
    assert (max(disbursed) - min(disbursed)).days >= 548, "18 months of disbursements"


def test_the_default_plan_approves_loans_only_for_verified_borrowers():
    """The services refuse a loan for a borrower whose KYC is not verified, so a plan that
    approves one for anybody else cannot be loaded: `make run` fails."""
    profiles, plans = default_plan()
    unverified = [
        (plan.index, plan.scenario, profiles[plan.borrower].kyc_status)
        for plan in plans
        if any(kind == "approve" for _, _, kind, _ in plan.events)
        and profiles[plan.borrower].kyc_status != KycStatus.VERIFIED
    ]
    assert unverified == []


@pytest.fixture
def demo_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    settings.DEBUG = True  # the demo loads where DEBUG is on (`make run`)
    return settings


@pytest.mark.django_db
def test_a_small_book_has_every_bucket_and_twenty_months_of_nights(demo_settings):
    out = StringIO()
    call_command("load_demo", borrowers=150, stdout=out)
    today = timezone.localdate()
    active = Loan.objects.filter(status=LoanStatus.ACTIVE)
    assert set(active.values_list("bucket", flat=True)) == {b.code for b in DEFAULT_BUCKETS}
    runs = list(BusinessDayRun.objects.order_by("business_date"))
    assert [r.business_date for r in runs] == [
        today - timedelta(days=HISTORY_DAYS - n) for n in range(HISTORY_DAYS)
    ], "one closed night for every day of the history, up to yesterday"
    assert {r.status for r in runs} == {RunStatus.DONE}
    history = [r for r in runs if r.steps.filter(name=DEMO_HISTORY_STEP).exists()]
    real = runs[len(history) :]
    assert len(real) == REAL_NIGHTS, "the last nights really ran"
    assert all(r.steps.filter(name="collection_cases").exists() for r in real)
    # The simulated nights did the night's work: accruals, bucket moves (roll rates, vintages).
    old = today - timedelta(days=365)
    assert Transaction.objects.filter(kind="penalty_accrual", value_date__lt=old).exists()
    assert BucketChange.objects.filter(business_date__lt=old, to_bucket="M2").exists()
    assert (
        sum(r.accruals_posted for r in history)
        == Transaction.objects.filter(
            kind=TransactionKind.PENALTY_ACCRUAL, value_date__lte=history[-1].business_date
        ).count()
    )
    report = reconcile_loans(acting_user=SYSTEM)
    assert report.clean, [str(d) for d in report.differences[:5]]
    assert "Loaded the demo book in" in out.getvalue()


@pytest.mark.django_db
def test_replay_relives_every_history_to_the_balances_written(demo_settings):
    """`lending.replay` (what the services re-live a loan with) run over each loan's postings
    and nights lands on the installments and credit the demo wrote: the history is what the
    back office would have written, night by night, not only self-consistent caches."""
    load_demo_book(borrowers=60)
    loans = Loan.objects.filter(status__in=[LoanStatus.ACTIVE, LoanStatus.CLOSED])
    assert loans.count() > 50
    checked = 0
    for loan in loans.select_related("product", "borrower"):
        installments = loan_installments(loan)
        history = load_history(loan, installments)
        nights = night_range(history, history.processed_through)
        state = replay(history.rows, history.events, history.terms, nights=nights)
        for i in installments:
            record = state.installments[i.seq]
            due = Parts(i.principal_due, i.interest_due, i.fee_due, i.penalty_due)
            settled = Parts(
                i.principal_settled, i.interest_settled, i.fee_settled, i.penalty_settled
            )
            assert (record.due, record.settled) == (due, settled), (loan.reference, i.seq)
            assert record.penalty_accrued == i.penalty_accrued, (loan.reference, i.seq)
        assert state.credit == loan.credit_balance, loan.reference
        checked += 1
    assert Transaction.objects.filter(
        loan__in=loans, kind=TransactionKind.PENALTY_ACCRUAL
    ).exists(), "nights that charged penalty were re-lived too"
    assert checked == loans.count()


def fingerprint() -> dict:
    """What a user sees of a book, without ids."""
    return {
        "loans": dict(Loan.objects.values_list("status").annotate(n=Count("id")).order_by()),
        "buckets": dict(Loan.objects.values_list("bucket").annotate(n=Count("id")).order_by()),
        "money": {
            kind: (n, Decimal(amount or 0), Decimal(penalty or 0))
            for kind, n, amount, penalty in Transaction.objects.values_list("kind")
            .annotate(n=Count("id"), amount=Sum("amount"), penalty=Sum("penalty"))
            .order_by()
        },
        "installments": Installment.objects.filter(settled_on__isnull=True).count(),
        "moves": BucketChange.objects.count(),
        "nights": list(
            BusinessDayRun.objects.order_by("business_date").values_list(
                "business_date", "loans_examined", "bucket_moves", "accrual_total"
            )
        ),
    }


@pytest.mark.django_db
def test_the_same_seed_loads_the_same_book(demo_settings):
    books = []
    for _ in range(2):
        with transaction.atomic():
            load_demo_book(borrowers=25, seed=11)
            books.append(fingerprint())
            transaction.set_rollback(True)
    assert books[0] == books[1]
    assert books[0]["loans"].get(LoanStatus.ACTIVE)
