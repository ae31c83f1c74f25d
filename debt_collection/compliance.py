"""The compliance guard's rules: may this contact attempt be made? Pure Python, no Django.

`check` takes the active policy's values, the attempt and the debtor's other attempts and
returns the first rule it breaks, or None. The service reads the rows, calls it, and refuses
with the rule's code (debt_collection.errors) and its source; it words the message.

The rules, in the order they are checked (the first broken one is reported):

1. party: only the borrower or one of the borrower's listed emergency contacts;
2. hold: a do-not-contact or dispute hold on the borrower stops all contact;
3. emergency contacts only after `emergency_after` consecutive unreachable (not connected)
   attempts on the borrower, the latest ones before this attempt;
4. hours: contact is allowed from `contact_from` (inclusive) to `contact_until` (exclusive) in
   the borrower's time zone — 21:59:59 allowed, 22:00:00 refused under 08:00–22:00. A letter
   is posted, not delivered at an hour the collector picks: it is exempt;
5. daily: at most `daily_connected_calls` connected calls per debtor per local day, across all
   agents and parties. A call is refused once that many connected: placed, it could be one more;
6. weekly: at most `weekly_attempts` attempts per debtor in any 7 days — the window is the seven
   days up to the attempt, (at − 7 days, at] — calls only when `weekly_calls_only`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

BORROWER = "borrower"
EMERGENCY_CONTACT = "emergency_contact"
CALL = "call"
LETTER = "letter"

PARTY = "contact_party_not_allowed"
HOLD = "contact_hold"
EMERGENCY = "contact_emergency_too_early"
HOURS = "contact_outside_hours"
DAILY = "contact_daily_limit"
WEEKLY = "contact_weekly_limit"
WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Rules:
    contact_from: time
    contact_until: time
    daily_connected_calls: int | None  # None: no daily limit
    weekly_attempts: int | None  # None: no weekly limit
    weekly_calls_only: bool
    emergency_after: int
    sources: dict[str, str] = field(default_factory=dict)  # rule code -> where it comes from


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime  # timezone-aware
    channel: str
    party: str  # BORROWER | EMERGENCY_CONTACT | anything else (refused)
    party_listed: bool = True  # an emergency contact the borrower named
    connected: bool = False


@dataclass(frozen=True, slots=True)
class Breach:
    rule: str  # the error code
    source: str
    details: dict  # the figures the message shows


def local(at: datetime, tz: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("contact times must carry their offset")
    return at.astimezone(ZoneInfo(tz))


def check(
    rules: Rules, attempt: Attempt, *, tz: str, past: Sequence[Attempt], holds: Sequence[str]
) -> Breach | None:
    """The first rule `attempt` breaks, given the debtor's other attempts (`past`: at least
    those of the last 7 days and the last `emergency_after` on the borrower) and active holds."""

    def breach(rule: str, **details) -> Breach:
        return Breach(rule, rules.sources.get(rule, ""), details)

    if attempt.party not in (BORROWER, EMERGENCY_CONTACT) or not attempt.party_listed:
        return breach(PARTY)
    if holds:
        return breach(HOLD, holds=sorted(holds))
    if attempt.party == EMERGENCY_CONTACT:
        unreachable = consecutive_unreachable(past, before=attempt.at)
        if unreachable < rules.emergency_after:
            return breach(EMERGENCY, unreachable=unreachable, needed=rules.emergency_after)
    when = local(attempt.at, tz)
    if attempt.channel != LETTER and not (rules.contact_from <= when.time() < rules.contact_until):
        return breach(HOURS, local_time=when, tz=tz)
    if attempt.channel == CALL and rules.daily_connected_calls is not None:
        day = when.date()
        connected = sum(
            1 for p in past if p.channel == CALL and p.connected and local(p.at, tz).date() == day
        )
        if connected >= rules.daily_connected_calls:
            return breach(DAILY, count=connected, limit=rules.daily_connected_calls, day=day)
    if rules.weekly_attempts is not None and (
        attempt.channel == CALL or not rules.weekly_calls_only
    ):
        counted = sum(
            1
            for p in past
            if attempt.at - WEEK < p.at <= attempt.at
            and (p.channel == CALL or not rules.weekly_calls_only)
        )
        if counted >= rules.weekly_attempts:
            return breach(WEEKLY, count=counted, limit=rules.weekly_attempts)
    return None


def consecutive_unreachable(past: Sequence[Attempt], *, before: datetime) -> int:
    """How many of the latest attempts on the borrower before `before` did not connect."""
    count = 0
    borrower = sorted(
        (p for p in past if p.party == BORROWER and p.at < before), key=lambda p: p.at
    )
    for attempt in reversed(borrower):
        if attempt.connected:
            break
        count += 1
    return count
