"""What the collections services share: finding a case the acting user may act on."""

from django.utils.translation import gettext as _

from debt_collection.access import case_not_found, visible_cases
from debt_collection.errors import CollectionsErrorCode
from debt_collection.models import Case, CaseStatus
from lending.errors import LendingError


def lock_case(case_id, acting_user, *, open_only: bool = True) -> Case:
    """The case, locked, if the user may see it; another collector's case is not found."""
    try:
        case = (
            visible_cases(Case.objects.select_for_update(of=("self",)), acting_user)
            .select_related("loan", "borrower")
            .get(pk=case_id)
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise case_not_found(case_id) from None
    if open_only and case.status != CaseStatus.OPEN:
        raise LendingError(
            CollectionsErrorCode.CASE_CLOSED,
            _("case %(id)s is closed (%(reason)s)")
            % {"id": case.pk, "reason": case.get_close_reason_display().lower()},
            field="case",
        )
    return case
