"""Roll counts as each night left them, so the KPI page and the dashboard read a few dozen rows
instead of counting the whole bucket history (1.5 s at a million loans) on every change."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RollCount(models.Model):
    """Loans in `from_bucket` at `month_end` that were in `to_bucket` at the next month end, as
    the bucket history stood after the night of `business_date` (`kpis.roll_rates`)."""

    business_date = models.DateField(_("business date"))
    month_end = models.DateField(_("month end"))
    from_bucket = models.CharField(_("from bucket"), max_length=8)
    to_bucket = models.CharField(_("to bucket"), max_length=8)
    loans = models.PositiveIntegerField(_("loans"))

    class Meta:
        verbose_name = _("roll count")
        verbose_name_plural = _("roll counts")
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "month_end", "from_bucket", "to_bucket"],
                name="roll_count_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.month_end} {self.from_bucket}→{self.to_bucket}"
