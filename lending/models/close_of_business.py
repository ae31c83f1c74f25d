"""The nightly close of business: runs, their steps, bucket history, buckets and the LPR table."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lending import formatting
from lending.delinquency import Bucket, bucket_table_errors
from lending.models.fields import MoneyField, RateField
from lending.models.loans import Loan


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ChunkStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("chunk of a night", "Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BusinessDayRunQuerySet(models.QuerySet):
    def last_closed_date(self):
        """The latest business date whose close is done: what "as of last night" means."""
        return self.filter(status=RunStatus.DONE).aggregate(last=models.Max("business_date"))[
            "last"
        ]


class BusinessDayRun(models.Model):
    """One business date's close. The unique date is what lets only one run per date exist."""

    business_date = models.DateField(_("business date"), unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    seconds = models.DecimalField(_("seconds"), max_digits=12, decimal_places=3, null=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    loans_examined = models.PositiveIntegerField(_("loans examined"), default=0)
    installments_newly_overdue = models.PositiveIntegerField(
        _("installments newly overdue"), default=0
    )
    loans_newly_overdue = models.PositiveIntegerField(_("loans newly overdue"), default=0)
    loans_cured = models.PositiveIntegerField(_("loans cured"), default=0)
    bucket_moves = models.PositiveIntegerField(_("bucket moves"), default=0)
    accruals_posted = models.PositiveIntegerField(_("accruals posted"), default=0)
    accrual_total = MoneyField(_("penalty accrued"))
    loans_capped = models.PositiveIntegerField(_("loans at the cost cap"), default=0)
    failed_loan_ids = models.JSONField(_("failed loan ids"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("started by"),
    )

    objects = BusinessDayRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("close of business run")
        verbose_name_plural = _("close of business runs")
        ordering = ["-business_date"]
        permissions = [
            ("run_close_of_business", _("Can start, retry or abandon a close of business")),
            ("export_businessdayrun", _("Can export the nightly runs and their steps")),
        ]

    def __str__(self) -> str:
        return f"{formatting.local_date(self.business_date)} ({self.get_status_display()})"


class BusinessDayChunk(models.Model):
    """A slice of the night's loans: done in one transaction, so retrying it is safe."""

    run = models.ForeignKey(BusinessDayRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField(_("number"))
    loan_ids = models.JSONField(_("loan ids"), default=list)
    status = models.CharField(
        _("status"), max_length=8, choices=ChunkStatus.choices, default=ChunkStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    seconds = models.DecimalField(_("seconds"), max_digits=12, decimal_places=3, default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("run chunk")
        verbose_name_plural = _("run chunks")
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="run_chunk_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run.business_date} chunk {self.number}"


class BusinessDayStep(models.Model):
    """A registered step's result within a run (counts are the step's own)."""

    run = models.ForeignKey(BusinessDayRun, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(_("step"), max_length=64)
    position = models.PositiveSmallIntegerField(_("order"))
    status = models.CharField(
        _("status"), max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    seconds = models.DecimalField(_("seconds"), max_digits=12, decimal_places=3, default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("run step")
        verbose_name_plural = _("run steps")
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="run_step_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run.business_date} {self.name}"


class DelinquencyBucket(models.Model):
    """The dpd bands loans move through (M0 current, M1 1–30 …), editable by risk staff."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    min_dpd = models.PositiveIntegerField(_("from dpd"), unique=True)
    max_dpd = models.PositiveIntegerField(_("to dpd"), null=True, blank=True)

    class Meta:
        verbose_name = _("delinquency bucket")
        verbose_name_plural = _("delinquency buckets")
        ordering = ["min_dpd"]

    def __str__(self) -> str:
        upper = self.max_dpd if self.max_dpd is not None else "+"
        return f"{self.code} ({self.min_dpd}–{upper})"

    def clean(self) -> None:
        """The table as it would be with this row saved must still be usable."""
        if self.min_dpd is None:
            return  # the field's own "required" error says it; a table check needs the value
        others = DelinquencyBucket.objects.exclude(pk=self.pk)
        table = [Bucket(b.code, b.min_dpd, b.max_dpd) for b in others]
        table.append(Bucket(self.code, self.min_dpd, self.max_dpd))
        errors = bucket_table_errors(table)
        if errors:
            raise ValidationError("; ".join(errors))


class BucketChange(models.Model):
    """Every move between buckets: roll rates, vintages and collections are built from these."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="bucket_changes")
    business_date = models.DateField(_("business date"), db_index=True)
    from_bucket = models.CharField(_("from"), max_length=8)
    to_bucket = models.CharField(_("to"), max_length=8)
    dpd = models.PositiveIntegerField(_("dpd"))
    overdue_amount = MoneyField(_("overdue amount"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("bucket change")
        verbose_name_plural = _("bucket changes")
        ordering = ["-business_date", "-id"]
        indexes = [models.Index(fields=["loan", "business_date"])]

    def __str__(self) -> str:
        # The loan's reference would cost a query; its page names the loan.
        return f"{formatting.local_date(self.business_date)}: {self.from_bucket}→{self.to_bucket}"


class LprRate(models.Model):
    """China's one-year Loan Prime Rate, one row per change; in force until the next row."""

    effective_date = models.DateField(_("effective from"), unique=True)
    one_year_rate = RateField(_("one-year LPR"))
    five_year_rate = RateField(_("five-year LPR"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("LPR rate")
        verbose_name_plural = _("LPR rates")
        ordering = ["-effective_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(one_year_rate__gt=0) & Q(one_year_rate__lt=1), name="lpr_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{formatting.local_date(self.effective_date)}: {formatting.rate(self.one_year_rate)}"
        )
