"""Logging a contact attempt through the compliance guard, and contact holds.

Whatever the door (admin, API, import), a contact is logged here: the guard's rules
(debt_collection.compliance) run on the debtor's attempts under a lock on the borrower, so two
agents calling the same debtor at once are counted one after the other. A refusal is counted
for the collector (its own transaction: it stays when the refused contact does not) and raised
with the rule's stable code and the rule's source.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from debt_collection import compliance
from debt_collection.access import CollectionsPerm
from debt_collection.errors import CollectionsErrorCode
from debt_collection.models import (
    Channel,
    ComplianceRefusal,
    ContactAttempt,
    ContactHold,
    HoldKind,
    Outcome,
    Party,
)
from debt_collection.selectors import active_policy, case_priority
from debt_collection.services.common import lock_case
from debt_collection.shipped_texts import source_text
from lending.access import require, stored_user
from lending.errors import LendingError, LendingErrorCode
from lending.models import Borrower, EmergencyContact
from lending.services.audit import audit_log
from lending.validation import clean_text

# The form field each refusal belongs on (the admin shows it there).
FIELD = {
    compliance.PARTY: "party",
    compliance.HOLD: "party",
    compliance.EMERGENCY: "emergency_contact",
    compliance.HOURS: "contacted_at",
    compliance.DAILY: "channel",
    compliance.WEEKLY: "contacted_at",
}
# An outcome that stops contact from now on: the hold it places.
HOLD_ON_OUTCOME = {Outcome.DISPUTE: HoldKind.DISPUTE, Outcome.DECEASED: HoldKind.DO_NOT_CONTACT}


def refusal_message(breach: compliance.Breach) -> str:
    d = breach.details
    if breach.rule == compliance.PARTY:
        text = _("only the borrower or an emergency contact the borrower listed may be contacted")
    elif breach.rule == compliance.HOLD:
        kinds = ", ".join(str(HoldKind(k).label).lower() for k in d["holds"])
        text = _("the borrower is under a hold (%s): no contact at all") % kinds
    elif breach.rule == compliance.EMERGENCY:
        text = (
            _(
                "emergency contacts only after %(needed)s consecutive unreachable attempts on the "
                "borrower; the latest %(unreachable)s did not connect"
            )
            % d
        )
    elif breach.rule == compliance.HOURS:
        text = _("%(time)s in %(tz)s is outside the contact hours") % {
            "time": d["local_time"].strftime("%H:%M:%S"),
            "tz": d["tz"],
        }
    elif breach.rule == compliance.DAILY:
        text = _("%(count)s connected calls on %(day)s already: at most %(limit)s a day") % d
    else:
        text = _("%(count)s attempts in the 7 days before: at most %(limit)s") % d
    names = {
        compliance.PARTY: _("Allowed parties"),
        compliance.HOLD: _("Contact hold"),
        compliance.EMERGENCY: _("Emergency contacts"),
        compliance.HOURS: _("Contact hours"),
        compliance.DAILY: _("Daily call limit"),
        compliance.WEEKLY: _("Weekly attempt limit"),
    }
    return _("%(rule)s: %(text)s (source: %(source)s)") % {
        "rule": names[breach.rule],
        "text": text,
        "source": source_text(breach.source)
        if breach.source
        else _("the active compliance policy"),
    }


def _choice(value, choices, field: str) -> str:
    if value not in choices.values:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("%(value)r is not one of %(allowed)s")
            % {"value": value, "allowed": ", ".join(choices.values)},
            field=field,
        )
    return value


def _check_time(contacted_at, case) -> datetime:
    if not isinstance(contacted_at, datetime) or timezone.is_naive(contacted_at):
        raise LendingError(
            LendingErrorCode.INVALID,
            _("needs a date, a time and its offset"),
            field="contacted_at",
        )
    if contacted_at > timezone.now():
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE, _("is in the future"), field="contacted_at"
        )
    if compliance.local(contacted_at, case.time_zone).date() < case.opened_on:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("is before the case opened (%s)") % case.opened_on,
            field="contacted_at",
        )
    return contacted_at


def _as_attempt(row: ContactAttempt) -> compliance.Attempt:
    return compliance.Attempt(row.contacted_at, row.channel, row.party, True, row.connected)


def _past(borrower_id: int, at: datetime, emergency_after: int) -> list[compliance.Attempt]:
    """The debtor's attempts the rules look at: the 7 days before (and the rest of the local
    day after, for a contact logged late), and the latest ones on the borrower."""
    near = ContactAttempt.objects.filter(
        borrower_id=borrower_id,
        contacted_at__gt=at - compliance.WEEK,
        contacted_at__lt=at + timedelta(days=1),
    )
    latest = ContactAttempt.objects.filter(
        borrower_id=borrower_id, party=Party.BORROWER, contacted_at__lt=at
    ).order_by("-contacted_at")[: max(emergency_after, 1)]
    rows = {row.pk: row for row in near} | {row.pk: row for row in latest}
    return [_as_attempt(row) for row in rows.values()]


def contact_log(
    *,
    case_id,
    channel: str,
    party: str,
    contacted_at: datetime,
    connected: bool,
    outcome: str,
    acting_user,
    note: str = "",
    emergency_contact_id=None,
) -> ContactAttempt:
    """Record a contact attempt the compliance guard allows; refuse (and count) one it does
    not, naming the rule and its source."""
    with transaction.atomic():
        case, found = _guarded(
            case_id,
            channel,
            party,
            contacted_at,
            connected,
            outcome,
            acting_user,
            note,
            emergency_contact_id,
        )
    if isinstance(found, ContactAttempt):
        return found
    message = refusal_message(found)
    with transaction.atomic():
        refusal = ComplianceRefusal.objects.create(
            collector=stored_user(acting_user), case=case, rule=found.rule, message=message[:255]
        )
        audit_log(actor=acting_user, action="contact.refused", obj=refusal, summary=message)
    raise LendingError(CollectionsErrorCode(found.rule), message, field=FIELD[found.rule])


def _guarded(
    case_id, channel, party, contacted_at, connected, outcome, acting_user, note, contact_id
):
    require(acting_user, CollectionsPerm.LOG_CONTACT, to=_("log contacts"))
    case = lock_case(case_id, acting_user)
    channel = _choice(channel, Channel, "channel")
    outcome = _choice(outcome, Outcome, "outcome")
    note = clean_text(note, field="note", max_length=2000)
    at = _check_time(contacted_at, case)
    # One debtor's contacts are checked one at a time, whoever logs them.
    Borrower.objects.select_for_update().filter(pk=case.borrower_id).first()
    contact = None
    if party == Party.EMERGENCY_CONTACT:
        contact = EmergencyContact.objects.filter(
            pk=contact_id, borrower_id=case.borrower_id
        ).first()
    elif contact_id is not None:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("an emergency contact is chosen only when the party is an emergency contact"),
            field="emergency_contact",
        )
    policy = active_policy()
    attempt = compliance.Attempt(
        at, channel, party, party == Party.BORROWER or contact is not None, bool(connected)
    )
    holds = list(
        ContactHold.objects.filter(
            borrower_id=case.borrower_id, lifted_at__isnull=True
        ).values_list("kind", flat=True)
    )
    breach = compliance.check(
        policy.rules(),
        attempt,
        tz=case.time_zone,
        past=_past(case.borrower_id, at, policy.emergency_after),
        holds=holds,
    )
    if breach:
        return case, breach
    row = ContactAttempt.objects.create(
        case=case,
        borrower_id=case.borrower_id,
        channel=channel,
        party=party,
        emergency_contact=contact,
        contacted_at=at,
        connected=bool(connected),
        outcome=outcome,
        note=note,
        agent=stored_user(acting_user),
        policy=policy,
    )
    if case.last_contact_at is None or at > case.last_contact_at:
        case.last_contact_at = at
        score = case_priority(case, timezone.localdate())
        case.priority, case.priority_parts = score.score, score.parts
        case.save(update_fields=["last_contact_at", "priority", "priority_parts"])
    audit_log(
        actor=acting_user,
        action="contact.log",
        obj=row,
        summary=f"{channel} {party} {outcome}",
        data={"case": case.pk, "connected": bool(connected), "policy": policy.version},
    )
    hold = HOLD_ON_OUTCOME.get(outcome)
    if (
        hold
        and not ContactHold.objects.filter(
            borrower_id=case.borrower_id, kind=hold, lifted_at__isnull=True
        ).exists()
    ):
        _place(case.borrower_id, hold, _("outcome of contact %s") % row.pk, acting_user)
    return case, row


def _place(borrower_id, kind, reason, acting_user) -> ContactHold:
    hold = ContactHold.objects.create(
        borrower_id=borrower_id,
        kind=kind,
        reason=reason,
        placed_at=timezone.now(),
        placed_by=stored_user(acting_user),
    )
    audit_log(actor=acting_user, action="hold.place", obj=hold, summary=f"{kind}: {reason}")
    return hold


@transaction.atomic
def contact_hold_place(*, borrower_id, kind: str, reason: str, acting_user) -> ContactHold:
    """Stop all contact with a borrower (do not contact, or a dispute being looked into)."""
    require(acting_user, CollectionsPerm.MANAGE_HOLD, to=_("place contact holds"))
    kind = _choice(kind, HoldKind, "kind")
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    if not Borrower.objects.select_for_update().filter(pk=borrower_id).exists():
        raise LendingError(LendingErrorCode.NOT_FOUND, _("no such borrower"), field="borrower")
    if ContactHold.objects.filter(borrower_id=borrower_id, kind=kind, lifted_at__isnull=True):
        raise LendingError(
            LendingErrorCode.DUPLICATE,
            _("the borrower is already under this hold"),
            field="kind",
        )
    return _place(borrower_id, kind, reason, acting_user)


@transaction.atomic
def contact_hold_lift(*, hold_id, acting_user) -> ContactHold:
    require(acting_user, CollectionsPerm.MANAGE_HOLD, to=_("lift contact holds"))
    hold = ContactHold.objects.select_for_update().filter(pk=hold_id).first()
    if hold is None or hold.lifted_at is not None:
        raise LendingError(LendingErrorCode.NOT_FOUND, _("no hold in force"), field="hold")
    hold.lifted_at, hold.lifted_by = timezone.now(), stored_user(acting_user)
    hold.save(update_fields=["lifted_at", "lifted_by"])
    audit_log(actor=acting_user, action="hold.lift", obj=hold, summary=hold.kind)
    return hold
