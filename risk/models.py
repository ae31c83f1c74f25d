"""Risk data: what a credit decision needs about a borrower, versioned policies, decisions,
applications and credit limits with their history (DESIGN §7)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lending import formatting
from lending.models import Borrower, Loan, LoanProduct
from lending.models.fields import MoneyField, RateField


class EmploymentType(models.TextChoices):
    SALARIED = "salaried", _("Salaried")
    SELF_EMPLOYED = "self_employed", _("Self-employed")
    GIG = "gig", _("Gig / platform work")
    UNEMPLOYED = "unemployed", _("Unemployed")
    STUDENT = "student", _("Student")
    RETIRED = "retired", _("Retired")


class IncomeSource(models.TextChoices):
    PAYROLL = "payroll", _("Payroll statement")
    TAX = "tax", _("Tax record")
    BANK = "bank", _("Bank statement")
    SOCIAL_INSURANCE = "social_insurance", _("Social insurance record")
    DECLARED = "declared", _("Declared only (not verified)")


class RiskProfile(models.Model):
    """Outside data about a borrower; the platform's own history is read from the loans."""

    borrower = models.OneToOneField(
        Borrower, on_delete=models.CASCADE, related_name="risk_profile", verbose_name=_("borrower")
    )
    income_source = models.CharField(
        _("income source"),
        max_length=20,
        choices=IncomeSource.choices,
        default=IncomeSource.DECLARED,
    )
    employment_type = models.CharField(
        _("employment type"), max_length=16, choices=EmploymentType.choices, blank=True
    )
    employment_months = models.PositiveIntegerField(
        _("months in employment"), null=True, blank=True
    )
    existing_monthly_debt = MoneyField(
        _("monthly debt payments elsewhere"),
        null=True,
        blank=True,
        default=None,
        validators=[MinValueValidator(Decimal("0"))],
    )
    bureau_score = models.PositiveSmallIntegerField(_("credit bureau score"), null=True, blank=True)
    bureau_inquiries_6m = models.PositiveSmallIntegerField(
        _("bureau inquiries, last 6 months"), null=True, blank=True
    )
    bureau_worst_delinquency_days = models.PositiveIntegerField(
        _("worst past delinquency (days)"), null=True, blank=True
    )
    bureau_current_delinquencies = models.PositiveSmallIntegerField(
        _("current delinquencies elsewhere"), null=True, blank=True
    )
    bureau_reported_on = models.DateField(_("bureau report date"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("risk profile")
        verbose_name_plural = _("risk profiles")

    def __str__(self) -> str:
        return f"risk profile of {self.borrower}"


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CANDIDATE = "candidate", _("Candidate")
    ACTIVE = "active", pgettext_lazy("credit policy", "Active")
    RETIRED = "retired", _("Retired (read-only)")


class CreditPolicy(models.Model):
    """One version of the credit policy. Exactly one is active; others are drafts, candidates
    (e.g. from scorecard fitting) or retired versions kept read-only for audit."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT
    )
    definition = models.JSONField(_("definition"))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("activated by"),
    )

    class Meta:
        verbose_name = _("credit policy")
        verbose_name_plural = _("credit policies")
        ordering = ["-version"]
        permissions = [
            ("activate_policy", _("Can activate a policy version someone else wrote")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="one_active_policy"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name} ({self.get_status_display()})"


class Outcome(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REFER = "refer", _("Refer to a credit officer")
    DECLINE = "decline", _("Decline")


class Decision(models.Model):
    """One evaluation of a borrower under a policy version, with its reasons and trace."""

    borrower = models.ForeignKey(
        Borrower, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("borrower")
    )
    policy = models.ForeignKey(
        CreditPolicy, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("policy")
    )
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    score = models.IntegerField(_("score"))
    grade = models.CharField(_("grade"), max_length=2)
    limit = MoneyField(_("limit"))
    reasons = models.JSONField(_("reasons"), default=list)
    trace = models.JSONField(_("trace"), default=list)
    profile = models.JSONField(_("profile used"), default=dict)
    created_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-created_at", "-id"]
        # The list's first page is then the index's first rows, not a sort of every decision.
        indexes = [models.Index(fields=["-created_at", "-id"], name="decision_recent")]

    def __str__(self) -> str:
        return f"{self.borrower} {self.get_outcome_display()} {self.grade} (v{self.policy.version})"


class ApplicationStatus(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REFERRED = "referred", _("Awaiting manual review")
    DECLINED = "declined", _("Declined")


class LoanApplication(models.Model):
    borrower = models.ForeignKey(
        Borrower, on_delete=models.PROTECT, related_name="applications", verbose_name=_("borrower")
    )
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(_("amount"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    annual_rate = RateField(_("annual rate"))
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ApplicationStatus.choices)
    decision = models.ForeignKey(
        Decision, null=True, on_delete=models.PROTECT, related_name="applications"
    )
    loan = models.OneToOneField(
        Loan, null=True, blank=True, on_delete=models.PROTECT, related_name="application"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("loan application")
        verbose_name_plural = _("loan applications")
        ordering = ["-submitted_at", "-id"]
        # The list's first page is then the index's first rows, not a sort of every application.
        indexes = [models.Index(fields=["-submitted_at", "-id"], name="application_recent")]
        permissions = [
            ("decide_application", _("Can decide a referred application (never one's own)")),
        ]

    def __str__(self) -> str:
        return _("application %(id)s: %(borrower)s, %(amount)s") % {
            "id": self.pk,
            "borrower": self.borrower,
            "amount": formatting.money(self.amount),
        }


class LimitStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("credit limit", "Active")
    FROZEN = "frozen", _("Frozen")
    CLOSED = "closed", pgettext_lazy("credit limit", "Closed")


class ReviewHold(models.TextChoices):
    """The nightly review's hold on a limit (risk.behaviour): it lifts only its own freezes."""

    NONE = "", _("None")
    FROZEN = "frozen", _("Frozen for delinquency")
    CUT = "cut", _("Frozen and cut for delinquency")


class CreditLimit(models.Model):
    """The most a borrower may owe at once; `available` is derived from outstanding principal."""

    borrower = models.OneToOneField(
        Borrower, on_delete=models.PROTECT, related_name="credit_limit", verbose_name=_("borrower")
    )
    amount = MoneyField(_("limit"))
    status = models.CharField(
        _("status"), max_length=8, choices=LimitStatus.choices, default=LimitStatus.ACTIVE
    )
    review_hold = models.CharField(
        _("review hold"), max_length=8, choices=ReviewHold.choices, blank=True, default=""
    )
    review_on = models.DateField(
        _("next review"),
        null=True,
        blank=True,
        help_text=_("The close of this date reviews the limit again (empty: the next close)."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("credit limit")
        verbose_name_plural = _("credit limits")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="credit_limit_not_negative"),
        ]
        indexes = [
            # The nightly review reads the limits due for review, not every limit of the book.
            models.Index(
                fields=["review_on"], condition=~Q(status="closed"), name="credit_limit_review_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.borrower}: {formatting.money(self.amount)} ({self.get_status_display()})"


# A reason the platform writes (the nightly review, the first limit, an approved proposal) is
# stored as a message key and its parameters (risk.reasons) and read in the reader's language
# (risk.reason_texts.stored_reason); `reason` keeps its English. Empty: `reason` is a person's
# words (or a row from before the keys), shown as written.
REASON_MESSAGE_HELP = _("Empty when the reason is a person's own words.")


class CreditLimitChange(models.Model):
    """Every change to a limit: who, when, why, under which policy version."""

    credit_limit = models.ForeignKey(CreditLimit, on_delete=models.PROTECT, related_name="history")
    kind = models.CharField(_("kind"), max_length=24)
    from_amount = MoneyField(_("from amount"))
    to_amount = MoneyField(_("to amount"))
    from_status = models.CharField(_("from status"), max_length=8, blank=True)
    to_status = models.CharField(_("to status"), max_length=8)
    # A person's words, or the English of `reason_message` (see REASON_MESSAGE_HELP).
    reason = models.CharField(_("reason"), max_length=255)
    reason_message = models.CharField(
        _("reason message key"), max_length=64, blank=True, help_text=REASON_MESSAGE_HELP
    )
    reason_params = models.JSONField(_("reason parameters"), default=dict, blank=True)
    adverse_action = models.BooleanField(
        _("adverse action notice"),
        default=False,
        help_text=_("A cut or freeze for past behaviour, with a reason the borrower is given."),
    )
    policy = models.ForeignKey(
        CreditPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit limit change")
        verbose_name_plural = _("credit limit changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        amounts = f"{formatting.money(self.from_amount)}→{formatting.money(self.to_amount)}"
        return f"{self.credit_limit_id} {self.kind} {amounts}"


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class LimitIncreaseProposal(models.Model):
    """A higher limit the nightly review (or an analyst) proposes after good payment; a risk
    analyst approves or rejects it, never their own (four eyes)."""

    credit_limit = models.ForeignKey(
        CreditLimit, on_delete=models.PROTECT, related_name="proposals"
    )
    as_of = models.DateField(_("payment record as of"))
    current_amount = MoneyField(_("limit when proposed"))
    proposed_amount = MoneyField(_("proposed limit"))
    on_time_installments = models.PositiveIntegerField(_("on-time installments"), default=0)
    reason = models.CharField(_("reason"), max_length=255)
    reason_message = models.CharField(
        _("reason message key"), max_length=64, blank=True, help_text=REASON_MESSAGE_HELP
    )
    reason_params = models.JSONField(_("reason parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    policy = models.ForeignKey(
        CreditPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
        help_text=_("Empty: proposed by the nightly review."),
    )
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("limit increase proposal")
        verbose_name_plural = _("limit increase proposals")
        ordering = ["-created_at", "-id"]
        # The list's order, walked: else each load joins every credit limit to sort them.
        indexes = [models.Index(fields=["-created_at", "-id"], name="increase_recent")]
        permissions = [
            ("approve_limitincreaseproposal", _("Can approve or reject limit increase proposals")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_limit"],
                condition=Q(status="proposed"),
                name="one_open_increase_proposal",
            ),
            models.CheckConstraint(
                condition=Q(proposed_amount__gt=F("current_amount")),
                name="increase_proposal_raises_limit",
            ),
            models.CheckConstraint(
                condition=Q(status="proposed") | Q(decided_at__isnull=False),
                name="increase_proposal_decided_at",
            ),
        ]

    def __str__(self) -> str:
        amounts = (
            f"{formatting.money(self.current_amount)}→{formatting.money(self.proposed_amount)}"
        )
        return f"{amounts} ({self.get_status_display()})"
