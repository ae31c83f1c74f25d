from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.allocation import COMPONENTS
from lending.models.borrowers import Borrower
from lending.models.fields import MoneyField, RateField
from lending.models.products import (
    CONTRACT_TERMS,
    CostCapType,
    DayCountChoices,
    FeeCollectionChoices,
    LoanProduct,
    RepaymentMethodChoices,
)
from lending.money import ZERO
from lending.penalty import CostCap, PenaltyTerms, penalty_rate
from lending.schedules import DayCount, FeeCollection


class LoanStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    WRITTEN_OFF = "written_off", _("Written off")


def _contract_term(name: str) -> models.Field:
    """The loan's own copy of a product field (same type, choices, default and help)."""
    assert name in CONTRACT_TERMS
    return LoanProduct._meta.get_field(name).clone()


class LoanOrigin(models.TextChoices):
    APPLICATION = "application", _("Application")
    MIGRATED = "migrated", _("Migrated")


class Loan(models.Model):
    """A loan and the cached balances its transactions add up to (`manage.py reconcile`)."""

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    borrower = models.ForeignKey(
        Borrower, verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="loans"
    )
    product = models.ForeignKey(
        LoanProduct, verbose_name=_("product"), on_delete=models.PROTECT, related_name="loans"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=LoanStatus.choices, default=LoanStatus.PENDING
    )
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    # How the loan was approved: through an application (the one route), or contracted
    # elsewhere and migrated onto the book.
    origin = models.CharField(
        _("origin"), max_length=16, choices=LoanOrigin.choices, default=LoanOrigin.APPLICATION
    )

    # Contract terms, copied from the product at booking so later product edits never reprice.
    currency = models.CharField(_("currency"), max_length=3)
    principal = MoneyField(_("principal"))
    annual_rate = RateField(_("annual rate"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    repayment_method = models.CharField(
        _("repayment method"), max_length=24, choices=RepaymentMethodChoices.choices
    )
    day_count = models.CharField(_("day count"), max_length=8, choices=DayCountChoices.choices)
    origination_fee = MoneyField(_("origination fee"))
    fee_collection = models.CharField(
        _("fee collected"), max_length=20, choices=FeeCollectionChoices.choices
    )
    grace_days = _contract_term("grace_days")
    arrears_tolerance = _contract_term("arrears_tolerance")
    allocation_order = _contract_term("allocation_order")
    penalty_base = _contract_term("penalty_base")
    penalty_rate_type = _contract_term("penalty_rate_type")
    penalty_rate_value = _contract_term("penalty_rate_value")
    penalty_start = _contract_term("penalty_start")
    cost_cap_type = _contract_term("cost_cap_type")
    cost_cap_value = _contract_term("cost_cap_value")

    start_date = models.DateField(_("disbursement date"), null=True, blank=True)
    first_due_date = models.DateField(_("first due date"), null=True, blank=True)
    maturity_date = models.DateField(_("maturity date"), null=True, blank=True)

    # Cached balances (rebuilt from transactions by reconcile).
    principal_outstanding = MoneyField(_("principal outstanding"))
    interest_outstanding = MoneyField(_("interest outstanding"))
    fee_outstanding = MoneyField(_("fee outstanding"))
    penalty_outstanding = MoneyField(_("penalty outstanding"))
    credit_balance = MoneyField(
        _("credit balance"), help_text=_("Overpaid money held for the next installment or refund.")
    )
    next_due_date = models.DateField(
        _("next due date"),
        null=True,
        blank=True,
        help_text=_("Due date of the oldest installment not fully settled."),
    )

    # Delinquency as of `dpd_as_of`: recomputed by the nightly close and on every repayment.
    # dpd changes for every overdue loan every night, so it is not indexed: an index on it would
    # make each of those updates write every index of the table (no HOT update). Queries by
    # delinquency go through `bucket`, which changes about once a month per overdue loan.
    dpd = models.PositiveIntegerField(_("dpd"), default=0)
    bucket = models.CharField(_("bucket"), max_length=8, default="M0")
    dpd_as_of = models.DateField(_("dpd as of"), null=True, blank=True)

    status_reason = models.CharField(_("status reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("booked by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    disbursed_at = models.DateTimeField(_("disbursed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-id"]
        # One permission per decision (DESIGN §10); nobody edits a loan's fields directly.
        permissions = [
            ("approve_loan", _("Can approve a loan through its approved application")),
            ("migrate_loan", _("Can book a loan contracted elsewhere (book migration)")),
            ("cancel_loan", _("Can cancel an approved loan before disbursement")),
            ("disburse_loan", _("Can disburse an approved loan")),
            ("write_off_loan", _("Can write off a loan")),
            ("settle_loan", _("Can forgive the rest of a loan whose settlement was paid")),
            # Bulk exports are grants of their own, not a consequence of reading (docs/exports.md).
            ("export_loan", _("Can export the loan book and its schedules")),
            ("export_overdue", _("Can export the overdue list")),
        ]
        indexes = [
            # The night's candidates: active loans due or overdue by the business date.
            models.Index(fields=["status", "next_due_date"]),
            models.Index(fields=["bucket"], name="loan_bucket"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(condition=Q(annual_rate__gte=0), name="loan_rate_not_negative"),
            models.CheckConstraint(
                condition=Q(credit_balance__gte=0), name="loan_credit_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(principal_outstanding__gte=0)
                & Q(principal_outstanding__lte=F("principal")),
                name="loan_principal_outstanding_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def upfront_fee(self) -> Decimal:
        """The fee deducted from the amount paid out (0 when collected with an installment)."""
        return self.origination_fee if self.fee_collection == FeeCollection.UPFRONT else ZERO

    def penalty_terms(self) -> PenaltyTerms:
        """The penalty rules of this loan's contract (frozen at booking, DESIGN §5)."""
        return PenaltyTerms(
            base=self.penalty_base,
            annual_rate=penalty_rate(
                self.penalty_rate_type, self.penalty_rate_value, self.annual_rate
            ),
            grace_days=self.grace_days,
            start=self.penalty_start,
            day_count=DayCount(self.day_count),
        )

    def cost_cap(self, lpr: Decimal | None) -> CostCap:
        """The all-in cost cap; `lpr` is the one-year LPR in force on the start date (used by
        an LPR-multiple cap only)."""
        if self.cost_cap_type == CostCapType.LPR_MULTIPLE:
            annual = self.cost_cap_value * lpr
        else:
            annual = self.cost_cap_value
        return CostCap(
            amount_received=self.principal - self.upfront_fee,
            annual_rate=annual,
            start_date=self.start_date,
            maturity_date=self.maturity_date,
            currency=self.currency,
        )

    @property
    def total_outstanding(self):
        return (
            self.principal_outstanding
            + self.interest_outstanding
            + self.fee_outstanding
            + self.penalty_outstanding
        )


# What is left to pay on an installment, as a query expression: `Installment.outstanding` in SQL.
INSTALLMENT_OUTSTANDING = sum(
    (F(f"{part}_due") - F(f"{part}_settled") for part in COMPONENTS[1:]),
    F("principal_due") - F("principal_settled"),
)


class Installment(models.Model):
    """One scheduled payment. `*_due` is what was charged, `*_settled` what repayments, waivers
    and write-offs have cleared; both are caches of transaction lines."""

    # (loan, seq) is unique, and that index serves every lookup by loan.
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="installments", db_index=False
    )
    seq = models.PositiveSmallIntegerField(_("number"))
    period_start = models.DateField(_("period start"))
    due_date = models.DateField(_("due date"))
    principal_due = MoneyField(_("principal"))
    interest_due = MoneyField(_("interest"))
    fee_due = MoneyField(_("fee"))
    penalty_due = MoneyField(_("penalty"))
    principal_settled = MoneyField(_("principal settled"))
    interest_settled = MoneyField(_("interest settled"))
    fee_settled = MoneyField(_("fee settled"))
    penalty_settled = MoneyField(_("penalty settled"))
    settled_on = models.DateField(
        _("settled on"), null=True, blank=True, help_text=_("Value date it was fully settled.")
    )
    # Penalty accrued so far, exactly: Σ base × annual rate × days (the penalty times the
    # day-count basis; lending.penalty), and the last business date in it (DESIGN §4).
    penalty_accrued = models.DecimalField(
        _("penalty accrued (base × rate × days)"), max_digits=40, decimal_places=14, default=0
    )
    penalty_accrued_through = models.DateField(_("penalty accrued through"), null=True, blank=True)

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["loan_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="installment_unique_seq"),
            models.CheckConstraint(
                condition=Q(principal_settled__lte=F("principal_due"))
                & Q(interest_settled__lte=F("interest_due"))
                & Q(fee_settled__lte=F("fee_due"))
                & Q(penalty_settled__lte=F("penalty_due")),
                name="installment_not_oversettled",
            ),
        ]
        indexes = [
            # The nightly run reads only unsettled installments by due date (DESIGN §6).
            models.Index(
                fields=["due_date"], condition=Q(settled_on__isnull=True), name="inst_unsettled_due"
            ),
        ]

    def __str__(self) -> str:
        return _("installment %(seq)s due %(date)s") % {
            "seq": self.seq,
            "date": formatting.local_date(self.due_date),
        }

    @property
    def total_due(self):
        return self.principal_due + self.interest_due + self.fee_due + self.penalty_due

    @property
    def total_settled(self):
        return (
            self.principal_settled + self.interest_settled + self.fee_settled + self.penalty_settled
        )

    @property
    def outstanding(self):
        return self.total_due - self.total_settled

    def outstanding_of(self, component: str) -> Decimal:
        """What is left of one component ("principal", "interest", "fee", "penalty")."""
        return getattr(self, f"{component}_due") - getattr(self, f"{component}_settled")
