"""The words the shipped compliance policies hold (migration 0002), marked for translation: each
rule's source, so a refusal names it in the reader's language, and the emergency-contact script,
so an agent reads it in theirs — while the text is the one shipped. A source or script a manager
rewrites is theirs, shown as written (docs/i18n.md, "Compliance texts")."""

from django.utils.translation import gettext, gettext_noop

SHIPPED_SOURCES = (
    gettext_noop(
        "GB/T 45251-2025: no collection contact from 22:00 to 08:00, borrower's local time"
    ),
    gettext_noop(
        "GB/T 45251-2025: at most 3 connected calls per debtor per day, all agents together"
    ),
    gettext_noop("House setting under GB/T 45251-2025: attempts per debtor in any 7 days"),
    gettext_noop(
        "GB/T 45251-2025: no contact while the debtor has asked not to be contacted or disputes "
        "the debt"
    ),
    gettext_noop(
        "GB/T 45251-2025: emergency contacts only when the borrower cannot be reached (house "
        "setting: after 3 consecutive unreachable attempts), never told of the debt"
    ),
    gettext_noop("GB/T 45251-2025: only the borrower and the emergency contacts they listed"),
)


def source_text(source: str) -> str:
    """A rule's source in the reader's language when it is a shipped one, else as written."""
    return gettext(source) if source in SHIPPED_SOURCES else source


# What an agent may say to an emergency contact (the shipped policies' emergency_note).
SHIPPED_SCRIPT = gettext_noop(
    "You may say who you are and ask the contact to pass on that the borrower should call us. "
    "Never say that the borrower owes money, how much, or to whom: the contact is not a debtor."
)


def script_text(script: str) -> str:
    """The emergency-contact script in the reader's language when it is the shipped one, else
    as the manager wrote it."""
    return gettext(script) if script == SHIPPED_SCRIPT else script
