"""Loan lifecycle through the services: book approved, reject, cancel, disburse, close, write off.

A loan is approved only through `loan_book_approved` (risk's underwriting for an application, or a
book migration); every other service needs its own permission (DESIGN §10). Every refusal is
checked for its error code, the field it names, and that nothing was written.
"""

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

import lending.services.loans as loan_services
from lending import roles
from lending.access import SYSTEM
from lending.errors import LendingError, LendingErrorCode
from lending.models import (
    AuditEvent,
    Installment,
    Loan,
    LoanStatus,
    Transaction,
    TransactionKind,
    TransactionLine,
)
from lending.models.borrowers import KycStatus
from lending.models.loans import LoanOrigin

# The private steps of the one approval route. Loans booked before applications were the only
# route are still pending on the book (they can be rejected or cancelled, never disbursed), so the
# state machine is tested on loans `_book_pending` makes and transitions `_approve` attempts.
from lending.services.loans import (
    _approve,
    _book_pending,
    loan_book_approved,
    loan_cancel,
    loan_disburse,
    loan_reject,
    loan_write_off,
)
from lending.services.reconcile import reconcile_loans
from lending.services.repayments import repayment_post
from tests.factories import BorrowerFactory, ProductFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

D = Decimal
START = date(2026, 1, 15)


def pending_loan(*, borrower=None, product=None, acting_user=SYSTEM):
    """A legacy pending loan: booked, never approved."""
    return _book_pending(
        borrower=borrower or BorrowerFactory(),
        product=product or ProductFactory(),
        principal="10000.00",
        annual_rate="0.18",
        term_months=12,
        purpose="",
        origin=LoanOrigin.MIGRATED,
        acting_user=acting_user,
    )


def approved_loan(
    *,
    product=None,
    borrower=None,
    principal="10000.00",
    rate="0.18",
    term=12,
    acting_user=SYSTEM,
    origin=LoanOrigin.MIGRATED,
):
    """Booked approved by the one route. Migrated: no credit limit of risk's is checked when it
    is paid out (tests/risk covers loans from applications)."""
    return loan_book_approved(
        borrower=borrower or BorrowerFactory(),
        product=product or ProductFactory(),
        principal=principal,
        annual_rate=rate,
        term_months=term,
        origin=origin,
        acting_user=acting_user,
    )


def approve(*, loan_id, acting_user):
    """The approval step of `loan_book_approved`, attempted on a loan already on the book."""
    _approve(Loan.objects.select_related("borrower").get(pk=loan_id), acting_user)


def footprint():
    """Counts of every row a service may write: equal before and after means nothing written."""
    return {
        "loans": Loan.objects.count(),
        "installments": Installment.objects.count(),
        "transactions": Transaction.objects.count(),
        "lines": TransactionLine.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def loan_state(loan_id):
    return Loan.objects.filter(pk=loan_id).values().get()


def refused(code, field, call, *args, **kwargs) -> LendingError:
    with pytest.raises(LendingError) as excinfo:
        call(*args, **kwargs)
    assert excinfo.value.code == code, excinfo.value
    assert excinfo.value.field == field, excinfo.value
    return excinfo.value


def assert_refused_and_unchanged(code, field, pk, call, **kwargs):
    before, counts = loan_state(pk), footprint()
    error = refused(code, field, call, **kwargs)
    assert loan_state(pk) == before
    assert footprint() == counts
    return error


# --- the happy path -----------------------------------------------------------------------------


def test_loan_is_booked_approved_then_active_then_closed(role_user, finance_user):
    migrator = role_user(roles.ADMINISTRATOR, username="migrator")
    loan = approved_loan(acting_user=migrator)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.APPROVED
    assert loan.origin == LoanOrigin.MIGRATED
    assert loan.reference == f"LN{loan.pk:08d}"
    assert loan.created_by == migrator
    assert loan.approved_by == migrator
    assert loan.approved_at is not None
    assert loan.installments.count() == 0
    # Booked (pending) and approved in the one transaction: the trail shows both steps.
    assert list(
        AuditEvent.objects.filter(object_type="lending.loan", object_id=str(loan.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["loan.create", "loan.approve"]

    loan_disburse(loan_id=loan.pk, disbursement_date=START, acting_user=finance_user)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert loan.start_date == START
    assert loan.disbursed_at is not None

    # Paid off on 2026-03-01: installment 1 in full (10,000 principal of which 766.80, 150.00
    # interest) + 9,233.20 principal + 14 days' interest 9,233.20 × 18 % × 14 / 360 = 64.63.
    result = repayment_post(
        loan_id=loan.pk, amount="10214.63", value_date=date(2026, 3, 1), acting_user=finance_user
    )
    loan.refresh_from_db()
    assert result.transaction.posted_by == finance_user
    assert result.closed is True
    assert loan.status == LoanStatus.CLOSED
    assert loan.closed_at is not None
    assert loan.total_outstanding == 0
    assert loan.credit_balance == 0
    assert reconcile_loans(acting_user=SYSTEM).clean


def test_rejected_loan_cannot_be_approved_or_disbursed():
    loan = pending_loan()
    loan_reject(loan_id=loan.pk, reason="  income not verifiable  ", acting_user=SYSTEM)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.REJECTED
    assert loan.status_reason == "income not verifiable"

    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        approve,
        loan_id=loan.pk,
        acting_user=SYSTEM,
    )
    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=START,
        acting_user=SYSTEM,
    )
    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        loan_cancel,
        loan_id=loan.pk,
        reason="changed mind",
        acting_user=SYSTEM,
    )


@pytest.mark.parametrize("approve_first", [False, True], ids=["pending", "approved"])
def test_pending_or_approved_loan_can_be_cancelled_and_then_nothing_else(approve_first):
    loan = approved_loan() if approve_first else pending_loan()
    loan_cancel(loan_id=loan.pk, reason="borrower withdrew", acting_user=SYSTEM)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CANCELLED
    assert loan.status_reason == "borrower withdrew"
    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=START,
        acting_user=SYSTEM,
    )
    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        approve,
        loan_id=loan.pk,
        acting_user=SYSTEM,
    )


@pytest.mark.parametrize("call", [loan_reject, loan_cancel])
def test_reject_or_cancel_needs_a_reason(call):
    loan = pending_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.REQUIRED,
        "reason",
        loan.pk,
        call,
        loan_id=loan.pk,
        reason="   ",
        acting_user=SYSTEM,
    )


def test_an_over_long_reason_is_refused_naming_the_field():
    loan = pending_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.INVALID,
        "reason",
        loan.pk,
        loan_reject,
        loan_id=loan.pk,
        reason="x" * 256,
        acting_user=SYSTEM,
    )


def test_approved_loan_cannot_be_rejected_or_approved_again():
    loan = approved_loan()
    for call, kwargs in [
        (loan_reject, {"reason": "late doubt"}),
        (approve, {}),
    ]:
        assert_refused_and_unchanged(
            LendingErrorCode.ILLEGAL_TRANSITION,
            "status",
            loan.pk,
            call,
            loan_id=loan.pk,
            acting_user=SYSTEM,
            **kwargs,
        )


def test_pending_loan_cannot_be_disbursed_without_approval():
    loan = pending_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=START,
        acting_user=SYSTEM,
    )
    assert loan.installments.count() == 0


def test_disbursing_twice_is_refused_and_keeps_one_schedule():
    loan = active_loan()
    assert loan.installments.count() == 12
    assert loan.transactions.count() == 1
    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=date(2026, 2, 1),
        acting_user=SYSTEM,
    )
    assert loan.installments.count() == 12
    assert loan.transactions.count() == 1


@pytest.mark.parametrize(
    "call, kwargs",
    [
        (approve, {}),
        (loan_reject, {"reason": "too late"}),
        (loan_cancel, {"reason": "too late"}),
        (loan_write_off, {"reason": "again", "value_date": date(2026, 3, 1)}),
    ],
    ids=["approve", "reject", "cancel", "write_off"],
)
def test_written_off_loan_refuses_every_transition(call, kwargs):
    loan = active_loan()
    loan_write_off(
        loan_id=loan.pk, reason="uncollectable", value_date=date(2026, 2, 20), acting_user=SYSTEM
    )
    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        call,
        loan_id=loan.pk,
        acting_user=SYSTEM,
        **kwargs,
    )


def test_closed_loan_cannot_be_written_off_or_cancelled():
    loan = active_loan()
    repayment_post(
        loan_id=loan.pk, amount="10214.63", value_date=date(2026, 3, 1), acting_user=SYSTEM
    )
    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        loan_write_off,
        loan_id=loan.pk,
        reason="x",
        value_date=date(2026, 3, 2),
        acting_user=SYSTEM,
    )
    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        loan_cancel,
        loan_id=loan.pk,
        reason="x",
        acting_user=SYSTEM,
    )


def test_active_loan_cannot_be_approved_rejected_or_cancelled():
    loan = active_loan()
    for call, kwargs in [
        (approve, {}),
        (loan_reject, {"reason": "x"}),
        (loan_cancel, {"reason": "x"}),
    ]:
        assert_refused_and_unchanged(
            LendingErrorCode.ILLEGAL_TRANSITION,
            "status",
            loan.pk,
            call,
            loan_id=loan.pk,
            acting_user=SYSTEM,
            **kwargs,
        )


# --- booking ------------------------------------------------------------------------------------
# ProductFactory: amount 100.00–200,000.00, rate 0.05–0.18, term 1–36 months.


@pytest.mark.parametrize(
    "principal, rate, term",
    [("100.00", "0.05", 1), ("200000.00", "0.18", 36), ("5000", "0.1", 6)],
)
def test_booking_accepts_the_edges_of_the_product_range(principal, rate, term):
    loan = approved_loan(principal=principal, rate=rate, term=term)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.APPROVED
    assert loan.principal == D(principal)
    assert loan.annual_rate == D(rate)
    assert loan.term_months == term


def book_refused(code, field, *, origin=LoanOrigin.MIGRATED, acting_user=SYSTEM, **terms):
    """`loan_book_approved` refuses, and neither the pending record it starts from nor any
    audit event is left behind."""
    counts = footprint()
    error = refused(
        code,
        field,
        loan_book_approved,
        **{
            "borrower": terms.pop("borrower", None) or BorrowerFactory(),
            "product": terms.pop("product", None) or ProductFactory(),
            "principal": "1000.00",
            "annual_rate": "0.10",
            "term_months": 12,
            **terms,
        },
        origin=origin,
        acting_user=acting_user,
    )
    assert footprint() == counts
    return error


@pytest.mark.parametrize(
    "principal, rate, term, code, field",
    [
        ("99.99", "0.10", 12, LendingErrorCode.OUT_OF_RANGE, "amount"),
        ("200000.01", "0.10", 12, LendingErrorCode.OUT_OF_RANGE, "amount"),
        ("1000.00", "0.049999", 12, LendingErrorCode.OUT_OF_RANGE, "rate"),
        ("1000.00", "0.180001", 12, LendingErrorCode.OUT_OF_RANGE, "rate"),
        ("1000.00", "0.10", 0, LendingErrorCode.OUT_OF_RANGE, "term"),
        ("1000.00", "0.10", 37, LendingErrorCode.OUT_OF_RANGE, "term"),
        ("-1000.00", "0.10", 12, LendingErrorCode.INVALID, "amount"),
        ("0", "0.10", 12, LendingErrorCode.INVALID, "amount"),
        ("1000.005", "0.10", 12, LendingErrorCode.INVALID, "amount"),
        ("one thousand", "0.10", 12, LendingErrorCode.INVALID, "amount"),
        ("Infinity", "0.10", 12, LendingErrorCode.INVALID, "amount"),
        ("1000.00", "ten percent", 12, LendingErrorCode.INVALID, "rate"),
        ("1000.00", "-0.10", 12, LendingErrorCode.INVALID, "rate"),
        ("1000.00", "NaN", 12, LendingErrorCode.INVALID, "rate"),
        ("1000.00", "0.1234567", 12, LendingErrorCode.INVALID, "rate"),
    ],
)
def test_booking_refuses_terms_outside_the_product(principal, rate, term, code, field):
    book_refused(code, field, principal=principal, annual_rate=rate, term_months=term)


class FixedClock:
    """django.utils.timezone with now() pinned to one moment."""

    def __init__(self, moment):
        self.moment = moment

    def now(self):
        return self.moment

    def __getattr__(self, name):
        return getattr(timezone, name)


def test_booking_works_at_any_time_on_postgresql(postgres, monkeypatch):
    """Regression (fixed in a9dc36d): the temporary reference loan_create saved first was
    'TMP-' + the timestamp, 21 characters for a 20-character column whenever the clock's
    microseconds did not end in 0, so PostgreSQL refused ~90 % of bookings."""
    moment = datetime(2026, 11, 29, 1, 30, 0, 123457, tzinfo=UTC)
    monkeypatch.setattr(loan_services, "timezone", FixedClock(moment))
    loan = approved_loan()
    assert loan.reference == f"LN{loan.pk:08d}"
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.APPROVED


ROUTES = pytest.mark.parametrize("origin", list(LoanOrigin))


@ROUTES
def test_booking_refuses_a_blacklisted_borrower(origin):
    borrower = BorrowerFactory(is_blacklisted=True, blacklist_reason="fraud ring")
    error = book_refused(LendingErrorCode.BLACKLISTED, "borrower", borrower=borrower, origin=origin)
    assert "fraud ring" in error.message


@ROUTES
def test_booking_refuses_an_inactive_product(origin):
    product = ProductFactory(is_active=False)
    book_refused(LendingErrorCode.PRODUCT_NOT_ACTIVE, "product", product=product, origin=origin)


def test_booking_copies_the_contract_terms_so_product_edits_do_not_reprice():
    product = ProductFactory(fee_type="percent", fee_value=D("0.02"), day_count="act365f")
    loan = approved_loan(product=product, principal="5000.00", rate="0.12", term=6)
    product.fee_value = D("0.05")
    product.day_count = "act360"
    product.save()
    loan.refresh_from_db()
    assert loan.origination_fee == D("100.00")
    assert loan.day_count == "act365f"
    assert loan.annual_rate == D("0.12")


# --- approval -----------------------------------------------------------------------------------


def test_approval_has_one_route():
    """No service books a pending loan or approves one by itself any more (DESIGN §10)."""
    public = {name for name in dir(loan_services) if not name.startswith("_")}
    assert "loan_book_approved" in public
    assert not public & {"loan_create", "loan_approve"}


@pytest.mark.parametrize(
    "role, origin",
    [
        (None, LoanOrigin.APPLICATION),  # a plain staff user
        (None, LoanOrigin.MIGRATED),
        (roles.FINANCE, LoanOrigin.APPLICATION),  # moves money, never approves
        (roles.FINANCE, LoanOrigin.MIGRATED),
        (roles.RISK_ANALYST, LoanOrigin.APPLICATION),  # writes policy, decides no loan
        (roles.CREDIT_OFFICER, LoanOrigin.MIGRATED),  # migration is its own permission
    ],
)
def test_booking_an_approved_loan_needs_the_routes_permission(role, origin, role_user, staff_user):
    user = role_user(role) if role else staff_user
    error = book_refused(LendingErrorCode.PERMISSION_DENIED, None, origin=origin, acting_user=user)
    assert error.message.startswith("you do not have permission to")


def test_a_migrated_loan_is_booked_by_an_administrator(role_user):
    administrator = role_user(roles.ADMINISTRATOR)
    loan = approved_loan(acting_user=administrator)
    assert (loan.status, loan.origin) == (LoanStatus.APPROVED, LoanOrigin.MIGRATED)
    assert (loan.created_by, loan.approved_by) == (administrator, administrator)


@ROUTES
@pytest.mark.parametrize("kyc", [KycStatus.PENDING, KycStatus.REJECTED])
def test_approval_refused_until_kyc_is_verified(kyc, origin):
    error = book_refused(
        LendingErrorCode.KYC_NOT_VERIFIED,
        "borrower",
        borrower=BorrowerFactory(kyc_status=kyc),
        origin=origin,
    )
    assert "KYC is not verified" in error.message


def test_a_legacy_pending_loan_is_not_approved_until_kyc_is_verified():
    loan = pending_loan(borrower=BorrowerFactory(kyc_status=KycStatus.PENDING))
    assert_refused_and_unchanged(
        LendingErrorCode.KYC_NOT_VERIFIED,
        "borrower",
        loan.pk,
        approve,
        loan_id=loan.pk,
        acting_user=SYSTEM,
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.PENDING
    assert loan.approved_at is None


# --- disbursement -------------------------------------------------------------------------------


def test_disbursement_fixes_a_twelve_month_annuity_schedule():
    loan = active_loan()  # 10,000.00 at 18 % for 12 months from 2026-01-15
    installments = list(loan.installments.order_by("seq"))
    assert len(installments) == 12
    assert [i.seq for i in installments] == list(range(1, 13))
    assert installments[0].period_start == START
    assert [i.due_date for i in installments] == [
        date(2026 + (m // 12), m % 12 + 1, 15) for m in range(1, 13)
    ]
    for previous, current in itertools.pairwise(installments):
        assert current.period_start == previous.due_date
    assert sum(i.principal_due for i in installments) == D("10000.00")
    assert [i.total_due for i in installments[:11]] == [D("916.80")] * 11
    assert installments[11].total_due == D("916.81")  # the last absorbs the rounding
    assert installments[0].interest_due == D("150.00")  # 10,000 × 18 % / 12
    assert installments[0].principal_due == D("766.80")
    assert all(i.total_settled == 0 and i.settled_on is None for i in installments)

    assert loan.first_due_date == date(2026, 2, 15)
    assert loan.maturity_date == date(2027, 1, 15)
    assert loan.next_due_date == date(2026, 2, 15)
    assert loan.principal_outstanding == D("10000.00")
    assert loan.interest_outstanding == D("1001.61")
    assert loan.fee_outstanding == 0
    assert loan.penalty_outstanding == 0

    disbursement = loan.transactions.get()
    assert disbursement.kind == TransactionKind.DISBURSEMENT
    assert disbursement.amount == D("10000.00")
    assert disbursement.principal == D("10000.00")
    assert disbursement.interest == D("1001.61")
    assert disbursement.value_date == START
    assert disbursement.lines.count() == 12
    assert reconcile_loans(acting_user=SYSTEM).clean


def test_upfront_percent_fee_is_deducted_from_the_money_paid_out():
    loan = active_loan(fee_type="percent", fee_value=D("0.02"), fee_collection="upfront")
    assert loan.origination_fee == D("200.00")
    disbursement = loan.transactions.get()
    assert disbursement.amount == D("9800.00")
    # The borrower still owes the full 10,000.00 principal and no separate fee.
    assert disbursement.principal == D("10000.00")
    assert loan.principal_outstanding == D("10000.00")
    assert loan.fee_outstanding == 0
    assert not loan.installments.filter(fee_due__gt=0).exists()


def test_fee_collected_with_the_first_installment():
    loan = active_loan(fee_type="percent", fee_value=D("0.02"), fee_collection="first_installment")
    first, *rest = loan.installments.order_by("seq")
    assert first.fee_due == D("200.00")
    assert first.total_due == D("1116.80")
    assert all(i.fee_due == 0 for i in rest)
    disbursement = loan.transactions.get()
    assert disbursement.amount == D("10000.00")
    assert disbursement.fee == D("200.00")
    assert loan.fee_outstanding == D("200.00")


def test_disbursement_on_a_future_date_is_refused():
    loan = approved_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.INVALID,
        "disbursement_date",
        loan.pk,
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=timezone.localdate() + timedelta(days=1),
        acting_user=SYSTEM,
    )


def test_disbursement_with_a_first_due_date_before_the_start_is_refused():
    loan = approved_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.INVALID,
        "first_due_date",
        loan.pk,
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=START,
        first_due_date=START,
        acting_user=SYSTEM,
    )


# --- write-off ----------------------------------------------------------------------------------


def test_write_off_removes_the_balance_and_cancels_unearned_interest():
    loan = active_loan()
    repayment_post(
        loan_id=loan.pk, amount="916.80", value_date=date(2026, 2, 15), acting_user=SYSTEM
    )
    loan_write_off(
        loan_id=loan.pk,
        reason=" fraud confirmed ",
        value_date=date(2026, 3, 1),
        acting_user=SYSTEM,
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF
    assert loan.status_reason == "fraud confirmed"
    assert loan.closed_at is not None
    assert loan.total_outstanding == 0
    assert loan.next_due_date is None

    write_off = loan.transactions.get(kind=TransactionKind.WRITE_OFF)
    # Principal left after installment 1: 10,000.00 − 766.80.
    assert write_off.principal == D("9233.20")
    # Interest earned 2026-02-15 → 03-01: 9,233.20 × 18 % × 14 / 360 = 64.6324 → 64.63.
    assert write_off.interest == D("64.63")
    assert write_off.value_date == date(2026, 3, 1)
    assert write_off.note == "fraud confirmed"

    adjustment = loan.transactions.get(kind=TransactionKind.INTEREST_ADJUSTMENT)
    # All scheduled interest 1,001.61 − 150.00 paid − 64.63 earned is cancelled.
    assert adjustment.interest == D("-786.98")
    installment_2 = loan.installments.get(seq=2)
    assert installment_2.interest_due == D("64.63")
    assert not loan.installments.filter(seq__gt=2, interest_due__gt=0).exists()
    assert not loan.installments.filter(settled_on__isnull=True).exists()
    assert reconcile_loans(acting_user=SYSTEM).clean


def test_write_off_spends_the_credit_balance_first():
    loan = active_loan()
    # Nothing is due on 2026-02-01, so the whole payment is held as credit.
    repayment_post(
        loan_id=loan.pk, amount="300.00", value_date=date(2026, 2, 1), acting_user=SYSTEM
    )
    loan_write_off(
        loan_id=loan.pk, reason="deceased", value_date=date(2026, 2, 15), acting_user=SYSTEM
    )
    loan.refresh_from_db()
    assert loan.credit_balance == 0
    applied = loan.transactions.get(kind=TransactionKind.CREDIT_APPLIED)
    assert applied.interest == D("150.00")
    assert applied.principal == D("150.00")
    write_off = loan.transactions.get(kind=TransactionKind.WRITE_OFF)
    assert write_off.principal == D("9850.00")
    assert write_off.interest == 0  # installment 1's interest was paid from the credit
    assert loan.total_outstanding == 0
    assert reconcile_loans(acting_user=SYSTEM).clean


def test_write_off_without_a_reason_is_refused():
    loan = active_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.REQUIRED,
        "reason",
        loan.pk,
        loan_write_off,
        loan_id=loan.pk,
        reason="  ",
        value_date=date(2026, 3, 1),
        acting_user=SYSTEM,
    )


def test_write_off_of_a_loan_never_disbursed_is_refused():
    loan = approved_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.ILLEGAL_TRANSITION,
        "status",
        loan.pk,
        loan_write_off,
        loan_id=loan.pk,
        reason="x",
        value_date=date(2026, 3, 1),
        acting_user=SYSTEM,
    )


def test_write_off_dated_in_the_future_is_refused():
    loan = active_loan()
    assert_refused_and_unchanged(
        LendingErrorCode.INVALID,
        "value_date",
        loan.pk,
        loan_write_off,
        loan_id=loan.pk,
        reason="fraud",
        value_date=timezone.localdate() + timedelta(days=60),
        acting_user=SYSTEM,
    )


# --- audit trail --------------------------------------------------------------------------------


def test_every_lifecycle_service_writes_an_audit_event(role_user, finance_user):
    def events(loan):
        return list(
            AuditEvent.objects.filter(object_type="lending.loan", object_id=str(loan.pk))
            .order_by("id")
            .values_list("action", "actor")
        )

    migrator = role_user(roles.ADMINISTRATOR, username="migrator")
    officer = role_user(roles.CREDIT_OFFICER, username="officer-b")
    loan = approved_loan(acting_user=migrator)
    loan_disburse(loan_id=loan.pk, disbursement_date=START, acting_user=finance_user)
    loan_write_off(
        loan_id=loan.pk, reason="fraud", value_date=date(2026, 3, 1), acting_user=finance_user
    )
    assert events(loan) == [
        ("loan.create", migrator.pk),
        ("loan.approve", migrator.pk),
        ("loan.disburse", finance_user.pk),
        ("loan.write_off", finance_user.pk),
    ]
    assert AuditEvent.objects.get(action="loan.create").data["origin"] == "migrated"
    write_off = loan.transactions.get(kind=TransactionKind.WRITE_OFF)
    assert AuditEvent.objects.get(action="loan.write_off").data == {"transaction": write_off.pk}
    assert all(t.posted_by == finance_user for t in loan.transactions.all())

    rejected = pending_loan()
    loan_reject(loan_id=rejected.pk, reason="thin file", acting_user=officer)
    cancelled = approved_loan(acting_user=migrator)
    loan_cancel(loan_id=cancelled.pk, reason="withdrawn", acting_user=officer)
    assert events(rejected)[-1] == ("loan.rejected", officer.pk)
    assert events(cancelled)[-1] == ("loan.cancelled", officer.pk)
    assert AuditEvent.objects.get(action="loan.rejected").summary == "thin file"


def test_the_platforms_own_work_acts_as_system_and_records_no_one():
    loan = active_loan()  # booked and disbursed as SYSTEM
    assert set(
        AuditEvent.objects.filter(object_id=str(loan.pk)).values_list("action", "actor")
    ) == {("loan.create", None), ("loan.approve", None), ("loan.disburse", None)}
    assert (loan.created_by, loan.approved_by) == (None, None)
    assert loan.transactions.get().posted_by is None


# --- permissions --------------------------------------------------------------------------------

OPERATIONS = {
    "disburse": (loan_disburse, "approved", {"disbursement_date": START}),
    "cancel": (loan_cancel, "approved", {"reason": "withdrawn"}),
    "reject": (loan_reject, "pending", {"reason": "thin file"}),
    "write_off": (loan_write_off, "active", {"reason": "fraud", "value_date": date(2026, 3, 1)}),
}


def refused_for(actor, operations):
    loans = {"approved": approved_loan(), "pending": pending_loan(), "active": active_loan()}
    for name in operations:
        call, state, kwargs = OPERATIONS[name]
        pk = loans[state].pk
        error = assert_refused_and_unchanged(
            LendingErrorCode.PERMISSION_DENIED,
            None,
            pk,
            call,
            loan_id=pk,
            acting_user=actor,
            **kwargs,
        )
        assert error.message.startswith("you do not have permission to"), name


def test_a_lost_user_is_refused_not_waved_through():
    """A door that passes no user is refused: the platform acts as SYSTEM, never as None."""
    refused_for(None, OPERATIONS)
    for origin in LoanOrigin:
        book_refused(LendingErrorCode.PERMISSION_DENIED, None, origin=origin, acting_user=None)


def test_a_staff_user_without_a_role_may_do_nothing(staff_user):
    refused_for(staff_user, OPERATIONS)


@pytest.mark.parametrize(
    "role, operations",
    [
        (roles.CREDIT_OFFICER, ["disburse", "write_off"]),
        (roles.FINANCE, ["cancel", "reject"]),
        (roles.COLLECTIONS_MANAGER, ["write_off", "cancel", "disburse"]),
        (roles.AUDITOR, list(OPERATIONS)),
    ],
)
def test_each_role_is_refused_what_is_not_its_job(role_user, role, operations):
    refused_for(role_user(role), operations)
