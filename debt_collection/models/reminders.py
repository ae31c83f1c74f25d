"""Reminders and notices (issue 10): the outbox the nightly step writes and the sender empties,
and the editable templates it renders them from."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.models import Borrower, Installment, Loan
from lending.models.fields import MoneyField, RateField


class ReminderKind(models.TextChoices):
    # Days from the due date to the day the reminder goes out (negative: before it).
    BEFORE_DUE = "before_due", _("3 days before the due date")
    DUE_TODAY = "due_today", _("On the due date")
    OVERDUE_1 = "overdue_1", _("1 day overdue")
    OVERDUE_7 = "overdue_7", _("7 days overdue")


# kind -> days from the due date to the send day (the morning after the night that writes it).
KIND_OFFSETS = {
    ReminderKind.BEFORE_DUE: -3,
    ReminderKind.DUE_TODAY: 0,
    ReminderKind.OVERDUE_1: 1,
    ReminderKind.OVERDUE_7: 7,
}


class ReminderState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class ReminderTemplate(models.Model):
    """The text of one kind of reminder in one language (Django template syntax)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ReminderKind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(
        _("body"),
        help_text=_(
            "Django template. Variables: reference, amount_due, currency, due_date, "
            "penalty_rate, penalty_from, grace_until, cost_cap_rate, days_overdue."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("reminder template")
        verbose_name_plural = _("reminder templates")
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language"], name="collections_one_template_per_kind_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"


class Reminder(models.Model):
    """One reminder in the outbox. The night writes the facts (what is due, when, the penalty
    and the cap of the contract); the sender renders the template and keeps the text it sent."""

    # No index of their own: the night inserts tens of thousands of these, and every index is
    # written on each insert. The unique (installment, kind) index serves lookups by
    # installment; nothing reads reminders by loan or borrower in bulk.
    installment = models.ForeignKey(
        Installment,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("installment"),
        db_index=False,
    )
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="+", verbose_name=_("loan"), db_index=False
    )
    borrower = models.ForeignKey(
        Borrower,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("borrower"),
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ReminderKind.choices)
    language = models.CharField(_("language"), max_length=8)
    business_date = models.DateField(_("written by the close of"))
    send_on = models.DateField(_("send on"))
    time_zone = models.CharField(_("borrower time zone"), max_length=64)
    due_date = models.DateField(_("due date"))
    amount_due = MoneyField(_("amount due"))
    currency = models.CharField(_("currency"), max_length=3)
    penalty_rate = RateField(_("penalty rate"))
    penalty_from = models.DateField(_("penalty counted from"))
    grace_until = models.DateField(_("grace until"))
    cost_cap_rate = RateField(_("all-in cost cap"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=ReminderState.choices, default=ReminderState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    sender = models.CharField(_("sender"), max_length=200, blank=True)
    subject = models.CharField(_("subject sent"), max_length=200, blank=True)
    body = models.TextField(_("text sent"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-business_date", "-id"]
        permissions = [("send_reminders", _("Can send the reminders in the outbox"))]
        constraints = [
            # One reminder per installment and kind, whatever re-runs or retries happen.
            models.UniqueConstraint(
                fields=["installment", "kind"], name="collections_one_reminder_per_kind"
            ),
        ]
        indexes = [
            # The sender reads only what is left to send.
            models.Index(fields=["send_on"], condition=Q(state="pending"), name="reminder_pending"),
            # The outbox list's order: its first page read from the index, not a sort of every
            # reminder (1 s at a million loans). One more index written per reminder the night
            # inserts, which the list is worth.
            models.Index(fields=["-business_date", "-id"], name="reminder_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({formatting.local_date(self.due_date)})"
