"""Marking messages for translation in pure modules (no Django import).

A pure module (identity, schedules, replay, risk.policy) cannot call Django's `gettext`: it marks
its message templates with `gettext_noop`, which `makemessages` collects by name, and its errors
carry the template and the values to fill in. The Django side translates the template at raise
time (`lending.errors.translated`), so a message reads in the request's language.
"""


def gettext_noop(message: str) -> str:
    """Marks `message` for `makemessages`; returns it unchanged."""
    return message
