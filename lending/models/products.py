from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from lending.allocation import parse_allocation_order
from lending.models.fields import MoneyField, RateField
from lending.pricing import origination_fee, pricing_ceiling_error
from lending.schedules import DayCount, FeeCollection, RepaymentMethod
from lending.validation import (
    DEFAULT_MAX_FIRST_PERIOD_DAYS,
    DEFAULT_MAX_OVERPAYMENT,
    MAX_FIRST_PERIOD_DAYS,
)


class RepaymentMethodChoices(models.TextChoices):
    EQUAL_INSTALLMENT = RepaymentMethod.EQUAL_INSTALLMENT.value, _("Equal installment (等额本息)")
    EQUAL_PRINCIPAL = RepaymentMethod.EQUAL_PRINCIPAL.value, _("Equal principal (等额本金)")
    INTEREST_ONLY = RepaymentMethod.INTEREST_ONLY.value, _("Interest only, bullet (先息后本)")
    SINGLE_PAYMENT = RepaymentMethod.SINGLE_PAYMENT.value, _("Single payment (到期一次还本付息)")


class DayCountChoices(models.TextChoices):
    ACT_360 = DayCount.ACT_360.value, "ACT/360"
    ACT_365F = DayCount.ACT_365F.value, "ACT/365F"
    THIRTY_360 = DayCount.THIRTY_360.value, "30/360"


class FeeType(models.TextChoices):
    NONE = "none", _("No fee")
    FLAT = "flat", _("Flat amount")
    PERCENT = "percent", _("Percent of the amount lent")


class FeeCollectionChoices(models.TextChoices):
    UPFRONT = FeeCollection.UPFRONT.value, _("Deducted from the disbursement")
    FIRST_INSTALLMENT = FeeCollection.FIRST_INSTALLMENT.value, _("With the first installment")


class PenaltyBase(models.TextChoices):
    OVERDUE_PRINCIPAL = "overdue_principal", _("Overdue principal")
    OVERDUE_PRINCIPAL_INTEREST = "overdue_principal_interest", _("Overdue principal and interest")


class PenaltyRateType(models.TextChoices):
    ABSOLUTE = "absolute", _("Absolute annual rate")
    CONTRACT_MULTIPLE = "contract_multiple", _("Multiple of the contract rate")


class PenaltyStart(models.TextChoices):
    DUE_DATE = "due_date", _("From the due date, once grace is exceeded")
    GRACE_END = "grace_end", _("From the end of grace")


class CostCapType(models.TextChoices):
    FIXED = "fixed", _("Fixed annual ceiling")
    LPR_MULTIPLE = "lpr_multiple", _("Multiple of the one-year LPR on the contract date")


DEFAULT_ALLOCATION_ORDER = "penalty,fee,interest,principal"

# Terms a loan freezes at booking besides its rate, term, method, day count and fee (DESIGN §5):
# the loan holds its own copy of each of these fields, so a product edit reprices no loan.
CONTRACT_TERMS = (
    "grace_days",
    "arrears_tolerance",
    "allocation_order",
    "penalty_base",
    "penalty_rate_type",
    "penalty_rate_value",
    "penalty_start",
    "cost_cap_type",
    "cost_cap_value",
)


class LoanProduct(models.Model):
    """Pricing and rules a loan is made under. Booked loans copy their contract terms."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    repayment_method = models.CharField(
        _("repayment method"),
        max_length=24,
        choices=RepaymentMethodChoices.choices,
        default=RepaymentMethodChoices.EQUAL_INSTALLMENT,
    )
    min_rate = RateField(_("minimum annual rate"))
    max_rate = RateField(_("maximum annual rate"))
    min_term_months = models.PositiveSmallIntegerField(_("minimum term (months)"))
    max_term_months = models.PositiveSmallIntegerField(_("maximum term (months)"))
    day_count = models.CharField(
        _("day count"),
        max_length=8,
        choices=DayCountChoices.choices,
        default=DayCount.ACT_360.value,
    )
    min_amount = MoneyField(_("minimum amount"))
    max_amount = MoneyField(_("maximum amount"))
    fee_type = models.CharField(
        _("origination fee type"), max_length=8, choices=FeeType.choices, default=FeeType.NONE
    )
    fee_value = models.DecimalField(
        _("origination fee"),
        max_digits=18,
        decimal_places=6,
        default=Decimal(0),
        help_text=_("An amount for a flat fee; a fraction (0.02 = 2 %) for a percent fee."),
    )
    fee_collection = models.CharField(
        _("fee collected"),
        max_length=20,
        choices=FeeCollectionChoices.choices,
        default=FeeCollection.UPFRONT.value,
    )
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=0)
    arrears_tolerance = MoneyField(
        _("arrears tolerance"),
        help_text=_("An overdue remainder at or below this amount does not make a loan overdue."),
    )
    allocation_order = models.CharField(
        _("repayment allocation order"),
        max_length=64,
        default=DEFAULT_ALLOCATION_ORDER,
        help_text=_("Components in the order a repayment pays them, oldest installment first."),
    )
    penalty_base = models.CharField(
        _("penalty base"),
        max_length=32,
        choices=PenaltyBase.choices,
        default=PenaltyBase.OVERDUE_PRINCIPAL,
    )
    penalty_rate_type = models.CharField(
        _("penalty rate type"),
        max_length=20,
        choices=PenaltyRateType.choices,
        default=PenaltyRateType.CONTRACT_MULTIPLE,
    )
    penalty_rate_value = RateField(
        _("penalty rate"),
        default=Decimal("1.5"),
        help_text=_("An annual rate (0.24) or a multiple of the contract rate (1.5)."),
    )
    penalty_start = models.CharField(
        _("penalty counts"),
        max_length=16,
        choices=PenaltyStart.choices,
        default=PenaltyStart.DUE_DATE,
    )
    cost_cap_type = models.CharField(
        _("all-in cost cap"), max_length=16, choices=CostCapType.choices, default=CostCapType.FIXED
    )
    cost_cap_value = RateField(
        _("cap value"),
        default=Decimal("0.24"),
        help_text=_("An annual rate (0.24) for a fixed cap; a multiple (4) for an LPR cap."),
    )
    apr_ceiling = RateField(
        _("APR ceiling"),
        default=Decimal("0.24"),
        help_text=_("All-in APR the product's own pricing may not exceed (0.24 = 24 %)."),
    )
    write_off_dpd = models.PositiveSmallIntegerField(_("write-off candidate at dpd"), default=180)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Input bounds (issue 9): how far a chosen first due date may lie from the disbursement, and
    # how much more than the payoff a repayment may bring (the rest becomes a credit balance).
    max_first_period_days = models.PositiveSmallIntegerField(
        _("longest first period (days)"),
        default=DEFAULT_MAX_FIRST_PERIOD_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_FIRST_PERIOD_DAYS)],
        help_text=_(
            "A first due date chosen at disbursement may be at most this many days after it "
            "(a single payment: also up to its regular due date)."
        ),
    )
    max_overpayment = MoneyField(
        _("overpayment limit"),
        default=DEFAULT_MAX_OVERPAYMENT,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_(
            "A repayment may exceed the payoff on its value date by at most this amount (kept "
            "as a credit balance); 0 refuses any overpayment."
        ),
    )

    class Meta:
        verbose_name = _("loan product")
        verbose_name_plural = _("loan products")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_rate__gte=0) & Q(min_rate__lte=F("max_rate")),
                name="product_rate_range",
                violation_error_message=_("Rates: 0 ≤ minimum ≤ maximum."),
            ),
            models.CheckConstraint(
                condition=Q(min_term_months__gte=1) & Q(min_term_months__lte=F("max_term_months")),
                name="product_term_range",
                violation_error_message=_("Terms: 1 ≤ minimum ≤ maximum."),
            ),
            models.CheckConstraint(
                condition=Q(min_amount__gt=0) & Q(min_amount__lte=F("max_amount")),
                name="product_amount_range",
                violation_error_message=_("Amounts: 0 < minimum ≤ maximum."),
            ),
            models.CheckConstraint(
                condition=Q(fee_value__gte=0) & Q(arrears_tolerance__gte=0),
                name="product_fee_tolerance_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(penalty_rate_value__gte=0) & Q(cost_cap_value__gte=0),
                name="product_penalty_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    def origination_fee_for(self, amount: Decimal) -> Decimal:
        return origination_fee(self.fee_type, self.fee_value, amount, self.currency)

    def clean(self) -> None:
        errors = {}
        try:
            parse_allocation_order(self.allocation_order)
        except ValueError as exc:
            errors["allocation_order"] = str(exc)
        if self.fee_type == FeeType.PERCENT and self.fee_value >= 1:
            errors["fee_value"] = _("A percent fee is a fraction below 1 (0.02 = 2 %).")
        if errors:
            raise ValidationError(errors)
        message = pricing_ceiling_error(self)
        if message:
            raise ValidationError({"apr_ceiling": message})
