"""`manage.py load_demo`: a small demo book has every loan state, valid identities, a clean
ledger, working logins, and a second load changes nothing."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from lending.access import SYSTEM
from lending.close_of_business.runner import close_business_days
from lending.demo import (
    DEMO_LOGINS,
    DEMO_PRODUCT_CODES,
    demo_borrower_profiles,
    latent_risk,
    load_demo_book,
    plan_loans,
)
from lending.identity import normalize_mobile, parse_national_id
from lending.models import (
    AuditEvent,
    Borrower,
    EmergencyContact,
    Installment,
    Loan,
    LoanProduct,
    LoanStatus,
    Transaction,
    TransactionKind,
)
from lending.models.loans import LoanOrigin
from lending.services.reconcile import reconcile_loans

SMALL = 40


def book_counts() -> dict[str, int]:
    models = (
        Borrower,
        EmergencyContact,
        LoanProduct,
        Loan,
        Installment,
        Transaction,
        AuditEvent,
        get_user_model(),
    )
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def demo_book(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    # The demo is loaded where DEBUG is on (`make run`): only there are the published demo
    # passwords set. pytest-django turns DEBUG off, so turn it back on for the demo book.
    settings.DEBUG = True
    return load_demo_book(borrowers=SMALL)


@pytest.mark.django_db
def test_every_loan_state_is_in_the_book(demo_book):
    today = timezone.localdate()
    statuses = set(Loan.objects.values_list("status", flat=True))
    # The demo book predates the platform's applications: its loans are migrated, born approved
    # (pending and rejected applications are risk's and leave no loan, see load_risk_demo), and a
    # cancelled loan was approved first.
    assert statuses == {
        LoanStatus.APPROVED,
        LoanStatus.ACTIVE,
        LoanStatus.CLOSED,
        LoanStatus.CANCELLED,
        LoanStatus.WRITTEN_OFF,
    }
    assert set(Loan.objects.values_list("origin", flat=True)) == {LoanOrigin.MIGRATED}
    assert not Loan.objects.filter(approved_at__isnull=True).exists(), "a loan never approved"
    active = Loan.objects.filter(status=LoanStatus.ACTIVE)
    assert active.filter(next_due_date__lt=today).exists(), "no overdue active loan"
    assert active.exclude(next_due_date__lt=today).exists(), "no current active loan"
    assert Installment.objects.filter(
        loan__status=LoanStatus.ACTIVE, due_date__lt=today, settled_on__isnull=True
    ).exists(), "no unpaid past-due installment"
    assert Loan.objects.filter(credit_balance__gt=0).exists(), "no credit balance"
    assert Transaction.objects.filter(kind=TransactionKind.REVERSAL).exists()
    assert not Loan.objects.filter(
        status__in=[LoanStatus.REJECTED, LoanStatus.CANCELLED, LoanStatus.WRITTEN_OFF],
        status_reason="",
    ).exists(), "a rejection, cancellation or write-off without a reason"
    prepaid = [
        loan
        for loan in Loan.objects.filter(status=LoanStatus.CLOSED)
        if loan.transactions.latest("value_date", "id").value_date < loan.maturity_date
    ]
    assert prepaid, "no loan paid off before maturity"
    assert not Transaction.objects.filter(value_date__gt=today).exists()
    assert demo_book.loans_by_status == {
        status: Loan.objects.filter(status=status).count() for status in LoanStatus.values
    }


@pytest.mark.django_db
def test_borrowers_have_valid_consistent_identities(demo_book):
    borrowers = list(Borrower.objects.prefetch_related("emergency_contacts"))
    assert len(borrowers) == SMALL
    today = timezone.localdate()
    for borrower in borrowers:
        parsed = parse_national_id(borrower.national_id)
        assert parsed.number == borrower.national_id
        assert parsed.date_of_birth == borrower.date_of_birth
        assert parsed.sex == borrower.sex
        assert 20 <= parsed.age_on(today) <= 58
        assert normalize_mobile(borrower.mobile) == borrower.mobile
        assert 3000 <= borrower.monthly_income <= 40000
        assert 1 <= len(borrower.emergency_contacts.all()) <= 2
        assert not borrower.is_blacklisted or borrower.blacklist_reason
        assert 0 < latent_risk(borrower) < 1
    assert len({b.national_id[:2] for b in borrowers}) > 5, "region codes should vary"
    assert set(demo_book.latent_risk) == {b.national_id for b in borrowers}


@pytest.mark.django_db
def test_the_ledger_reconciles(demo_book):
    assert demo_book.reconcile_clean
    report = reconcile_loans(acting_user=SYSTEM)
    assert report.clean, [str(d) for d in report.differences[:5]]
    assert report.loans == Loan.objects.count()


@pytest.mark.django_db
def test_a_second_load_changes_nothing(demo_book):
    before = book_counts()
    out = StringIO()
    call_command("load_demo", borrowers=SMALL, stdout=out)
    assert book_counts() == before
    assert "already loaded" in out.getvalue()
    assert "demo-officer-2026" in out.getvalue(), "logins are printed every time"


@pytest.mark.django_db
def test_demo_logins_exist_in_their_groups(demo_book):
    User = get_user_model()
    for login in DEMO_LOGINS:
        user = User.objects.get(username=login.username)
        assert user.is_staff
        assert user.is_superuser == login.superuser
        assert user.check_password(login.password)
        assert user.groups.filter(name=login.group).exists()
    assert set(LoanProduct.objects.values_list("code", flat=True)) == set(DEMO_PRODUCT_CODES)


@pytest.mark.django_db
def test_the_command_refuses_outside_debug_and_writes_nothing(settings):
    settings.DEBUG = False
    before = book_counts()
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("load_demo", borrowers=SMALL, stdout=StringIO())
    assert book_counts() == before


def test_the_plan_is_deterministic_for_a_seed():
    today = date(2026, 3, 15)

    def plan(seed):
        profiles = demo_borrower_profiles(seed=seed, count=30, today=today)
        loans = plan_loans(seed=seed, profiles=profiles, today=today)
        people = [(p.full_name, p.national_id, p.mobile, p.risk) for p in profiles]
        book = [(p.scenario, p.product, p.principal, p.rate, p.term, p.events) for p in loans]
        return people, book

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)


@pytest.mark.django_db
def test_a_database_with_closed_nights_is_refused_and_left_alone(settings):
    """The demo brings its own 20 months of nights: it cannot write them beside real ones."""
    settings.DEBUG = True
    close_business_days(until=timezone.localdate() - timedelta(days=1), acting_user=SYSTEM)
    before = book_counts()
    with pytest.raises(CommandError, match="nights are already closed"):
        call_command("load_demo", borrowers=SMALL, stdout=StringIO())
    assert book_counts() == before
