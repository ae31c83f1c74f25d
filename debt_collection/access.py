"""Who may do what in collections, and which cases a user may see at all.

Permissions are declared in the models' Meta (like lending's) and checked in the services with
`lending.access.require`. Collectors see their own cases only: a case of someone else is
answered as not found (never "forbidden", which would confirm it exists, DESIGN §8).
"""

from enum import StrEnum

from django.utils.translation import gettext as _

from lending.access import SYSTEM, may
from lending.errors import LendingError, LendingErrorCode


class CollectionsPerm(StrEnum):
    VIEW_CASE = "collections.view_case"
    VIEW_ALL_CASES = "collections.view_all_cases"
    LOG_CONTACT = "collections.log_contact"
    RECORD_PROMISE = "collections.record_promise"
    REASSIGN_CASE = "collections.reassign_case"
    SET_TIME_ZONE = "collections.set_case_time_zone"
    MANAGE_COMPLIANCE_POLICY = "collections.manage_compliance_policy"
    MANAGE_HOLD = "collections.manage_contact_hold"
    PROPOSE_WAIVER = "collections.propose_waiver"
    DECIDE_WAIVER = "collections.decide_waiver"
    PROPOSE_SETTLEMENT = "collections.propose_settlement"
    DECIDE_SETTLEMENT = "collections.decide_settlement"
    DECIDE_WRITE_OFF = "collections.decide_write_off"


def sees_all_cases(acting_user) -> bool:
    return acting_user is SYSTEM or may(acting_user, CollectionsPerm.VIEW_ALL_CASES)


def visible_cases(queryset, acting_user):
    """The cases of `queryset` the user may see: all for managers, auditors and finance; a
    collector's own; nothing for anyone without the view permission."""
    if sees_all_cases(acting_user):
        return queryset
    if not may(acting_user, CollectionsPerm.VIEW_CASE):
        return queryset.none()
    return queryset.filter(collector_id=getattr(acting_user, "pk", None))


def case_not_found(case_id) -> LendingError:
    return LendingError(
        LendingErrorCode.NOT_FOUND, _("no case %(id)s") % {"id": case_id}, field="case"
    )
