"""Contact attempts, holds, refusals by the guard, and promises to pay."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from debt_collection import compliance
from debt_collection.models.cases import Case
from debt_collection.models.policy import CompliancePolicy
from lending import formatting
from lending.models import Borrower, EmergencyContact
from lending.models.fields import MoneyField


class Channel(models.TextChoices):
    CALL = "call", _("Call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")


class Party(models.TextChoices):
    BORROWER = "borrower", _("Borrower")
    EMERGENCY_CONTACT = "emergency_contact", _("Emergency contact")


class Outcome(models.TextChoices):
    NO_ANSWER = "no_answer", _("No answer")
    PROMISE_TO_PAY = "promise_to_pay", _("Promise to pay")
    REFUSED = "refused", _("Refused to pay")
    DISPUTE = "dispute", _("Dispute")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    PAID = "paid", _("Says paid")
    DECEASED = "deceased", _("Deceased")
    OTHER = "other", _("Other")


class ContactAttempt(models.Model):
    """One call, message, letter or visit the guard allowed (refusals are counted apart)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts")
    # The debtor, kept on the row: the daily and weekly limits count across all their cases.
    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    party = models.CharField(_("party"), max_length=20, choices=Party.choices)
    emergency_contact = models.ForeignKey(
        EmergencyContact,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("emergency contact"),
    )
    contacted_at = models.DateTimeField(_("contacted at"))
    connected = models.BooleanField(_("connected"), default=False)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("agent"),
    )
    policy = models.ForeignKey(
        CompliancePolicy,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("checked under"),
    )
    logged_at = models.DateTimeField(_("logged at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        ordering = ["-contacted_at", "-id"]
        indexes = [
            models.Index(fields=["borrower", "contacted_at"], name="contact_debtor_time"),
            # The contact log's order (newest first), walked rather than sorted.
            models.Index(fields=["-contacted_at", "-id"], name="contact_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(party="borrower", emergency_contact__isnull=True)
                | Q(party="emergency_contact", emergency_contact__isnull=False),
                name="collections_contact_party_consistent",
            ),
        ]

    def __str__(self) -> str:
        # In the server's time zone, as the list shows it (not the stored UTC).
        return f"{self.get_channel_display()} {formatting.local_datetime(self.contacted_at)}"


class HoldKind(models.TextChoices):
    DO_NOT_CONTACT = "do_not_contact", _("Do not contact")
    DISPUTE = "dispute", _("Dispute")


class ContactHold(models.Model):
    """While a hold is in force (not lifted), nobody contacts the borrower."""

    borrower = models.ForeignKey(
        Borrower, on_delete=models.PROTECT, related_name="+", verbose_name=_("borrower")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=HoldKind.choices)
    reason = models.CharField(_("reason"), max_length=255)
    placed_at = models.DateTimeField(_("placed at"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("placed by"),
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lifted by"),
    )

    class Meta:
        verbose_name = _("contact hold")
        verbose_name_plural = _("contact holds")
        ordering = ["-placed_at"]
        permissions = [("manage_contact_hold", _("Can place and lift contact holds"))]
        constraints = [
            models.UniqueConstraint(
                fields=["borrower", "kind"],
                condition=Q(lifted_at__isnull=True),
                name="collections_one_hold_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class RefusalRule(models.TextChoices):
    """The compliance guard's rules (codes from `debt_collection.compliance`) in words."""

    PARTY = compliance.PARTY, _("party not allowed")
    HOLD = compliance.HOLD, _("contact on hold")
    EMERGENCY = compliance.EMERGENCY, _("emergency contact too early")
    HOURS = compliance.HOURS, _("outside contact hours")
    DAILY = compliance.DAILY, _("daily contact limit")
    WEEKLY = compliance.WEEKLY, _("weekly contact limit")


def refusal_rule_label(code: str) -> str:
    """A rule's words; a code no rule has (a rule retired since) as it was stored."""
    return str(dict(RefusalRule.choices).get(code, code))


class ComplianceRefusal(models.Model):
    """A contact the guard refused: counted per collector and rule for the manager."""

    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("collector"),
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="refusals", verbose_name=_("case")
    )
    rule = models.CharField(_("rule"), max_length=32, choices=RefusalRule.choices)
    refused_at = models.DateTimeField(_("refused at"), auto_now_add=True)
    message = models.CharField(_("message"), max_length=255)

    class Meta:
        verbose_name = _("compliance refusal")
        verbose_name_plural = _("compliance refusals")
        ordering = ["-refused_at", "-id"]
        indexes = [models.Index(fields=["collector", "rule"], name="refusal_by_collector")]

    def __str__(self) -> str:
        return self.rule


class PromiseState(models.TextChoices):
    PENDING = "pending", _("Pending")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")


class PromiseToPay(models.Model):
    """An amount the borrower promised by a date. Kept when payments valued from the day it
    was made reach the amount by the date plus the policy's grace; broken otherwise."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="promises")
    amount = MoneyField(_("amount"))
    promised_for = models.DateField(_("promised for"))
    made_on = models.DateField(_("made on"))
    grace_days = models.PositiveSmallIntegerField(_("grace days"))
    state = models.CharField(
        _("state"), max_length=8, choices=PromiseState.choices, default=PromiseState.PENDING
    )
    paid = MoneyField(_("paid towards it"))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    contact = models.ForeignKey(
        ContactAttempt,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("contact"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        ordering = ["-promised_for", "-id"]
        indexes = [
            models.Index(
                fields=["promised_for"], condition=Q(state="pending"), name="promise_pending"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="collections_promise_positive"),
        ]

    def __str__(self) -> str:
        return _("%(amount)s by %(date)s") % {
            "amount": formatting.money(self.amount),
            "date": formatting.local_date(self.promised_for),
        }
