"""Personal data at rest (DESIGN §10): national ID, phones and address are encrypted in the
database (Fernet, keys from PII_ENCRYPTION_KEYS) and found again through a keyed hash
(HMAC-SHA256 under PII_HASH_KEY), never by the value itself. Pages mask them for users without
`lending.view_pii`; revealing one is a deliberate, audited step (services/borrowers.py)."""

import hashlib
import hmac

from django.conf import settings

from lending.identity import mask_mobile, mask_national_id


def pii_digest(value: str | None) -> str:
    """The keyed hash an exact lookup compares ("" for no value)."""
    if not value:
        return ""
    key = settings.PII_HASH_KEY.encode()
    return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()


MASKS = {"national_id": mask_national_id, "mobile": mask_mobile, "phone": mask_mobile}


def masked(field: str, value) -> str:
    """A value as users without view_pii see it (and as audit data keeps it)."""
    mask = MASKS.get(field)
    if mask is not None:
        return mask(value)
    return "•••" if value else ""
