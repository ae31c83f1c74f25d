"""Error codes the admin, the API, imports and commands all show (Saleor-style, DESIGN §3.2)."""

from enum import StrEnum

from django.utils.translation import gettext


class LendingErrorCode(StrEnum):
    INVALID = "invalid"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    OUT_OF_RANGE = "out_of_range"
    DUPLICATE = "duplicate"
    ILLEGAL_TRANSITION = "illegal_transition"
    LOAN_NOT_ACTIVE = "loan_not_active"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    ALREADY_REVERSED = "already_reversed"
    NOT_REVERSIBLE = "not_reversible"
    PRICING_ABOVE_CEILING = "pricing_above_ceiling"
    BLACKLISTED = "blacklisted"
    RUN_IN_PROGRESS = "run_in_progress"
    OUT_OF_ORDER = "out_of_order"
    PERMISSION_DENIED = "permission_denied"
    SAME_PERSON = "same_person"
    LIMIT_EXCEEDED = "limit_exceeded"
    LIMIT_NOT_ACTIVE = "limit_not_active"
    KYC_NOT_VERIFIED = "kyc_not_verified"
    PRODUCT_NOT_ACTIVE = "product_not_active"
    LOAN_NOT_WRITTEN_OFF = "loan_not_written_off"
    SETTLEMENT_NOT_PAID = "settlement_not_paid"
    IN_USE = "in_use"  # a row other records refer to (e.g. a contact called): kept, not deleted


class LendingError(Exception):
    """A refused operation: `field` names the input at fault (None for the whole request)."""

    def __init__(self, code: LendingErrorCode, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    def as_dict(self) -> dict:
        return {"code": str(self.code), "field": self.field, "message": self.message}


def translated(exc) -> str:
    """A pure module's error (identity, schedules, replay) in the active language: its English
    template (marked there with `gettext_noop`) translated, then filled with its values."""
    template = getattr(exc, "template", None) or exc.message
    params = getattr(exc, "params", None)
    message = gettext(template)
    return message % params if params else message
