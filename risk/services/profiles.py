"""Keeping a borrower's risk profile: the income source, employment and bureau record that
underwriting reads. Every change is audited, because it can move a credit decision."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from lending.access import Perm, require
from lending.errors import LendingError, LendingErrorCode
from lending.models import Borrower
from lending.services.audit import audit_log
from risk.models import RiskProfile

EDITABLE = frozenset(
    {
        "income_source",
        "employment_type",
        "employment_months",
        "existing_monthly_debt",
        "bureau_score",
        "bureau_inquiries_6m",
        "bureau_worst_delinquency_days",
        "bureau_current_delinquencies",
        "bureau_reported_on",
    }
)


@transaction.atomic
def risk_profile_save(*, borrower_id: int, acting_user, **changes) -> RiskProfile:
    """Create the borrower's risk profile or change its fields; refused, naming the field,
    when a value is invalid (nothing is saved)."""
    require(acting_user, Perm.EDIT_RISK_PROFILE, to=_("change risk profiles"))
    unknown = set(changes) - EDITABLE
    if unknown:
        raise LendingError(
            LendingErrorCode.INVALID, _("cannot be changed"), field=sorted(unknown)[0]
        )
    borrower = Borrower.objects.select_for_update().filter(pk=borrower_id).first()
    if borrower is None:
        raise LendingError(LendingErrorCode.NOT_FOUND, _("no such borrower"), field="borrower")
    profile = RiskProfile.objects.filter(borrower=borrower).first() or RiskProfile(
        borrower=borrower
    )
    created = profile.pk is None
    before = {name: str(getattr(profile, name)) for name in changes}
    for name, value in changes.items():
        setattr(profile, name, value)
    try:
        profile.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise LendingError(LendingErrorCode.INVALID, messages[0], field=field) from None
    profile.save()
    after = {name: str(getattr(profile, name)) for name in changes}
    audit_log(
        actor=acting_user,
        action="risk_profile.create" if created else "risk_profile.update",
        obj=profile,
        summary=str(borrower),
        data={"before": before, "after": after} if not created else {"after": after},
    )
    return profile
