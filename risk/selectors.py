"""Reads for risk: the profile a decision sees, the active policy, a borrower's exposure."""

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import (
    Case,
    Count,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models import DecimalField as MoneyDecimal
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _

from lending.errors import LendingError, LendingErrorCode
from lending.models import Borrower, BucketChange, Installment, Loan, LoanStatus
from lending.models.loans import INSTALLMENT_OUTSTANDING
from lending.money import ZERO, money_str
from risk.models import (
    CreditPolicy,
    IncomeSource,
    LimitStatus,
    LoanApplication,
    PolicyStatus,
)
from risk.policy import Policy, debt_to_income, parse_policy
from risk.policy import RiskProfile as ProfileData

# Loans that use up a limit: paid out, or approved and waiting to be paid out.
EXPOSED_STATUSES = (LoanStatus.PENDING, LoanStatus.APPROVED, LoanStatus.ACTIVE)


def active_policy() -> tuple[CreditPolicy, Policy]:
    record = CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE).first()
    if record is None:
        raise LendingError(
            LendingErrorCode.NOT_FOUND,
            _("no credit policy is active; activate one"),
            field="policy",
        )
    return record, parse_policy(record.definition)


def age_on(date_of_birth: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


# What a loan uses of its borrower's limit: principal still owed once paid out, the whole
# principal while it waits to be paid out.
EXPOSURE = Sum(
    Case(
        When(status=LoanStatus.ACTIVE, then=F("principal_outstanding")),
        default=F("principal"),
    ),
    filter=Q(status__in=EXPOSED_STATUSES),
)


def exposure(borrower_id: int) -> Decimal:
    """Principal the borrower owes or has been approved for (what counts against the limit)."""
    total = Loan.objects.filter(borrower_id=borrower_id).aggregate(total=EXPOSURE)["total"]
    return total or ZERO


def with_available(limits: QuerySet) -> QuerySet:
    """Credit limits annotated with `exposure` and `available` (what a new loan may still take:
    nothing unless the limit is active), in the same query."""
    used = Coalesce(
        Subquery(
            Loan.objects.filter(borrower_id=OuterRef("borrower_id"))
            .values("borrower_id")
            .annotate(total=EXPOSURE)
            .values("total")
        ),
        Value(ZERO),
        output_field=MoneyDecimal(),
    )
    room = Greatest(F("amount") - F("exposure"), Value(ZERO), output_field=MoneyDecimal())
    return limits.annotate(exposure=used).annotate(
        available=Case(
            When(status=LimitStatus.ACTIVE, then=room),
            default=Value(ZERO),
            output_field=MoneyDecimal(),
        )
    )


def profiles_in_bulk(borrower_ids: list[int], as_of: date) -> dict[int, ProfileData]:
    """Everything the policy evaluates, for many borrowers at once, in four queries: the
    borrower, the risk profile (bureau and employment data) and this platform's own books.
    Missing outside data stays None: the policy refers rather than guesses."""
    borrowers = Borrower.objects.filter(pk__in=borrower_ids).select_related("risk_profile")
    loans = {
        row["borrower_id"]: row
        for row in Loan.objects.filter(borrower_id__in=borrower_ids)
        .values("borrower_id")
        .annotate(
            worst_now=Max("dpd"),
            overdue=Count("pk", filter=Q(status=LoanStatus.ACTIVE, dpd__gt=0)),
            repaid=Count("pk", filter=Q(status=LoanStatus.CLOSED)),
            outstanding=Sum("principal_outstanding", filter=Q(status=LoanStatus.ACTIVE)),
        )
        .order_by()
    }
    recorded = dict(
        BucketChange.objects.filter(loan__borrower_id__in=borrower_ids)
        .values("loan__borrower_id")
        .annotate(worst=Max("dpd"))
        .order_by()
        .values_list("loan__borrower_id", "worst")
    )
    # A write-off settles every installment on its date: that is not paying on time, so a
    # written-off loan's installments count as due and never as paid on time.
    paid = {
        row["loan__borrower_id"]: row
        for row in Installment.objects.filter(
            loan__borrower_id__in=borrower_ids, due_date__lt=as_of
        )
        .values("loan__borrower_id")
        .annotate(
            due=Count("pk"),
            on_time=Count(
                "pk",
                filter=Q(settled_on__lte=F("due_date")) & ~Q(loan__status=LoanStatus.WRITTEN_OFF),
            ),
        )
        .order_by()
    }
    profiles = {}
    for borrower in borrowers:
        outside = getattr(borrower, "risk_profile", None)
        book = loans.get(borrower.pk, {})
        installments = paid.get(borrower.pk, {})
        profiles[borrower.pk] = ProfileData(
            age=age_on(borrower.date_of_birth, as_of),
            monthly_income=borrower.monthly_income,
            income_verified=(
                borrower.monthly_income is not None
                and outside is not None
                and outside.income_source != IncomeSource.DECLARED
            ),
            employment_type=(outside.employment_type or None) if outside else None,
            employment_months=outside.employment_months if outside else None,
            existing_monthly_debt=outside.existing_monthly_debt if outside else None,
            bureau_score=outside.bureau_score if outside else None,
            bureau_inquiries_6m=outside.bureau_inquiries_6m if outside else None,
            bureau_worst_delinquency_days=(
                outside.bureau_worst_delinquency_days if outside else None
            ),
            bureau_current_delinquencies=outside.bureau_current_delinquencies if outside else None,
            blacklisted=borrower.is_blacklisted,
            platform_worst_dpd=max(book.get("worst_now") or 0, recorded.get(borrower.pk) or 0),
            platform_on_time_ratio=(
                Decimal(installments["on_time"]) / installments["due"]
                if installments.get("due")
                else None
            ),
            platform_loans_repaid=book.get("repaid") or 0,
            platform_outstanding_principal=book.get("outstanding") or ZERO,
            platform_currently_overdue=bool(book.get("overdue")),
        )
    return profiles


def profile_for(borrower: Borrower, as_of: date) -> ProfileData:
    """One borrower's profile: the same reads as for the whole book (`profiles_in_bulk`)."""
    return profiles_in_bulk([borrower.pk], as_of)[borrower.pk]


def profile_snapshot(profile: ProfileData) -> dict:
    """The profile as stored with a decision (JSON: money and ratios as strings)."""
    return {
        key: money_str(value) if isinstance(value, Decimal) else value
        for key, value in asdict(profile).items()
    }


# --------------------------------------------------------------------------- scorecard history

OUTCOME_WINDOW_DAYS = 183  # "within 6 months of disbursement"
BAD_DPD = 30
_PROFILE_FIELDS = (
    "employment_type",
    "employment_months",
    "existing_monthly_debt",
    "bureau_score",
    "bureau_inquiries_6m",
    "bureau_worst_delinquency_days",
    "bureau_current_delinquencies",
)


@dataclass(frozen=True)
class HistoryRow:
    loan_id: int
    borrower_id: int
    disbursed: date
    bad: bool
    features: dict  # attribute name (risk.policy.ATTRIBUTES) -> value or None


def _snapshot_decimal(value) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _features(age, income, outside: dict) -> dict:
    debt = outside.get("existing_monthly_debt")
    return {
        "age": age,
        "monthly_income": income,
        "employment_type": outside.get("employment_type") or None,
        "employment_months": outside.get("employment_months"),
        "debt_to_income": debt_to_income(debt, income),
        "bureau_score": outside.get("bureau_score"),
        "bureau_inquiries_6m": outside.get("bureau_inquiries_6m"),
        "bureau_worst_delinquency_days": outside.get("bureau_worst_delinquency_days"),
        "bureau_current_delinquencies": outside.get("bureau_current_delinquencies"),
    }


def scorecard_history(
    *, as_of: date, window_days: int = OUTCOME_WINDOW_DAYS, bad_dpd: int = BAD_DPD
) -> list[HistoryRow]:
    """Every loan disbursed at least `window_days` before `as_of`, labelled bad when its dpd
    reached `bad_dpd` within `window_days` of disbursement, with what was known of the
    borrower when they applied. Four queries, whatever the size of the book.

    dpd is as_of − the oldest unpaid due date (lending.delinquency), so it reached 30 by day D
    exactly when an installment was still unpaid 30 days after falling due, D being that day:
    the installments say so for every night, closed or not (settled more than 30 days late, or
    still unpaid beyond the product's arrears tolerance), and the bucket history says so for
    the nights the close of business ran. Either is enough.

    The profile is the one the decision used when the loan came through an application
    (`Decision.profile`); otherwise the borrower's current risk profile stands in for it, and
    age is counted at disbursement.
    """
    last_start = as_of - timedelta(days=window_days)
    loans = Loan.objects.filter(
        start_date__isnull=False,
        start_date__lte=last_start,
        status__in=(LoanStatus.ACTIVE, LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF),
    )
    fields = [f"borrower__risk_profile__{name}" for name in _PROFILE_FIELDS]
    records = list(
        loans.order_by("pk").values(
            "pk", "borrower_id", "start_date", "borrower__date_of_birth",
            "borrower__monthly_income", *fields,
        )
    )  # fmt: skip
    snapshots = dict(
        LoanApplication.objects.filter(loan__in=loans, decision__isnull=False).values_list(
            "loan_id", "decision__profile"
        )
    )
    starts = {r["pk"]: r["start_date"] for r in records}
    window = timedelta(days=window_days)
    late_by = timedelta(days=bad_dpd)
    bad: set[int] = set()
    unpaid_or_late = (
        Installment.objects.filter(loan__in=loans)
        .filter(Q(settled_on__isnull=True) | Q(settled_on__gt=F("due_date")))
        .annotate(
            left=INSTALLMENT_OUTSTANDING,
            tolerance=F("loan__arrears_tolerance"),
        )
        .values_list("loan_id", "due_date", "settled_on", "left", "tolerance")
    )  # fmt: skip
    for loan_id, due, settled, left, tolerance in unpaid_or_late:
        reached = due + late_by  # the night dpd would reach bad_dpd
        if reached > starts[loan_id] + window:
            continue
        # Paid on the night dpd reached 30 counts as paid: that night's dpd is 0.
        late = settled > reached if settled is not None else left > tolerance
        if late:
            bad.add(loan_id)
    moves = BucketChange.objects.filter(loan__in=loans, dpd__gte=bad_dpd).values_list(
        "loan_id", "business_date"
    )
    bad.update(loan_id for loan_id, on in moves if on <= starts[loan_id] + window)

    rows = []
    for r in records:
        snapshot = snapshots.get(r["pk"])
        if snapshot:
            income = _snapshot_decimal(snapshot.get("monthly_income"))
            outside = {k: snapshot.get(k) for k in _PROFILE_FIELDS}
            outside["existing_monthly_debt"] = _snapshot_decimal(outside["existing_monthly_debt"])
            age = snapshot.get("age")
        else:
            income = r["borrower__monthly_income"]
            outside = {k: r[f"borrower__risk_profile__{k}"] for k in _PROFILE_FIELDS}
            age = age_on(r["borrower__date_of_birth"], r["start_date"])
        rows.append(
            HistoryRow(
                loan_id=r["pk"],
                borrower_id=r["borrower_id"],
                disbursed=r["start_date"],
                bad=r["pk"] in bad,
                features=_features(age, income, outside),
            )
        )
    return rows
