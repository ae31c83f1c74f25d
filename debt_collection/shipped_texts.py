"""The words the shipped compliance policies cite as each rule's source (migration 0002), marked
for translation: a refusal names its source in the reader's language while the text is the one
shipped. A source a manager rewrites is shown as written."""

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
