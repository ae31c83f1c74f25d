"""The compliance policy: versioned, exactly one active, each rule with the source it comes
from. The rules themselves are in debt_collection.compliance (pure)."""

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from debt_collection import compliance


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class CompliancePolicy(models.Model):
    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(
        _("status"), max_length=8, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT
    )
    contact_from = models.TimeField(_("contact allowed from"), default=time(8))
    contact_until = models.TimeField(_("contact allowed until (exclusive)"), default=time(22))
    hours_source = models.CharField(_("source of the contact hours"), max_length=255)
    daily_connected_calls = models.PositiveSmallIntegerField(
        _("connected calls per debtor per day"),
        null=True,
        blank=True,
        help_text=_("Across all agents; empty for no daily limit."),
    )
    daily_source = models.CharField(_("source of the daily limit"), max_length=255, blank=True)
    weekly_attempts = models.PositiveSmallIntegerField(
        _("attempts per debtor in 7 days"),
        null=True,
        blank=True,
        help_text=_("Empty for no weekly limit."),
    )
    weekly_calls_only = models.BooleanField(_("the weekly limit counts calls only"), default=False)
    weekly_source = models.CharField(_("source of the weekly limit"), max_length=255, blank=True)
    holds_source = models.CharField(_("source of the contact holds"), max_length=255)
    emergency_after = models.PositiveSmallIntegerField(
        _("unreachable borrower attempts before an emergency contact"), default=3
    )
    emergency_source = models.CharField(_("source of the emergency-contact rule"), max_length=255)
    party_source = models.CharField(_("source of the allowed parties"), max_length=255)
    emergency_note = models.TextField(
        _("emergency contact script"),
        help_text=_("What an agent may say to an emergency contact: never the debt."),
    )
    promise_grace_days = models.PositiveSmallIntegerField(
        _("promise grace days"),
        default=0,
        help_text=_("Days after the promised date a payment still keeps the promise."),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
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
        verbose_name = _("compliance policy")
        verbose_name_plural = _("compliance policies")
        ordering = ["-version"]
        permissions = [
            ("manage_compliance_policy", _("Can write and activate compliance policies")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="active"),
                name="collections_one_active_policy",
            ),
            models.CheckConstraint(
                condition=Q(contact_from__lt=models.F("contact_until")),
                name="collections_policy_hours_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name} ({self.get_status_display()})"

    def rules(self) -> compliance.Rules:
        return compliance.Rules(
            contact_from=self.contact_from,
            contact_until=self.contact_until,
            daily_connected_calls=self.daily_connected_calls,
            weekly_attempts=self.weekly_attempts,
            weekly_calls_only=self.weekly_calls_only,
            emergency_after=self.emergency_after,
            sources={
                compliance.HOURS: self.hours_source,
                compliance.DAILY: self.daily_source,
                compliance.WEEKLY: self.weekly_source,
                compliance.HOLD: self.holds_source,
                compliance.EMERGENCY: self.emergency_source,
                compliance.PARTY: self.party_source,
            },
        )
