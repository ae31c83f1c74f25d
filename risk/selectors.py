"""Reads for risk: the profile a decision sees, the active policy, a borrower's exposure."""

from dataclasses import asdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Max, Q, Sum

from lending.errors import LendingError, LendingErrorCode
from lending.models import Borrower, BucketChange, Installment, Loan, LoanStatus
from lending.money import ZERO, money_str
from risk.models import CreditPolicy, IncomeSource, PolicyStatus, RiskProfile
from risk.policy import Policy, parse_policy
from risk.policy import RiskProfile as ProfileData

# Loans that use up a limit: paid out, or approved and waiting to be paid out.
EXPOSED_STATUSES = (LoanStatus.PENDING, LoanStatus.APPROVED, LoanStatus.ACTIVE)


def active_policy() -> tuple[CreditPolicy, Policy]:
    record = CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE).first()
    if record is None:
        raise LendingError(
            LendingErrorCode.NOT_FOUND, "no credit policy is active; activate one", field="policy"
        )
    return record, parse_policy(record.definition)


def age_on(date_of_birth: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


def exposure(borrower_id: int) -> Decimal:
    """Principal the borrower owes or has been approved for (what counts against the limit)."""
    totals = Loan.objects.filter(borrower_id=borrower_id, status__in=EXPOSED_STATUSES).aggregate(
        active=Sum("principal_outstanding", filter=Q(status=LoanStatus.ACTIVE)),
        waiting=Sum("principal", filter=~Q(status=LoanStatus.ACTIVE)),
    )
    return (totals["active"] or ZERO) + (totals["waiting"] or ZERO)


def platform_history(borrower_id: int, as_of: date) -> dict:
    """What this platform's own books say about the borrower."""
    loans = Loan.objects.filter(borrower_id=borrower_id)
    current = loans.aggregate(
        worst_now=Max("dpd"),
        overdue=Count("pk", filter=Q(status=LoanStatus.ACTIVE, dpd__gt=0)),
        repaid=Count("pk", filter=Q(status=LoanStatus.CLOSED)),
        outstanding=Sum("principal_outstanding", filter=Q(status=LoanStatus.ACTIVE)),
    )
    worst_recorded = BucketChange.objects.filter(loan__borrower_id=borrower_id).aggregate(
        worst=Max("dpd")
    )["worst"]
    # A write-off settles every installment on its date: that is not paying on time, so a
    # written-off loan's installments count as due and never as paid on time.
    due = Installment.objects.filter(loan__borrower_id=borrower_id, due_date__lt=as_of)
    paid = due.aggregate(
        due=Count("pk"),
        on_time=Count(
            "pk",
            filter=Q(settled_on__lte=F("due_date")) & ~Q(loan__status=LoanStatus.WRITTEN_OFF),
        ),
    )
    return {
        "platform_worst_dpd": max(current["worst_now"] or 0, worst_recorded or 0),
        "platform_on_time_ratio": (Decimal(paid["on_time"]) / paid["due"] if paid["due"] else None),
        "platform_loans_repaid": current["repaid"],
        "platform_outstanding_principal": current["outstanding"] or ZERO,
        "platform_currently_overdue": bool(current["overdue"]),
    }


def profile_for(borrower: Borrower, as_of: date) -> ProfileData:
    """Everything the policy evaluates, from the borrower, the risk profile and the books.
    Missing outside data stays None: the policy refers rather than guesses."""
    outside = RiskProfile.objects.filter(borrower=borrower).first()
    verified = (
        borrower.monthly_income is not None
        and outside is not None
        and outside.income_source != IncomeSource.DECLARED
    )
    return ProfileData(
        age=age_on(borrower.date_of_birth, as_of),
        monthly_income=borrower.monthly_income,
        income_verified=verified,
        employment_type=(outside.employment_type or None) if outside else None,
        employment_months=outside.employment_months if outside else None,
        existing_monthly_debt=outside.existing_monthly_debt if outside else None,
        bureau_score=outside.bureau_score if outside else None,
        bureau_inquiries_6m=outside.bureau_inquiries_6m if outside else None,
        bureau_worst_delinquency_days=outside.bureau_worst_delinquency_days if outside else None,
        bureau_current_delinquencies=outside.bureau_current_delinquencies if outside else None,
        blacklisted=borrower.is_blacklisted,
        **platform_history(borrower.pk, as_of),
    )


def profile_snapshot(profile: ProfileData) -> dict:
    """The profile as stored with a decision (JSON: money and ratios as strings)."""
    return {
        key: money_str(value) if isinstance(value, Decimal) else value
        for key, value in asdict(profile).items()
    }
