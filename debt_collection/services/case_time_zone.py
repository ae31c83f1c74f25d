"""A case's borrower time zone: contact hours are checked in it (debt_collection.compliance), so
who may change it is who may decide when a borrower may be called — a manager, not the collector
working the case — and each change says why and is audited."""

from zoneinfo import available_timezones

from django.db import transaction
from django.utils.translation import gettext as _

from debt_collection.access import CollectionsPerm
from debt_collection.models import Case
from debt_collection.services.common import lock_case
from lending.access import require
from lending.errors import LendingError, LendingErrorCode
from lending.services.audit import audit_log
from lending.validation import clean_text


def time_zone_choices() -> list[str]:
    """Every IANA time zone name the server knows, sorted (the form's choices)."""
    return sorted(available_timezones())


@transaction.atomic
def case_time_zone_set(*, case_id, time_zone, reason, acting_user) -> Case:
    """Record the borrower's time zone on an open case (from today's contacts on, the hours are
    checked in it; reminders already scheduled keep theirs)."""
    require(acting_user, CollectionsPerm.SET_TIME_ZONE, to=_("set a case's time zone"))
    zone = time_zone.strip() if isinstance(time_zone, str) else ""
    if not zone:
        raise LendingError(
            LendingErrorCode.REQUIRED,
            _("give a time zone, such as Asia/Shanghai"),
            field="time_zone",
        )
    zone = clean_text(zone, field="time_zone", max_length=64)
    if zone not in available_timezones():
        raise LendingError(
            LendingErrorCode.INVALID,
            _("%(zone)s is not a time zone; give a name such as Asia/Shanghai or Asia/Urumqi")
            % {"zone": zone},
            field="time_zone",
        )
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    case = lock_case(case_id, acting_user)
    if zone == case.time_zone:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("the case is in %(zone)s already") % {"zone": zone},
            field="time_zone",
        )
    before, case.time_zone = case.time_zone, zone
    case.save(update_fields=["time_zone"])
    audit_log(
        actor=acting_user,
        action="case.time_zone",
        obj=case,
        summary=f"{before} → {zone}: {reason}",
        data={"from": before, "to": zone, "reason": reason},
    )
    return case
