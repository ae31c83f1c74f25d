"""Reason codes for credit decisions: the fixed catalogue and the plain-language wording (§7).

Pure Python, no Django. A `Reason` is one factor that drove a decision; `risk.policy.evaluate`
builds them, most important first. The codes are a closed set (`CATALOGUE`) so the back office
can filter and translate them; the `text` is the sentence shown to an officer or in a notice,
with the borrower's actual figures in it ("9 credit inquiries in the last 6 months (at most 6)").

Numbers in texts: money with thousands separators and two places ("10,000.00"), ratios as
percentages ("45%", "42.9%"), counts as plain integers.
"""

from dataclasses import dataclass
from decimal import Decimal

from lending.money import quantize_money


def gettext_noop(message: str) -> str:
    """Marks a catalogue entry for `makemessages` (which looks for this name) without importing
    Django: the admin translates the meanings when it shows them."""
    return message


# Hard rules that decline.
AGE_OUT_OF_RANGE = "AGE_OUT_OF_RANGE"
BLACKLISTED = "BLACKLISTED"
CURRENTLY_OVERDUE = "CURRENTLY_OVERDUE"
TOO_MANY_INQUIRIES = "TOO_MANY_INQUIRIES"
# Hard rules that refer.
INCOME_NOT_VERIFIED = "INCOME_NOT_VERIFIED"
MISSING_DATA = "MISSING_DATA"
# The scorecard.
LOW_GRADE = "LOW_GRADE"
LOW_SCORE = "LOW_SCORE"
# Limits and affordability.
DTI_EXCEEDED = "DTI_EXCEEDED"
LIMIT_BELOW_MINIMUM = "LIMIT_BELOW_MINIMUM"
NO_REPAYMENT_CAPACITY = "NO_REPAYMENT_CAPACITY"

# code -> what it means (for a filter list or a help page); the texts themselves carry figures.
CATALOGUE: dict[str, str] = {
    AGE_OUT_OF_RANGE: gettext_noop("the applicant's age is outside the range the policy accepts"),
    BLACKLISTED: gettext_noop("the applicant is on the blacklist"),
    CURRENTLY_OVERDUE: gettext_noop(
        "the applicant is currently overdue, with us or at another lender"
    ),
    TOO_MANY_INQUIRIES: gettext_noop("too many credit inquiries in the last 6 months"),
    INCOME_NOT_VERIFIED: gettext_noop("income not verified"),
    MISSING_DATA: gettext_noop("data the policy needs is not on file"),
    LOW_GRADE: gettext_noop("the score falls in a grade the policy refers or declines"),
    LOW_SCORE: gettext_noop("a scorecard factor that cost points"),
    DTI_EXCEEDED: gettext_noop(
        "existing plus new monthly payments exceed the debt-to-income ceiling"
    ),
    LIMIT_BELOW_MINIMUM: gettext_noop("the limit the policy allows is below its minimum"),
    NO_REPAYMENT_CAPACITY: gettext_noop(
        "existing debt payments already use all the repayment capacity allowed"
    ),
}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # one of CATALOGUE
    text: str  # plain words with the borrower's figures
    # For a scorecard factor: the points it cost against the characteristic's best band (the
    # order of factors). None for a rule (its place in the list comes from rule precedence).
    weight: int | None = None
    # Added to the designed (code, text, weight): the attribute a reason is about, so the caller
    # can group or translate factors without parsing the text. None when not about one attribute.
    attribute: str | None = None

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "text": self.text,
            "weight": self.weight,
            "attribute": self.attribute,
        }


def fmt_money(amount: Decimal) -> str:
    """10000 -> '10,000.00' (display only; rounded by the one money rule, half up)."""
    return f"{quantize_money(amount):,}"


def fmt_ratio(ratio: Decimal) -> str:
    """0.5 -> '50%', 0.4285714 -> '42.9%' (display only)."""
    return f"{ratio * 100:,.1f}".removesuffix(".0") + "%"


def fmt_count(value: int) -> str:
    return str(value)
