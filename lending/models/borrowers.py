from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lending.identity import mask_mobile, mask_national_id
from lending.models.fields import DigestField, EncryptedPiiField, MoneyField


class KycStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


DIGESTED = {"national_id", "mobile"}  # fields found by keyed hash: each has a `<name>_digest`


class Borrower(models.Model):
    full_name = models.CharField(_("full name"), max_length=100)
    # Personal data is encrypted at rest and found through its keyed hash (lending/pii.py).
    national_id = EncryptedPiiField(_("national ID"), max_length=18)
    national_id_digest = DigestField(source="national_id", unique=True)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    mobile = EncryptedPiiField(_("mobile phone"), max_length=11)
    mobile_digest = DigestField(source="mobile", db_index=True)
    address = EncryptedPiiField(_("address"), max_length=255, blank=True)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    monthly_income = MoneyField(_("verified monthly income"), null=True, blank=True, default=None)
    kyc_status = models.CharField(
        _("KYC status"), max_length=16, choices=KycStatus.choices, default=KycStatus.PENDING
    )
    is_blacklisted = models.BooleanField(_("blacklisted"), default=False)
    blacklist_reason = models.CharField(_("blacklist reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("borrower")
        verbose_name_plural = _("borrowers")
        ordering = ["-id"]
        permissions = [
            ("view_pii", _("Can reveal national ID and mobile (each reveal is audited)")),
            # Bulk: one reveal is audited per borrower; an unmasked export holds every row's.
            ("export_pii", _("Can export national ID and mobile unmasked")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_blacklisted=False) | ~Q(blacklist_reason=""),
                name="borrower_blacklist_needs_reason",
                violation_error_message=_("A blacklisted borrower needs a reason."),
            ),
            models.CheckConstraint(
                condition=Q(monthly_income__isnull=True) | Q(monthly_income__gte=0),
                name="borrower_income_not_negative",
            ),
        ]
        # The list's filters on values few borrowers have (KYC pending or rejected, the
        # blacklist): in the list's order, not a scan of the book for a handful of rows.
        indexes = [
            models.Index(fields=["kyc_status", "-id"], name="borrower_kyc"),
            models.Index(
                fields=["-id"], condition=Q(is_blacklisted=True), name="borrower_blacklisted"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.masked_national_id})"

    def save(self, *args, update_fields=None, **kwargs):
        # A save of only the national ID or mobile must write its keyed hash too, or lookups
        # and uniqueness would go by the old value. (queryset.update and bulk_update bypass
        # this: the services never write borrowers that way.)
        if update_fields is not None:
            update_fields = set(update_fields)
            update_fields |= {f"{name}_digest" for name in DIGESTED & update_fields}
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def masked_national_id(self) -> str:
        return mask_national_id(self.national_id)

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)


class ContactRelation(models.TextChoices):
    SPOUSE = "spouse", _("Spouse")
    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Sibling")
    RELATIVE = "relative", _("Other relative")
    FRIEND = "friend", _("Friend")
    COLLEAGUE = "colleague", _("Colleague")


class EmergencyContact(models.Model):
    borrower = models.ForeignKey(
        Borrower, on_delete=models.CASCADE, related_name="emergency_contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    relation = models.CharField(_("relation"), max_length=16, choices=ContactRelation.choices)
    phone = EncryptedPiiField(_("phone"), max_length=11)

    class Meta:
        verbose_name = _("emergency contact")
        verbose_name_plural = _("emergency contacts")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relation_display()})"
