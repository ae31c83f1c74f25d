"""Credit limits: every change keeps who, when, why and the policy version (DESIGN §7, §10)."""

from decimal import Decimal

from django.db import transaction

from lending.errors import LendingError, LendingErrorCode
from lending.models import Borrower
from lending.money import ZERO
from lending.services.audit import audit_log
from lending.validation import clean_text
from risk.models import CreditLimit, CreditLimitChange, CreditPolicy, LimitStatus


def lock_limit(borrower: Borrower) -> CreditLimit:
    """The borrower's limit row, locked (created at 0 if the borrower has none yet)."""
    limit, _ = CreditLimit.objects.select_for_update().get_or_create(
        borrower=borrower, defaults={"amount": ZERO}
    )
    return limit


@transaction.atomic
def credit_limit_change(
    *,
    borrower: Borrower,
    kind: str,
    reason: str,
    acting_user,
    amount: Decimal | None = None,
    status: LimitStatus | None = None,
    policy: CreditPolicy | None = None,
    adverse_action: bool = False,
) -> CreditLimit:
    """Set the amount and/or status of a limit and record the change."""
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    limit = lock_limit(borrower)
    if amount is not None and amount < 0:
        raise LendingError(LendingErrorCode.INVALID, "must not be negative", field="amount")
    before_amount, before_status = limit.amount, limit.status
    limit.amount = limit.amount if amount is None else amount
    limit.status = limit.status if status is None else status
    if (limit.amount, limit.status) == (before_amount, before_status):
        return limit
    limit.save()
    CreditLimitChange.objects.create(
        credit_limit=limit,
        kind=kind,
        from_amount=before_amount,
        to_amount=limit.amount,
        from_status=before_status,
        to_status=limit.status,
        reason=reason,
        adverse_action=adverse_action,
        policy=policy,
        changed_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    audit_log(
        actor=acting_user,
        action=f"limit.{kind}",
        obj=limit,
        summary=f"{before_amount} {before_status} → {limit.amount} {limit.status}: {reason}",
    )
    return limit
