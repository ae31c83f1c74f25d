"""Queues, cases and the record of every assignment."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lending.models import Borrower, Loan
from lending.models.fields import MoneyField


def default_time_zone() -> str:
    """A case's borrower time zone until someone records another (docs/collections.md)."""
    return settings.TIME_ZONE


class Queue(models.Model):
    """Where cases wait, by bucket range; its members are the collectors who work them."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    from_bucket = models.CharField(
        _("from bucket"), max_length=8, blank=True, help_text=_("First bucket, e.g. M1.")
    )
    to_bucket = models.CharField(
        _("to bucket"),
        max_length=8,
        blank=True,
        help_text=_("Last bucket; empty for every bucket from the first one on."),
    )
    outside_agency = models.BooleanField(
        _("outside agency"),
        default=False,
        help_text=_("Cases reach it only by a manager's reassignment, never by the nightly run."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="collection_queues",
        verbose_name=_("collectors"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class CloseReason(models.TextChoices):
    CURED = "cured", _("Cured")
    PAID_OFF = "paid_off", _("Paid off")
    SETTLED = "settled", _("Settled")
    WRITTEN_OFF = "written_off", _("Written off")


class Case(models.Model):
    """One delinquent loan's collection work: opened the first night the loan is past due,
    kept current every night and on every payment, closed with its reason. A loan overdue
    again gets a new case; the old one stays as history."""

    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="collection_cases", verbose_name=_("loan")
    )
    borrower = models.ForeignKey(
        Borrower,
        on_delete=models.PROTECT,
        related_name="collection_cases",
        verbose_name=_("borrower"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    close_reason = models.CharField(
        _("close reason"), max_length=16, choices=CloseReason.choices, blank=True
    )
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    dpd = models.PositiveIntegerField(_("dpd"), default=0)
    bucket = models.CharField(_("bucket"), max_length=8)
    overdue_amount = MoneyField(_("overdue amount"))
    total_outstanding = MoneyField(_("total outstanding"))
    time_zone = models.CharField(
        _("borrower time zone"),
        max_length=64,
        default=default_time_zone,
        help_text=_("Contact hours are checked in this time zone."),
    )
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("queue"),
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="collection_cases",
        verbose_name=_("collector"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=0)
    priority_parts = models.JSONField(_("priority parts"), default=dict, blank=True)
    broken_promises = models.PositiveSmallIntegerField(_("broken promises"), default=0)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    updated_on = models.DateField(_("figures as of"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-priority", "id"]
        permissions = [
            ("view_all_cases", _("Can see every collector's cases")),
            ("log_contact", _("Can log a contact attempt on a case")),
            ("record_promise", _("Can record a promise to pay")),
            ("reassign_case", _("Can reassign cases to queues and collectors")),
            ("export_case", _("Can export the work list (the cases one may see)")),
            ("set_case_time_zone", _("Can set a case's borrower time zone")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"], condition=Q(status="open"), name="collections_one_open_case"
            ),
            models.CheckConstraint(
                condition=Q(status="open", close_reason="", closed_on__isnull=True)
                | (Q(status="closed", closed_on__isnull=False) & ~Q(close_reason="")),
                name="collections_case_closed_with_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "collector"], name="case_work_list"),
            models.Index(fields=["borrower", "status"], name="case_borrower"),
            # The case lists' and work list's order (most urgent first), walked, not sorted.
            models.Index(fields=["-priority", "id"], name="case_priority"),
        ]

    def __str__(self) -> str:
        return _("case %(id)s (%(loan)s)") % {"id": self.pk, "loan": self.loan.reference}


class CaseAssignment(models.Model):
    """Every hand-out of a case: by the nightly run (assigned_by empty: the system) or a
    manager."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("queue"),
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("collector"),
    )
    from_collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("from collector"),
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assigned by"),
        help_text=_("Empty: the nightly run."),
    )
    assigned_at = models.DateTimeField(_("assigned at"))
    business_date = models.DateField(_("business date"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255)

    class Meta:
        verbose_name = _("case assignment")
        verbose_name_plural = _("case assignments")
        ordering = ["-assigned_at", "-id"]
        indexes = [
            models.Index(fields=["collector", "assigned_at"], name="assignment_recent"),
            # The list's order (newest first), walked rather than sorted.
            models.Index(fields=["-assigned_at", "-id"], name="assignment_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.collector or '—'}"
