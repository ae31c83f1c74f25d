from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.models.fields import MoneyField
from lending.models.loans import Installment, Loan


class TransactionKind(models.TextChoices):
    DISBURSEMENT = "disbursement", _("Disbursement")
    REPAYMENT = "repayment", _("Repayment")
    CREDIT_APPLIED = "credit_applied", _("Credit applied")
    REFUND = "refund", _("Refund of credit")
    FEE = "fee", _("Fee")
    PENALTY_ACCRUAL = "penalty_accrual", _("Penalty accrual")
    INTEREST_ADJUSTMENT = "interest_adjustment", _("Unearned interest cancelled")
    WAIVER = "waiver", _("Waiver")
    WRITE_OFF = "write_off", _("Write-off")
    REVERSAL = "reversal", _("Reversal")
    # A posting valued before nights already closed re-lives the loan (lending.replay): what
    # that changes in penalty and cancelled interest, and in what other money paid.
    REACCRUAL = "reaccrual", _("Penalty re-accrued")
    REALLOCATION = "reallocation", _("Payments re-allocated")
    # Concessions (lending.services.concessions): what a paid settlement forgives, and money
    # received after a write-off (kept off the installments: the loan owes nothing any more).
    SETTLEMENT_DISCOUNT = "settlement_discount", _("Settlement discount")
    RECOVERY = "recovery", _("Recovery after write-off")


class Effect(models.TextChoices):
    """What a transaction's lines do to installments: add to what is owed, or settle it."""

    CHARGE = "charge", _("Charge")
    SETTLE = "settle", _("Settle")
    NONE = "none", _("Credit only")


EFFECT_OF_KIND = {
    TransactionKind.DISBURSEMENT: Effect.CHARGE,
    TransactionKind.FEE: Effect.CHARGE,
    TransactionKind.PENALTY_ACCRUAL: Effect.CHARGE,
    TransactionKind.INTEREST_ADJUSTMENT: Effect.CHARGE,
    TransactionKind.REPAYMENT: Effect.SETTLE,
    TransactionKind.CREDIT_APPLIED: Effect.SETTLE,
    TransactionKind.WAIVER: Effect.SETTLE,
    TransactionKind.WRITE_OFF: Effect.SETTLE,
    TransactionKind.REFUND: Effect.NONE,
    TransactionKind.REACCRUAL: Effect.CHARGE,
    TransactionKind.REALLOCATION: Effect.SETTLE,
    TransactionKind.SETTLEMENT_DISCOUNT: Effect.SETTLE,
    TransactionKind.RECOVERY: Effect.NONE,
}


class Transaction(models.Model):
    """An immutable money movement. Corrections are reversals, never edits (DESIGN §5).

    `amount` is the cash that moved (0 for bookings such as accruals); the component columns are
    the sums of the lines; `credit` is the change to the loan's credit balance.
    """

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(_("kind"), max_length=24, choices=TransactionKind.choices)
    effect = models.CharField(_("effect"), max_length=8, choices=Effect.choices)
    value_date = models.DateField(_("value date"))
    amount = MoneyField(_("amount"))
    principal = MoneyField(_("principal"))
    interest = MoneyField(_("interest"))
    fee = MoneyField(_("fee"))
    penalty = MoneyField(_("penalty"))
    credit = MoneyField(_("credit change"))
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    caused_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consequences",
        verbose_name=_("posted with"),
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    external_reference = models.CharField(_("external reference"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=32, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    posted_at = models.DateTimeField(_("posted at"), auto_now_add=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("posted by"),
    )

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["loan_id", "id"]
        permissions = [
            ("post_repayment", _("Can post repayments")),
            ("reverse_transaction", _("Can reverse a posted repayment")),
            ("refund_credit", _("Can refund a credit balance")),
            ("waive_charges", _("Can waive penalty and interest owed")),
            ("post_recovery", _("Can post money recovered on a written-off loan")),
        ]
        indexes = [
            # A catch-up charges each day on that day's base: the night finds the postings
            # valued inside the days it accrues here, without reading the nightly accruals.
            models.Index(
                fields=["loan", "value_date"],
                condition=~Q(kind="penalty_accrual"),
                name="txn_loan_value_date_posted",
            ),
            # Recoveries after write-off, newest first (collections' list and KPIs): a few
            # rows among millions of postings, found without a scan; no other kind pays for it.
            models.Index(
                fields=["-value_date", "-id"],
                condition=Q(kind="recovery"),
                name="txn_recoveries",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="transaction_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="transaction_amount_not_negative"
            ),
            # Exactly one penalty accrual per loan and business date (DESIGN §6).
            models.UniqueConstraint(
                fields=["loan", "value_date"],
                condition=Q(kind="penalty_accrual"),
                name="penalty_accrual_once_per_loan_day",
            ),
        ]

    def __str__(self) -> str:
        # Formatted like the rest of the screen; the book's places, no symbol (no query for
        # the loan's product). A posting that moves no cash (a waiver, a discount, an accrual)
        # is told by what it moves on the installments.
        moved = self.amount or abs(self.principal + self.interest + self.fee + self.penalty)
        return _("%(kind)s of %(amount)s on %(date)s") % {
            "kind": self.get_kind_display(),
            "amount": formatting.money(moved),
            "date": formatting.local_date(self.value_date),
        }


class TransactionLine(models.Model):
    """A transaction's share of one installment, signed (a reversal's lines are negative)."""

    # No index of its own: the unique (transaction, installment) index leads with it, and
    # every posting's lines would pay for a second one.
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="lines", db_index=False
    )
    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, related_name="lines")
    principal = MoneyField(_("principal"))
    interest = MoneyField(_("interest"))
    fee = MoneyField(_("fee"))
    penalty = MoneyField(_("penalty"))

    class Meta:
        verbose_name = _("transaction line")
        verbose_name_plural = _("transaction lines")
        ordering = ["transaction_id", "installment_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "installment"], name="transaction_line_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_id} → installment {self.installment_id}"
