"""The collections app's stable error codes (Saleor-style, DESIGN §3.2).

They are raised as lending's `LendingError`, so the admin, the API and imports show them the
same way as every other refusal; the codes are strings, so a StrEnum of our own fits where
`LendingErrorCode` is expected.
"""

from enum import StrEnum


class CollectionsErrorCode(StrEnum):
    CONTACT_OUTSIDE_HOURS = "contact_outside_hours"
    CONTACT_DAILY_LIMIT = "contact_daily_limit"
    CONTACT_WEEKLY_LIMIT = "contact_weekly_limit"
    CONTACT_HOLD = "contact_hold"
    CONTACT_PARTY_NOT_ALLOWED = "contact_party_not_allowed"
    CONTACT_EMERGENCY_TOO_EARLY = "contact_emergency_too_early"
    CASE_CLOSED = "case_closed"
    PROPOSAL_DECIDED = "proposal_decided"
