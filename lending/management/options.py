"""Reading command-line options: one wording for a bad value, naming the flag."""

from datetime import date

from django.core.management.base import CommandError


def date_option(value: str | None, flag: str) -> date | None:
    """A YYYY-MM-DD option, None when not given; a bad value is a CommandError naming `flag`."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{flag}: {value!r} is not a date (use YYYY-MM-DD)") from None
