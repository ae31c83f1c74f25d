"""A decision's reasons and trace lines in the reader's language (issue 13).

Decisions store each reason and trace line as a message key and its parameters beside the
English text (`risk.reasons`). Everything that shows them — the admin, the API — renders them
here, at display time, in the active language (LocaleMiddleware sets it per request): a
decision taken while the officer worked in English reads in Chinese for a Chinese reader.

Rows stored before the keys existed, or with a key this version does not know, are shown as
stored (their English `text` / `detail`); migration risk 0006 gave the old rows their keys
where their text could be read back.

Credit limit changes and increase proposals keep the reasons the platform writes the same way
(`reason_message`, `reason_params` beside the English `reason`; `stored_reason`), and so do
the attributes a fitted scorecard leaves out (`risk.scorecard`).
"""

from collections.abc import Mapping
from decimal import InvalidOperation

from django.utils.translation import gettext, gettext_noop

from risk import reasons as rc
from risk.models import EmploymentType, LimitStatus

# Trace results that are words (the rest are points, grades and amounts, shown as they are).
RESULT_WORDS = {
    "pass": gettext_noop("pass"),
    "off": gettext_noop("off"),
    "skipped": gettext_noop("skipped"),
    **rc.OUTCOME_WORDS,
}


def category_text(code: str) -> str:
    """An employment type in words, in the active language ("salaried" -> "工薪")."""
    try:
        return str(EmploymentType(code).label).lower()
    except ValueError:
        return code


def _status(code: str) -> str:
    try:
        return str(LimitStatus(code).label).lower()
    except ValueError:
        return code


def _language() -> rc.Language:
    return rc.Language(gettext=gettext, category=category_text, status=_status)


def message_text(message: str | None, params: Mapping | None, stored: str = "") -> str:
    """The words of a stored message in the active language; `stored` when the row has no
    message key or one this version cannot render."""
    if not message or message not in rc.MESSAGES:
        return stored
    try:
        return rc.render(message, params or {}, _language())
    except (KeyError, IndexError, TypeError, ValueError, InvalidOperation):
        return stored


def reason_text(reason: Mapping) -> str:
    """One stored reason (`Decision.reasons` item) in the reader's language."""
    return message_text(reason.get("message"), reason.get("params"), reason.get("text", ""))


def trace_detail(step: Mapping) -> str:
    """One stored trace line's detail (`Decision.trace` item) in the reader's language."""
    return message_text(step.get("message"), step.get("params"), step.get("detail", ""))


def stored_reason(row) -> str:
    """A credit limit change's or increase proposal's reason in the reader's language: the
    platform's own reasons render from their key, a person's words (and rows the migration
    could not read back) are shown as written."""
    return message_text(row.reason_message, row.reason_params, row.reason)


def trace_result(result: str) -> str:
    """A trace line's result: "pass" / "decline" / ... in words; points and amounts as they are."""
    return gettext(RESULT_WORDS[result]) if result in RESULT_WORDS else result


def reason_meaning(code: str) -> str:
    """What a reason code means, in the reader's language ("" for an unknown code)."""
    if code in rc.CATALOGUE:
        return gettext(rc.CATALOGUE[code])
    return gettext(UNDERWRITING_MEANINGS[code]) if code in UNDERWRITING_MEANINGS else ""


# Underwriting adds these two when a limit, not the policy, refuses an approval
# (risk.services.underwriting.LIMIT_EXCEEDED / LIMIT_FROZEN).
UNDERWRITING_MEANINGS = {
    "LIMIT_EXCEEDED": gettext_noop(
        "the amount asked for does not fit in the available credit limit"
    ),
    "LIMIT_FROZEN": gettext_noop("the credit limit is frozen or closed"),
}
