"""Field shapes: money (DESIGN §4: amounts 18,2, annual rates 9,6) and personal data (§10)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.functional import cached_property
from encrypted_fields.fields import EncryptedCharField

from lending.pii import pii_digest


def MoneyField(verbose_name=None, **kwargs):
    kwargs.setdefault("default", Decimal("0.00"))
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=2, **kwargs)


def RateField(verbose_name=None, **kwargs):
    return models.DecimalField(verbose_name, max_digits=9, decimal_places=6, **kwargs)


class EncryptedPiiField(EncryptedCharField):
    """A text column stored Fernet-encrypted with the keys in PII_ENCRYPTION_KEYS (the first
    encrypts, all decrypt: rotation). Equality lookups cannot work on it; use its DigestField."""

    @cached_property
    def keys(self) -> list[bytes]:
        return [key.encode() for key in settings.PII_ENCRYPTION_KEYS]

    def get_prep_value(self, value):
        if value == "":
            return ""  # blank stays blank (the library would store NULL)
        return super().get_prep_value(value)


class DigestField(models.CharField):
    """The keyed hash of another field of the same row, kept up to date on every save and bulk
    insert, for exact lookup and uniqueness of an encrypted value."""

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = pii_digest(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value
