"""What a reminder says: its template variables and their wording, and the rendering.

The night stores facts (Decimal amounts and rates, dates); this turns them into the words the
borrower reads. Rates are annual fractions (0.24) shown as percentages ("24"), the way the
contract states them; amounts keep their two places.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import TokenType
from django.utils.translation import gettext as _

HUNDRED = Decimal(100)
# Every template must state these (issue 10: the amount due, the due date, the penalty that
# starts and its rate, the all-in cost cap); how to pay is the template's own text.
REQUIRED = ("amount_due", "due_date", "penalty_rate", "penalty_from", "cost_cap_rate")
VARIABLES = (
    "reference",
    "amount_due",
    "currency",
    "due_date",
    "penalty_rate",
    "penalty_from",
    "grace_until",
    "cost_cap_rate",
    "days_overdue",
)
# Only the built-in tags and filters: a template is text a manager edits, not code.
ENGINE = Engine(autoescape=False, libraries={}, debug=False)


def percent(rate: Decimal | None) -> str:
    """0.240000 → "24", 0.182500 → "18.25"; no cap known → "—"."""
    if rate is None:
        return "—"
    shown = (rate * HUNDRED).quantize(Decimal("0.01"))
    return format(shown.normalize(), "f") if shown == shown.to_integral() else format(shown, "f")


@dataclass(frozen=True)
class Facts:
    reference: str
    amount_due: Decimal
    currency: str
    due_date: date
    penalty_rate: Decimal
    penalty_from: date
    grace_until: date
    cost_cap_rate: Decimal | None
    send_on: date


def context(facts: Facts) -> dict[str, str | int]:
    return {
        "reference": facts.reference,
        "amount_due": f"{facts.amount_due:,.2f}",
        "currency": facts.currency,
        "due_date": facts.due_date.isoformat(),
        "penalty_rate": percent(facts.penalty_rate),
        "penalty_from": facts.penalty_from.isoformat(),
        "grace_until": facts.grace_until.isoformat(),
        "cost_cap_rate": percent(facts.cost_cap_rate),
        "days_overdue": max((facts.send_on - facts.due_date).days, 0),
    }


def render(text: str, facts: Facts) -> str:
    return ENGINE.from_string(text).render(Context(context(facts))).strip()


def syntax_error(text: str) -> str | None:
    """What is wrong with a template's syntax, in the active language (None when it parses)."""
    try:
        ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        return _syntax_problem(exc)
    return None


# Django's template errors are English sentences for developers: the ones a manager editing a
# reminder can run into are read back from Django's wording (stable across its versions) and
# said again in words of our own; anything else names the tag that cannot be read.
_INVALID_TAG = re.compile(
    r"Invalid block tag on line \d+: '[^']*'(?:, expected (?P<expected>.+?))?\."
)
_UNCLOSED = re.compile(r"Unclosed tag on line \d+: '[^']*'\. Looking for one of: (?P<ends>.+)\.")
_INVALID_FILTER = re.compile(r"Invalid filter: '(?P<name>[^']*)'")
_ARGUMENTS = re.compile(r"(?P<name>\w+) requires \d+ arguments, \d+ provided")
_REMAINDER = re.compile(r"Could not parse the remainder: '(?P<rest>.*)' from '")
_QUOTED = re.compile(r"'([^']*)'")
_CLOSERS = ("else", "elif", "empty")


def _shown(token) -> str:
    """A tag as the manager typed it: "{% if x %}", "{{ amount_due|foo }}"."""
    if token.token_type == TokenType.VAR:
        return "{{ " + token.contents + " }}" if token.contents else "{{ }}"
    if token.token_type == TokenType.BLOCK:
        return _block(token.contents) if token.contents else "{% %}"
    return token.contents


def _block(name: str) -> str:
    return "{% " + name + " %}"


def _syntax_problem(exc: TemplateSyntaxError) -> str:
    token = getattr(exc, "token", None)
    if token is None:
        return _("the text is not a valid template")
    said = str(exc)
    where = {"line": token.lineno, "tag": _shown(token)}
    command = token.contents.split()[0] if token.contents.split() else ""
    if token.contents == "":
        return _("line %(line)s: %(tag)s is empty") % where
    if match := _INVALID_TAG.match(said):
        if match["expected"]:
            expected = _block(_QUOTED.findall(match["expected"])[-1])
            return _("line %(line)s: %(tag)s found where %(expected)s was expected") % {
                **where,
                "expected": expected,
            }
        if command.startswith("end") or command in _CLOSERS:
            return _("line %(line)s: %(tag)s closes no open tag") % where
        return _("line %(line)s: %(tag)s is not a tag a reminder template can use") % where
    if match := _UNCLOSED.match(said):
        end = _block(match["ends"].split(", ")[-1])
        return _("line %(line)s: %(tag)s is not closed; add %(end)s") % {**where, "end": end}
    if match := _INVALID_FILTER.match(said):
        return _("line %(line)s: %(tag)s uses the filter “%(filter)s”, which does not exist") % {
            **where,
            "filter": match["name"],
        }
    if match := _ARGUMENTS.match(said):
        return _(
            "line %(line)s: %(tag)s gives the filter “%(filter)s” the wrong number of arguments"
        ) % {**where, "filter": match["name"]}
    if said.startswith("Variables and attributes may not begin with underscores"):
        return _("line %(line)s: %(tag)s: a variable may not begin with an underscore") % where
    if said.startswith("Unexpected end of expression") or "should have at least" in said:
        return _("line %(line)s: %(tag)s is incomplete") % where
    if command == "load":
        return _("line %(line)s: %(tag)s: a reminder template cannot load tag libraries") % where
    if match := _REMAINDER.match(said):
        return _("line %(line)s: %(tag)s: “%(rest)s” cannot be read") % {
            **where,
            "rest": match["rest"].strip(),
        }
    return _("line %(line)s: %(tag)s cannot be read; check its spelling and its quotes") % where


def missing(body: str) -> list[str]:
    """The required variables a template body does not show."""
    return [name for name in REQUIRED if not re.search(r"\{\{\s*" + name + r"\b", body)]
