"""Reason codes for credit decisions: the fixed catalogue and the plain-language wording (§7).

Pure Python, no Django. A `Reason` is one factor that drove a decision; `risk.policy.evaluate`
builds them, most important first. The codes are a closed set (`CATALOGUE`) so the back office
can filter and translate them.

Every reason and every trace line is stored as a message key and its parameters
(`message`, `params`), and rendered to words by `render` from the templates in `MESSAGES`:
in English here (the `text` / `detail` stored beside them, for logs and old readers), and in
the reader's language at display time (`risk.reason_texts`, which passes Django's gettext). So
a decision taken while the officer worked in English reads in Chinese for a Chinese reader.
The keys are stable: a key's template may be reworded, never given other parameters (add a new
key instead), because stored decisions keep their keys for years.

Parameters are JSON values. Their meaning comes from their name, the same in every message
(`PARAM_KINDS`): amounts (`MONEY`) and ratios (`RATIO`) are decimal strings formatted at render
time; `attribute` names the profile attribute a line is about (its label, the kind of its
`value` and `band`); `outcome`, `best` (an employment type) and `status` are codes put in words;
`reasons` is a list of nested messages; `reason` is one nested message or a person's own words
(shown as written); every other parameter is shown as it is.

Beside decisions, two other stored texts use the same keys and rendering (`Message`): the
reason of a credit limit change or increase proposal the platform itself writes (the nightly
review's `risk.behaviour`, the first limit, an approved proposal), and why a fitted scorecard
left an attribute out (`risk.scorecard`).

Numbers in texts: money with thousands separators and two places ("10,000.00"), ratios as
percentages ("45%", "42.9%"), counts as plain integers.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from lending.i18n import gettext_noop
from lending.money import quantize_money

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
    message: str  # the key of its words in MESSAGES
    params: dict  # the figures in them (Decimals as they are; as_dict stores strings)
    # For a scorecard factor: the points it cost against the characteristic's best band (the
    # order of factors). None for a rule (its place in the list comes from rule precedence).
    weight: int | None = None
    # Added to the designed (code, text, weight): the attribute a reason is about, so the caller
    # can group or translate factors without parsing the text. None when not about one attribute.
    attribute: str | None = None

    @property
    def text(self) -> str:
        """Plain words with the borrower's figures, in English (rendered when asked for: the
        nightly review and simulations evaluate many borrowers and read no text)."""
        return render(self.message, self.params)

    def as_dict(self) -> dict:
        params = json_params(**self.params)
        return {
            "code": self.code,
            "text": render(self.message, params),
            "weight": self.weight,
            "attribute": self.attribute,
            "message": self.message,
            "params": params,
        }


@dataclass(frozen=True, slots=True)
class Message:
    """Words stored as a key of MESSAGES and its parameters, rendered in the reader's language
    when shown (`risk.reason_texts.message_text`); `text` is the English stored beside them."""

    key: str
    params: dict

    @classmethod
    def of(cls, key: str, **params) -> "Message":
        return cls(key, json_params(**params))

    @property
    def text(self) -> str:
        return render(self.key, self.params)

    def as_dict(self) -> dict:
        """As nested in another message's `reason` parameter."""
        return {"message": self.key, "params": self.params}


def fmt_money(amount: Decimal) -> str:
    """10000 -> '10,000.00' (display only; rounded by the one money rule, half up)."""
    return f"{quantize_money(amount):,}"


def fmt_ratio(ratio: Decimal) -> str:
    """0.5 -> '50%', 0.4285714 -> '42.9%' (display only)."""
    return f"{ratio * 100:,.1f}".removesuffix(".0") + "%"


def fmt_count(value: int) -> str:
    return str(value)


# --------------------------------------------------------------------------- attributes

INTEGER = "integer"
MONEY = "money"
RATIO = "ratio"
CATEGORY = "category"

# attribute -> (kind, default label). The label reads in "<label> is <value>".
ATTRIBUTES: dict[str, tuple[str, str]] = {
    "age": (INTEGER, gettext_noop("age")),
    "bureau_score": (INTEGER, gettext_noop("credit bureau score")),
    "bureau_inquiries_6m": (
        INTEGER,
        gettext_noop("number of credit inquiries in the last 6 months"),
    ),
    "bureau_worst_delinquency_days": (
        INTEGER,
        gettext_noop("worst delinquency at other lenders (days)"),
    ),
    "bureau_current_delinquencies": (
        INTEGER,
        gettext_noop("number of loans overdue at other lenders"),
    ),
    "employment_months": (INTEGER, gettext_noop("time in current employment (months)")),
    "platform_worst_dpd": (INTEGER, gettext_noop("worst days past due on loans with us")),
    "platform_loans_repaid": (INTEGER, gettext_noop("number of loans repaid with us")),
    "monthly_income": (MONEY, gettext_noop("monthly income")),
    "platform_outstanding_principal": (MONEY, gettext_noop("principal outstanding with us")),
    "platform_on_time_ratio": (RATIO, gettext_noop("share of installments paid on time with us")),
    "debt_to_income": (RATIO, gettext_noop("debt-to-income ratio")),
    "employment_type": (CATEGORY, gettext_noop("employment type")),
}

# Codes put in words inside a sentence ("the policy says approve for grade A").
OUTCOME_WORDS = {
    "approve": gettext_noop("approve"),
    "refer": gettext_noop("refer"),
    "decline": gettext_noop("decline"),
}


# --------------------------------------------------------------------------- messages

# key -> English template (%-placeholders by name; see PARAM_KINDS for what each name holds).
MESSAGES: dict[str, str] = {
    # hard rules
    "age.missing": gettext_noop("age not on file"),
    "age.missing.detail": gettext_noop(
        "age not on file: the %(min_age)s–%(max_age)s age rule cannot be checked"
    ),
    "age.outside": gettext_noop(
        "age %(age)s is outside the %(min_age)s–%(max_age)s range the policy accepts"
    ),
    "age.within": gettext_noop("age %(age)s is within %(min_age)s–%(max_age)s"),
    "blacklist.off": gettext_noop("the policy does not decline on the blacklist"),
    "blacklist.on": gettext_noop("on the blacklist"),
    "blacklist.clear": gettext_noop("not on the blacklist"),
    "blacklist.missing": gettext_noop("blacklist status not on file"),
    "blacklist.missing.detail": gettext_noop(
        "blacklist status not on file: the blacklist rule cannot be checked"
    ),
    "overdue.off": gettext_noop("the policy does not decline on current delinquency"),
    "overdue.here": gettext_noop("currently overdue: a loan with us is overdue"),
    "overdue.elsewhere.one": gettext_noop(
        "currently overdue: %(count)s loan overdue at other lenders"
    ),
    "overdue.elsewhere": gettext_noop(
        "currently overdue: %(count)s loans overdue at other lenders"
    ),
    "overdue.both.one": gettext_noop(
        "currently overdue: a loan with us is overdue and %(count)s loan overdue at other lenders"
    ),
    "overdue.both": gettext_noop(
        "currently overdue: a loan with us is overdue and %(count)s loans overdue at other lenders"
    ),
    "overdue.here.missing": gettext_noop("overdue status with us not on file"),
    "overdue.here.missing.detail": gettext_noop(
        "overdue status with us not on file: the current-delinquency rule cannot be checked"
    ),
    "overdue.elsewhere.missing": gettext_noop("no count of loans overdue at other lenders on file"),
    "overdue.elsewhere.missing.detail": gettext_noop(
        "no bureau count of loans overdue elsewhere: the current-delinquency rule cannot be checked"
    ),
    "overdue.none": gettext_noop("nothing overdue, with us or at other lenders"),
    "inquiries.off": gettext_noop("the policy sets no maximum of credit inquiries"),
    "inquiries.missing": gettext_noop(
        "number of credit inquiries in the last 6 months not on file"
    ),
    "inquiries.missing.detail": gettext_noop(
        "inquiry count not on file: the inquiry rule cannot be checked"
    ),
    "inquiries": gettext_noop(
        "%(count)s credit inquiries in the last 6 months (at most %(max_count)s)"
    ),
    "income.unverified.off": gettext_noop("the policy does not refer on unverified income"),
    "income.verified": gettext_noop("income verified"),
    "income.unverified": gettext_noop("income not verified"),
    "income.missing": gettext_noop("monthly income not on file"),
    "income.missing.detail": gettext_noop(
        "monthly income not on file: the limit cannot be worked out"
    ),
    "debt.missing": gettext_noop("existing monthly debt payments not on file"),
    "debt.missing.detail": gettext_noop(
        "existing monthly debt payments not on file: debt-to-income cannot be checked "
        "(counted as 0 for the proposed limit)"
    ),
    # scorecard
    "missing": gettext_noop("%(label)s not on file"),
    "score.base": gettext_noop("every applicant starts with %(score)s points"),
    "score.missing": gettext_noop("%(label)s not on file: %(points)+d points"),
    "score.category": gettext_noop("%(label)s is %(value)s: %(points)+d points"),
    "score.unlisted": gettext_noop(
        "%(label)s %(value_repr)s is not on the scorecard: %(points)+d points"
    ),
    "score.band": gettext_noop("%(label)s is %(value)s: band %(band)s, %(points)+d points"),
    "score.total": gettext_noop("score %(score)s"),
    # grade
    "grade.reached": gettext_noop(
        "score %(score)s reaches grade %(grade)s's cut-off %(cut_off)s; the policy says "
        "%(outcome)s for grade %(grade)s"
    ),
    "grade.lowest": gettext_noop(
        "score %(score)s is below every other cut-off; the policy says %(outcome)s for grade "
        "%(grade)s"
    ),
    # limit
    "limit.skipped.hard_rule": gettext_noop("declined by a hard rule: no limit"),
    "limit.skipped.grade": gettext_noop("grade %(grade)s is declined: no limit"),
    "limit.skipped.income": gettext_noop("monthly income not on file: no limit"),
    "limit.by_income": gettext_noop("monthly income %(income)s × %(multiple)s = %(by_income)s"),
    "limit.allowed": gettext_noop(
        "debt payments may take %(ceiling)s of income = %(allowed)s a month; existing "
        "payments of %(debt)s leave %(available)s"
    ),
    "limit.no_capacity": gettext_noop(
        "existing debt payments of %(debt)s a month already use the %(allowed)s the policy "
        "allows (%(ceiling)s of income)"
    ),
    "limit.scaled": gettext_noop(
        "existing payments leave %(share)s of the allowed payments, so the limit is "
        "%(by_income)s × %(share)s = %(scaled)s"
    ),
    "limit.no_debt": gettext_noop("no existing debt payments: the income-based limit stands"),
    "limit.capped.household": gettext_noop("%(scaled)s is capped at the household cap, %(capped)s"),
    "limit.capped.grade": gettext_noop(
        "%(scaled)s is capped at grade %(grade)s's max_limit, %(capped)s"
    ),
    "limit.within_max": gettext_noop(
        "%(scaled)s is within grade %(grade)s's max_limit %(max_limit)s"
    ),
    "limit.rounded": gettext_noop(
        "%(capped)s rounded down to a multiple of %(unit)s = %(rounded)s"
    ),
    "limit.below_min": gettext_noop(
        "the limit the policy allows, %(rounded)s, is below its minimum of %(min_limit)s"
    ),
    "limit.zero": gettext_noop("the limit the policy allows comes out at %(rounded)s"),
    "limit.at_least_min": gettext_noop("%(rounded)s is at least the minimum %(min_limit)s"),
    # debt-to-income with the new loan
    "dti.skipped": gettext_noop("no loan requested: only the limit is assessed"),
    "dti.payment.missing": gettext_noop("the new loan's monthly payment is unknown"),
    "dti.payment.missing.detail": gettext_noop(
        "the new loan's monthly payment is unknown: debt-to-income with the new loan cannot "
        "be checked"
    ),
    "dti.over": gettext_noop(
        "existing payments of %(debt)s plus the new loan's %(payment)s a month come to "
        "%(total)s, more than the %(allowed)s (%(ceiling)s of income) the policy allows"
    ),
    "dti.within": gettext_noop(
        "existing payments of %(debt)s plus the new loan's %(payment)s a month come to "
        "%(total)s, within the %(allowed)s (%(ceiling)s of income) the policy allows"
    ),
    # outcome
    "outcome.reasons": gettext_noop("%(reasons)s"),
    "outcome.approve": gettext_noop("grade %(grade)s, limit %(limit)s"),
    # the score as a reason
    "grade.declines": gettext_noop("score %(score)s is grade %(grade)s, which the policy declines"),
    "grade.refers": gettext_noop("score %(score)s is grade %(grade)s, which the policy refers"),
    "factor.unlisted": gettext_noop("%(label)s %(value_repr)s is not on the scorecard"),
    "factor.category": gettext_noop(
        "%(label)s is %(value)s, %(lost)s points below the best category (%(best)s)"
    ),
    "factor.lowest": gettext_noop("%(label)s is %(value)s, in the lowest-scoring band (%(band)s)"),
    "factor.band": gettext_noop(
        "%(label)s is %(value)s, in band %(band)s, %(lost)s points below the best band"
    ),
    # underwriting: a limit, not the policy, refuses an approval (amounts as plain figures)
    "limit.not_active": gettext_noop("the credit limit is %(status)s"),
    "limit.exceeded": gettext_noop(
        "%(owed)s already owed or approved plus %(requested)s requested exceeds the limit of "
        "%(credit_limit)s (available %(left)s)"
    ),
    # a credit limit change's reason (CreditLimitChange / LimitIncreaseProposal); ".one" is the
    # singular English of a count of 1
    "limit.first": gettext_noop("first limit from policy version %(version)s"),
    "limit.increase_approved": gettext_noop("increase proposal %(proposal)s approved: %(reason)s"),
    "review.freeze.one": gettext_noop(
        "current delinquency: loan %(loan)s is %(dpd)s day past due (freeze at %(freeze_dpd)s)"
    ),
    "review.freeze": gettext_noop(
        "current delinquency: loan %(loan)s is %(dpd)s days past due (freeze at %(freeze_dpd)s)"
    ),
    "review.cut.one": gettext_noop(
        "current delinquency: loan %(loan)s is %(dpd)s day past due (cut at %(cut_dpd)s); "
        "limit cut to %(cut_to)s, %(from_amount)s → %(to_amount)s"
    ),
    "review.cut": gettext_noop(
        "current delinquency: loan %(loan)s is %(dpd)s days past due (cut at %(cut_dpd)s); "
        "limit cut to %(cut_to)s, %(from_amount)s → %(to_amount)s"
    ),
    "review.restore.since.one": gettext_noop(
        "cured on %(cured)s, and %(count)s installment due since then paid on time (restore "
        "after %(restore_after)s)"
    ),
    "review.restore.since": gettext_noop(
        "cured on %(cured)s, and %(count)s installments due since then paid on time (restore "
        "after %(restore_after)s)"
    ),
    "review.restore.one": gettext_noop(
        "cured, and %(count)s installment paid on time (restore after %(restore_after)s)"
    ),
    "review.restore": gettext_noop(
        "cured, and %(count)s installments paid on time (restore after %(restore_after)s)"
    ),
    "review.propose.one": gettext_noop(
        "%(count)s installment paid on time in a row (propose after %(propose_after)s): "
        "%(from_amount)s + %(increase_by)s → %(to_amount)s"
    ),
    "review.propose": gettext_noop(
        "%(count)s installments paid on time in a row (propose after %(propose_after)s): "
        "%(from_amount)s + %(increase_by)s → %(to_amount)s"
    ),
    # scorecard fitting (risk.scorecard): why an attribute is left out of the fitted scorecard
    "fit.one_band": gettext_noop("its values do not split into two bands"),
    "fit.low_iv": gettext_noop("information value %(iv)s < %(min_iv)s"),
    "fit.by_chance": gettext_noop("its bands may differ by chance alone (χ² p = %(p_value)s)"),
    "fit.reversed": gettext_noop("its weight came out reversed next to the others (dropped)"),
}

# A band of a scorecard characteristic: integer bands are closed, decimal ones half-open.
BAND_MESSAGES = {
    "any": gettext_noop("any value"),
    "up_to": gettext_noop("up to %(hi)s"),
    "from": gettext_noop("%(lo)s and above"),
    "range": gettext_noop("%(lo)s–%(hi)s"),
    "exactly": gettext_noop("exactly %(lo)s"),
    "under": gettext_noop("under %(hi)s"),
    "between": gettext_noop("%(lo)s to under %(hi)s"),
}
# Joins the reasons in the outcome's trace line.
LIST_SEPARATOR = gettext_noop("; ")

# What a parameter holds, by name (the same in every message). Names not listed are shown as
# they are (counts, scores, points, grades, rule figures such as a multiple).
PARAM_KINDS: dict[str, str] = {
    name: MONEY
    for name in (
        "income",
        "by_income",
        "allowed",
        "available",
        "debt",
        "scaled",
        "capped",
        "rounded",
        "limit",
        "min_limit",
        "max_limit",
        "payment",
        "total",
        "from_amount",
        "to_amount",
    )
} | {"ceiling": RATIO, "share": RATIO, "cut_to": RATIO, "increase_by": RATIO}


@dataclass(frozen=True, slots=True)
class Language:
    """How `render` puts words in a language: `gettext` translates an English msgid,
    `category` names an employment type, `status` a credit limit's status. The default leaves
    all three as they are: English, with the codes as words ("salaried", "frozen")."""

    gettext: Callable[[str], str] = str
    category: Callable[[str], str] = str
    status: Callable[[str], str] = str


ENGLISH = Language()


def _number(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _format(value, kind: str, language: Language) -> str:
    if kind == MONEY:
        return fmt_money(_number(value))
    if kind == RATIO:
        return fmt_ratio(_number(value))
    if kind == CATEGORY:
        return language.category(str(value))
    return str(value)


def band_text(lo, hi, kind: str, language: Language = ENGLISH) -> str:
    """ "550–649", "under 3,000.00", "95% and above" (integer bands closed, others half-open)."""
    words = language.gettext
    if lo is None and hi is None:
        return words(BAND_MESSAGES["any"])
    bounds = {
        "lo": None if lo is None else _format(lo, kind, language),
        "hi": None if hi is None else _format(hi, kind, language),
    }
    if kind == INTEGER:
        if lo is None:
            key = "up_to"
        elif hi is None:
            key = "from"
        else:
            key = "range" if lo != hi else "exactly"
    else:
        key = "under" if lo is None else "from" if hi is None else "between"
    return words(BAND_MESSAGES[key]) % bounds


def attribute_label(attribute: str, custom: str | None = None, language: Language = ENGLISH):
    """The words for an attribute: the policy's own label if it gave one, else the default."""
    if custom:
        return language.gettext(custom)
    default = ATTRIBUTES.get(attribute, (None, attribute.replace("_", " ")))[1]
    return language.gettext(default)


def render(message: str, params: Mapping, language: Language = ENGLISH) -> str:
    """The words of a stored message. Raises KeyError for an unknown key or a missing
    parameter (callers showing stored rows fall back to the text stored with them)."""
    template = MESSAGES[message]
    attribute = params.get("attribute")
    kind = ATTRIBUTES[attribute][0] if attribute in ATTRIBUTES else None
    values: dict = {}
    for name, value in params.items():
        if name == "attribute":
            continue
        if name == "label":
            continue  # below, with the attribute
        if name == "value":
            values[name] = _format(value, kind, language) if value is not None else ""
        elif name == "band":
            values[name] = band_text(value[0], value[1], kind, language)
        elif name == "outcome":
            words = OUTCOME_WORDS
            values[name] = language.gettext(words[value]) if value in words else str(value)
        elif name == "status":
            values[name] = language.status(str(value))
        elif name == "best":
            values[name] = _format(value, CATEGORY, language)
        elif name == "reasons":
            values[name] = language.gettext(LIST_SEPARATOR).join(
                render(r["message"], r.get("params", {}), language) for r in value
            )
        elif name == "reason":
            nested = isinstance(value, Mapping)
            values[name] = (
                render(value["message"], value.get("params", {}), language) if nested else value
            )
        elif name in PARAM_KINDS:
            values[name] = _format(value, PARAM_KINDS[name], language)
        else:
            values[name] = value
    if attribute is not None:
        values["label"] = attribute_label(attribute, params.get("label"), language)
    return language.gettext(template) % values


def json_params(**params) -> dict:
    """Parameters as stored: Decimals as their exact decimal strings (also inside a band or a
    list of nested messages), the rest as given."""
    return {name: _json(value) for name, value in params.items()}


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {name: _json(item) for name, item in value.items()}
    return value
