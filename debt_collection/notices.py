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
    try:
        ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        return str(exc)
    return None


def missing(body: str) -> list[str]:
    """The required variables a template body does not show."""
    return [name for name in REQUIRED if not re.search(r"\{\{\s*" + name + r"\b", body)]
