"""The book's state at each close of business: one row per date and one per bucket of it.

The nightly step (`services.portfolio_snapshot`) writes them; `services.snapshot_backfill`
rebuilds past dates from the ledger. The dashboard reads its history from here, never from a
scan of the loans.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lending.models.fields import MoneyField, RateField


class SnapshotSource(models.TextChoices):
    NIGHT = "night", _("Close of business")
    BACKFILL = "backfill", _("Rebuilt from history")


class PortfolioSnapshot(models.Model):
    business_date = models.DateField(_("business date"), unique=True)
    source = models.CharField(
        _("source"), max_length=8, choices=SnapshotSource.choices, default=SnapshotSource.NIGHT
    )
    active_loans = models.PositiveIntegerField(_("active loans"), default=0)
    principal_outstanding = MoneyField(_("principal outstanding"))
    total_outstanding = MoneyField(_("total outstanding"))
    overdue_loans = models.PositiveIntegerField(_("overdue loans"), default=0)
    overdue_principal = MoneyField(_("principal outstanding of overdue loans"))
    overdue_amount = MoneyField(_("overdue amount"))
    # overdue_principal / principal_outstanding (0 on an empty book).
    overdue_rate = RateField(_("overdue rate"), default=Decimal("0"))
    disbursed_loans = models.PositiveIntegerField(_("loans disbursed"), default=0)
    disbursed_principal = MoneyField(_("principal disbursed"))
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("portfolio snapshot")
        verbose_name_plural = _("portfolio snapshots")
        ordering = ["-business_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(overdue_rate__gte=0) & Q(overdue_rate__lte=1),
                name="snapshot_overdue_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.business_date)


class SnapshotBucket(models.Model):
    snapshot = models.ForeignKey(
        PortfolioSnapshot, on_delete=models.CASCADE, related_name="buckets"
    )
    bucket = models.CharField(_("bucket"), max_length=8)
    position = models.PositiveSmallIntegerField(_("order"))
    loans = models.PositiveIntegerField(_("loans"), default=0)
    principal_outstanding = MoneyField(_("principal outstanding"))
    total_outstanding = MoneyField(_("total outstanding"))
    overdue_amount = MoneyField(_("overdue amount"))

    class Meta:
        verbose_name = _("snapshot bucket")
        verbose_name_plural = _("snapshot buckets")
        ordering = ["snapshot", "position"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "bucket"], name="snapshot_bucket_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot.business_date} {self.bucket}"


class SnapshotVintage(models.Model):
    """One cell of the vintage curves as the snapshot's night saw them (`vintage.VintageCell`):
    the dashboard reads these instead of joining the year's loans to their bucket history."""

    snapshot = models.ForeignKey(
        PortfolioSnapshot, on_delete=models.CASCADE, related_name="vintage_cells"
    )
    vintage = models.DateField(_("vintage"))  # the month's first day
    mob = models.PositiveSmallIntegerField(_("months on book"))
    loans = models.PositiveIntegerField(_("loans"))
    bad_loans = models.PositiveIntegerField(_("loans 30+"))
    principal = MoneyField(_("principal"))
    bad_principal = MoneyField(_("principal 30+"))

    class Meta:
        verbose_name = _("vintage cell")
        verbose_name_plural = _("vintage cells")
        ordering = ["snapshot", "vintage", "mob"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "vintage", "mob"], name="snapshot_vintage_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot.business_date} {self.vintage:%Y-%m} +{self.mob}"


class Dashboard(PortfolioSnapshot):
    """The dashboard's admin entry (/admin/portfolio/dashboard/); its one permission,
    `portfolio.view_dashboard`, is who sees it (lending/roles.py)."""

    class Meta:
        proxy = True
        default_permissions = ("view",)
        verbose_name = _("portfolio dashboard")
        verbose_name_plural = _("portfolio dashboard")
