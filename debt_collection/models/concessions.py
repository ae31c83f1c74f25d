"""Concessions a collector proposes and another person decides: waivers and settlements
(collections managers), and write-offs (finance, on the list the night draws up). The money
moves through lending's services; these rows keep who asked, who decided and why."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from debt_collection.models.cases import Case
from lending.models import Transaction, TransactionKind
from lending.models.fields import MoneyField


class ProposalState(models.TextChoices):
    PENDING = "pending", _("Awaiting a decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    # Settlements only: an approved settlement is the agreement; the night settles or lapses it.
    SETTLED = "settled", _("Settled")
    LAPSED = "lapsed", _("Lapsed")


def _user(name: str, **kwargs):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=name,
        **kwargs,
    )


class Proposal(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, verbose_name=_("case"))
    state = models.CharField(
        _("state"), max_length=10, choices=ProposalState.choices, default=ProposalState.PENDING
    )
    reason = models.CharField(_("reason"), max_length=255)
    proposed_by = _user(_("proposed by"), help_text=_("Empty: the nightly run."))
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = _user(_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)
    transaction = models.ForeignKey(
        Transaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("posted as"),
    )

    class Meta:
        abstract = True
        ordering = ["-proposed_at", "-id"]


class WaiverProposal(Proposal):
    penalty = MoneyField(_("penalty to waive"))
    interest = MoneyField(_("interest to waive"))

    class Meta(Proposal.Meta):
        verbose_name = _("waiver proposal")
        verbose_name_plural = _("waiver proposals")
        permissions = [
            ("propose_waiver", _("Can propose a waiver on a case")),
            ("decide_waiver", _("Can approve or reject a waiver")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(state="pending"), name="collections_one_waiver_open"
            ),
        ]

    def __str__(self) -> str:
        return _("waiver %(id)s on case %(case)s") % {"id": self.pk, "case": self.case_id}


class SettlementProposal(Proposal):
    amount = MoneyField(_("amount to pay"))
    due_by = models.DateField(_("to be paid by"))
    agreed_on = models.DateField(_("agreed on"), null=True, blank=True)
    paid = MoneyField(_("paid so far"))
    resolved_on = models.DateField(_("settled or lapsed on"), null=True, blank=True)

    class Meta(Proposal.Meta):
        verbose_name = _("settlement proposal")
        verbose_name_plural = _("settlement proposals")
        permissions = [
            ("propose_settlement", _("Can propose a settlement on a case")),
            ("decide_settlement", _("Can approve or reject a settlement")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state__in=["pending", "approved"]),
                name="collections_one_settlement_open",
            ),
        ]
        indexes = [
            # The night reads only agreements still running.
            models.Index(
                fields=["due_by"], condition=Q(state="approved"), name="settlement_running"
            ),
        ]

    def __str__(self) -> str:
        return _("settlement %(id)s on case %(case)s") % {"id": self.pk, "case": self.case_id}


class WriteOffProposal(Proposal):
    """Drawn up by the night for a case whose loan reached its product's write-off dpd."""

    dpd = models.PositiveIntegerField(_("dpd when proposed"))
    outstanding = MoneyField(_("outstanding when proposed"))

    class Meta(Proposal.Meta):
        verbose_name = _("write-off proposal")
        verbose_name_plural = _("write-off proposals")
        permissions = [("decide_write_off", _("Can approve or reject a write-off"))]
        constraints = [
            # One per case: a rejection stands until the loan goes overdue again (a new case).
            models.UniqueConstraint(fields=["case"], name="collections_one_write_off_per_case"),
        ]

    def __str__(self) -> str:
        return _("write-off %(id)s on case %(case)s") % {"id": self.pk, "case": self.case_id}


class RecoveryManager(models.Manager):
    def get_queryset(self):
        # A reversed recovery (its money never came) is no recovery: reports leave it out.
        return (
            super().get_queryset().filter(kind=TransactionKind.RECOVERY, reversed_by__isnull=True)
        )


class Recovery(Transaction):
    """Money received after a write-off (lending's RECOVERY rows), reported by collector and
    queue of the case that ended in the write-off."""

    objects = RecoveryManager()

    class Meta:
        proxy = True
        verbose_name = _("recovery")
        verbose_name_plural = _("recoveries")
        ordering = ["-value_date", "-id"]
