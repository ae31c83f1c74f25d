"""Credit policy: parse a versioned policy once, evaluate borrowers against it many times (§7).

Pure Python, no Django: the Django side stores the policy definition (a JSON-able dict, see
`DEFAULT_POLICY`) in a JSONField, calls `parse_policy` once per version and `evaluate` per
borrower. `parse_policy` refuses an invalid definition with `PolicyError`, listing every problem
as a `PolicyIssue(rule, message)` whose `rule` is a dotted path into the definition
("scorecard.bureau_score.bands[2]", "limits.C.income_multiple").

Decisions taken here (each one a rule of the module):

1.  Precedence. Every hard rule, every characteristic and the grade are always evaluated and
    traced. Then: any hard-rule decline → decline (reasons: the failing hard rules only);
    else missing or unverified data → refer (a person completes the file: the score it dragged
    down does not decline); else a grade the policy declines → decline (reasons: the grade,
    then score factors); else a limit that comes out at nothing → decline
    (NO_REPAYMENT_CAPACITY or LIMIT_BELOW_MINIMUM); else any refer (a refer-type hard rule,
    DTI_EXCEEDED, a grade the policy refers) → refer; else approve. Decline beats refer beats
    approve.
2.  Hard rules. Age outside [min_age, max_age] (both inclusive), blacklisted, currently overdue
    anywhere (a loan with us ≥ 1 dpd, or `bureau_current_delinquencies` > 0 at other lenders),
    more than `max_inquiries_6m` bureau inquiries → decline. Income not verified → refer
    (INCOME_NOT_VERIFIED, "income not verified"). A rule switched off in the policy is traced
    "off". `min_age` may not be below 18: lending to minors is not a policy choice.
3.  Missing data never raises; it refers (MISSING_DATA) when a hard rule cannot be checked (no
    age, blacklist status, overdue status or inquiry count), when the limit cannot be worked
    out (no monthly income, no existing monthly debt) and for each attribute listed in
    `hard_rules.refer_if_missing` (default: bureau score). A value of the wrong type, or a
    non-finite Decimal, counts as missing. In the scorecard a missing value scores the
    characteristic's `missing_points`; an employment type the scorecard does not list too.
4.  Scorecard. score = base_points + Σ points of the band each attribute's value falls in.
    Integer attributes (`INTEGER_ATTRIBUTES`: age, bureau_score, bureau_inquiries_6m,
    bureau_worst_delinquency_days, bureau_current_delinquencies, employment_months,
    platform_worst_dpd, platform_loans_repaid) use closed bands [min, max]: consecutive bands
    satisfy next.min == prev.max + 1. Decimal attributes (`DECIMAL_ATTRIBUTES`: the ratios
    platform_on_time_ratio and debt_to_income, and the amounts monthly_income and
    platform_outstanding_principal) use half-open bands [min, max): next.min == prev.max.
    null = unbounded; the lowest band starts at null and the highest ends at null, so every
    value falls in exactly one band. debt_to_income is derived: existing_monthly_debt /
    monthly_income, before the new loan (missing when either is missing or income ≤ 0).
5.  Grades A–E, best first, each with a strictly lower `min_score`; E has null (catches the
    rest). A score gets the first grade whose min_score it reaches. The policy's `outcomes`
    map each grade to exactly one of approve / refer / decline, and a better grade may not get
    a harsher outcome than a worse one.
6.  Limit, for a grade that is not declined and a known monthly income (income need not be
    verified: on a refer the limit is the one proposed if the reviewer clears the referral):
      by_income  = income × income_multiple
      allowed    = income × dti_ceiling           (all monthly debt payments together)
      available  = allowed − existing_monthly_debt
      available ≤ 0 → limit 0, decline NO_REPAYMENT_CAPACITY
      scaled     = by_income × available / allowed (= income_multiple × available / dti_ceiling):
                   existing debt that uses 60 % of the allowed payments leaves 40 % of the
                   income-based limit. Simple to explain, and 0 exactly when no room is left.
      capped     = min(scaled, max_limit, HOUSEHOLD_CAP)
      limit      = capped rounded DOWN to a multiple of `rounding` (floor(capped / unit) × unit,
                   Decimal ROUND_FLOOR; rounding down never grants more than the rules allow),
                   then `quantize_money` for the two-place form
      limit < min_limit, or 0 → decline LIMIT_BELOW_MINIMUM.
    The limit is the most the borrower may owe at once; checking outstanding principal plus a
    new loan against it is origination's job, not this module's.
7.  DTI with a request. When a `LoanRequest` is given, existing + the new loan's real monthly
    installment (computed by the caller from the schedule) must not exceed income × dti_ceiling;
    if it does, the outcome becomes refer with DTI_EXCEEDED (a smaller amount may fit), unless
    something already declines. Equal to the ceiling passes.
8.  Reasons: the factors that drove the final outcome, most important first — hard-rule
    declines; then refers (hard rules in rule order, then DTI_EXCEEDED); then, when the grade is
    what refers or declines, LOW_GRADE followed by at most `MAX_SCORE_FACTORS` characteristics
    that cost the most points against their best band (ties in scorecard order). An approval
    has no reasons. The trace holds everything, including rules that did not drive the outcome.
9.  Determinism: no clock, no randomness, no dict-order dependence beyond the policy's own
    order; Decimal arithmetic runs in a fixed context (28 digits, half-even) whatever the
    caller's context is. The limit is 0 whenever the outcome is decline.
10. Policy numbers (multiples, ceilings, limits, ratio bounds) may be JSON numbers or strings;
    a JSON float is read through its shortest repr ("0.5"), so 0.5 and "0.5" are the same.
    `dti_ceiling` must be in (0, 1]: payments beyond the whole income are not a ceiling.
    `income_multiple` must be in [0, 100]; `rounding` a positive multiple of 0.01. Figures
    (in the policy and the profile) must be 0 or of magnitude in [1e-16, 1e15): a policy
    refuses others, a profile counts them as missing, so arithmetic never overflows. Whole
    numbers (points, cut-offs, band ends, ages) stay within ±1e15 too.
    Every message is an English template marked with `gettext_noop` and its values
    (`PolicyIssue.template`, `.params`): the Django side translates it.
    Unknown keys are refused, so a misspelt rule cannot be silently ignored.
11. The optional `behaviour` section holds the nightly limit review's thresholds; its rules
    and defaults (used when the section is left out) live in `risk.behaviour`.
"""

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from itertools import pairwise

from lending.i18n import gettext_noop
from lending.money import ZERO, money_str, quantize_money, to_multiple
from risk import reasons as rc
from risk.behaviour import DEFAULT_RULES, HOUSEHOLD_CAP, BehaviourRules, parse_behaviour
from risk.reasons import (
    ATTRIBUTES,
    CATEGORY,
    INTEGER,
    MONEY,
    RATIO,
    Reason,
    band_text,
    fmt_money,
    json_params,
    render,
)

GRADES = ("A", "B", "C", "D", "E")
OUTCOMES = ("approve", "refer", "decline")
EMPLOYMENT_TYPES = ("salaried", "self_employed", "gig", "unemployed", "student", "retired")
MAX_SCORE_FACTORS = 4

INTEGER_ATTRIBUTES = tuple(a for a, (kind, _) in ATTRIBUTES.items() if kind == INTEGER)
DECIMAL_ATTRIBUTES = tuple(a for a, (kind, _) in ATTRIBUTES.items() if kind in (MONEY, RATIO))
CATEGORICAL_ATTRIBUTES = ("employment_type",)

_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
_ONE = Decimal(1)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskProfile:
    age: int | None
    monthly_income: Decimal | None
    income_verified: bool
    employment_type: str | None  # one of EMPLOYMENT_TYPES
    employment_months: int | None
    existing_monthly_debt: Decimal | None  # payments on debt elsewhere, a month
    bureau_score: int | None
    bureau_inquiries_6m: int | None
    bureau_worst_delinquency_days: int | None
    bureau_current_delinquencies: int | None
    blacklisted: bool
    platform_worst_dpd: int = 0
    platform_on_time_ratio: Decimal | None = None
    platform_loans_repaid: int = 0
    platform_outstanding_principal: Decimal = ZERO
    platform_currently_overdue: bool = False  # any loan with us at ≥ 1 dpd


@dataclass(frozen=True, slots=True)
class LoanRequest:
    amount: Decimal
    new_monthly_payment: Decimal  # the new loan's real installment, from its schedule


# --------------------------------------------------------------------------- the policy


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    """One broken rule. `template` is English marked with `gettext_noop`; the Django side
    translates it and fills in `params` (`lending.errors.translated`), `message` is English."""

    rule: str  # dotted path into the definition
    template: str
    params: Mapping = field(default_factory=dict, compare=False)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template


class PolicyError(ValueError):
    def __init__(self, errors: list[PolicyIssue]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.rule}: {e.message}" for e in self.errors))


@dataclass(frozen=True, slots=True)
class HardRules:
    min_age: int
    max_age: int
    max_inquiries_6m: int | None  # None: rule off
    decline_blacklisted: bool
    decline_currently_overdue: bool
    refer_income_unverified: bool
    refer_if_missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Band:
    min: int | Decimal | None
    max: int | Decimal | None  # inclusive for integer attributes, exclusive for decimal ones
    points: int
    description: str  # "550–649", "under 3,000.00", "95% and above"


@dataclass(frozen=True, slots=True)
class Characteristic:
    attribute: str
    label: str
    kind: str  # INTEGER | MONEY | RATIO | CATEGORY
    missing_points: int
    bands: tuple[Band, ...] = ()  # sorted, covering the whole line
    categories: tuple[tuple[str, int], ...] = ()
    # Precomputed for evaluation:
    lower_bounds: tuple = ()  # min of bands[1:], for bisect
    best_points: int = 0
    worst_points: int = 0
    category_points: Mapping[str, int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class GradeCut:
    grade: str
    min_score: int | None  # None: the last grade, every lower score


@dataclass(frozen=True, slots=True)
class LimitRule:
    income_multiple: Decimal
    dti_ceiling: Decimal
    min_limit: Decimal
    max_limit: Decimal


@dataclass(frozen=True, slots=True)
class Policy:
    hard_rules: HardRules
    base_points: int
    characteristics: tuple[Characteristic, ...]
    grades: tuple[GradeCut, ...]
    limits: Mapping[str, LimitRule]
    outcomes: Mapping[str, str]  # grade -> outcome
    rounding: Decimal
    behaviour: BehaviourRules = DEFAULT_RULES


# --------------------------------------------------------------------------- the decision


@dataclass(frozen=True, slots=True)
class TraceStep:
    rule: str  # "hard_rules.age", "scorecard.bureau_score", "grade", "limits.C.max_limit", ...
    result: str  # "pass" | "decline" | "refer" | "off" | "skipped" | points "+40" | an amount
    # The key of the detail's words in risk.reasons.MESSAGES and the figures in them: what a
    # reader's language renders (risk.reason_texts).
    message: str
    params: dict

    @property
    def detail(self) -> str:
        """Plain words with the figures, in English."""
        return render(self.message, self.params)

    def as_dict(self) -> dict:
        params = json_params(**self.params)
        return {
            "rule": self.rule,
            "result": self.result,
            "detail": render(self.message, params),
            "message": self.message,
            "params": params,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str  # "approve" | "refer" | "decline"
    score: int
    grade: str
    limit: Decimal  # 0 when declined
    reasons: list[Reason]  # most important first
    trace: list[TraceStep]

    def as_dict(self) -> dict:
        """JSON-able form (amounts as fixed-point strings) for storing with the application."""
        return {
            "outcome": self.outcome,
            "score": self.score,
            "grade": self.grade,
            "limit": money_str(self.limit),
            "reasons": [r.as_dict() for r in self.reasons],
            "trace": [t.as_dict() for t in self.trace],
        }


# --------------------------------------------------------------------------- default policy

DEFAULT_POLICY: dict = {
    "hard_rules": {
        "min_age": 18,
        "max_age": 60,
        "max_inquiries_6m": 6,
        "decline_blacklisted": True,
        "decline_currently_overdue": True,
        "refer_income_unverified": True,
        "refer_if_missing": ["bureau_score"],
    },
    "scorecard": {
        "base_points": 600,
        "characteristics": [
            {
                "attribute": "bureau_score",
                "label": "credit bureau score",
                "missing_points": -20,
                "bands": [
                    {"min": None, "max": 549, "points": -60},
                    {"min": 550, "max": 649, "points": -10},
                    {"min": 650, "max": 699, "points": 25},
                    {"min": 700, "max": None, "points": 50},
                ],
            },
            {
                "attribute": "age",
                "missing_points": 0,
                "bands": [
                    {"min": None, "max": 21, "points": -10},
                    {"min": 22, "max": 25, "points": 0},
                    {"min": 26, "max": 45, "points": 15},
                    {"min": 46, "max": None, "points": 5},
                ],
            },
            {
                "attribute": "bureau_inquiries_6m",
                "missing_points": -10,
                "bands": [
                    {"min": None, "max": 1, "points": 20},
                    {"min": 2, "max": 3, "points": 0},
                    {"min": 4, "max": None, "points": -25},
                ],
            },
            {
                "attribute": "bureau_worst_delinquency_days",
                "missing_points": 0,
                "bands": [
                    {"min": None, "max": 0, "points": 20},
                    {"min": 1, "max": 30, "points": -10},
                    {"min": 31, "max": 89, "points": -40},
                    {"min": 90, "max": None, "points": -80},
                ],
            },
            {
                "attribute": "employment_months",
                "missing_points": -10,
                "bands": [
                    {"min": None, "max": 5, "points": -15},
                    {"min": 6, "max": 23, "points": 0},
                    {"min": 24, "max": None, "points": 15},
                ],
            },
            {
                "attribute": "platform_worst_dpd",
                "missing_points": 0,
                "bands": [
                    {"min": None, "max": 0, "points": 10},
                    {"min": 1, "max": 7, "points": -5},
                    {"min": 8, "max": 30, "points": -30},
                    {"min": 31, "max": None, "points": -70},
                ],
            },
            {
                "attribute": "platform_on_time_ratio",
                "missing_points": 0,  # a new customer has no history with us: neutral
                "bands": [
                    {"min": None, "max": "0.80", "points": -40},
                    {"min": "0.80", "max": "0.95", "points": -10},
                    {"min": "0.95", "max": None, "points": 20},
                ],
            },
            {
                "attribute": "debt_to_income",
                "missing_points": -10,
                "bands": [
                    {"min": None, "max": "0.20", "points": 20},
                    {"min": "0.20", "max": "0.40", "points": 5},
                    {"min": "0.40", "max": "0.60", "points": -20},
                    {"min": "0.60", "max": None, "points": -50},
                ],
            },
            {
                "attribute": "monthly_income",
                "missing_points": -20,
                "bands": [
                    {"min": None, "max": "3000", "points": -20},
                    {"min": "3000", "max": "8000", "points": 0},
                    {"min": "8000", "max": "20000", "points": 15},
                    {"min": "20000", "max": None, "points": 25},
                ],
            },
            {
                "attribute": "employment_type",
                "missing_points": -10,
                "categories": {
                    "salaried": 30,
                    "self_employed": 10,
                    "gig": 0,
                    "retired": 10,
                    "student": -30,
                    "unemployed": -60,
                },
            },
        ],
    },
    "grades": [
        {"grade": "A", "min_score": 720},
        {"grade": "B", "min_score": 680},
        {"grade": "C", "min_score": 640},
        {"grade": "D", "min_score": 600},
        {"grade": "E", "min_score": None},
    ],
    "limits": {
        "A": {
            "income_multiple": "6",
            "dti_ceiling": "0.50",
            "min_limit": "1000",
            "max_limit": "200000",
        },
        "B": {
            "income_multiple": "5",
            "dti_ceiling": "0.50",
            "min_limit": "1000",
            "max_limit": "100000",
        },
        "C": {
            "income_multiple": "4",
            "dti_ceiling": "0.45",
            "min_limit": "1000",
            "max_limit": "50000",
        },
        "D": {
            "income_multiple": "3",
            "dti_ceiling": "0.40",
            "min_limit": "1000",
            "max_limit": "20000",
        },
        "E": {"income_multiple": "0", "dti_ceiling": "0.30", "min_limit": "0", "max_limit": "0"},
    },
    "outcomes": {"approve": ["A", "B", "C"], "refer": ["D"], "decline": ["E"]},
    "rounding": "100",
}


# --------------------------------------------------------------------------- parsing

_TOP_KEYS = ("hard_rules", "scorecard", "grades", "limits", "outcomes", "rounding", "behaviour")
_HARD_KEYS = (
    "min_age",
    "max_age",
    "max_inquiries_6m",
    "decline_blacklisted",
    "decline_currently_overdue",
    "refer_income_unverified",
    "refer_if_missing",
)
_LIMIT_KEYS = ("income_multiple", "dti_ceiling", "min_limit", "max_limit")
_MIN_LEGAL_AGE = 18
_MIN_EXPONENT, _MAX_EXPONENT = -16, 15  # usable figures: 1e-16 ≤ |x| < 1e15
_ZERO_VALUE = Decimal(0)
_FEN = Decimal("0.01")
# Keeps income × multiple (income < 1e15) within what quantize_money can hold (28 digits).
_MAX_MULTIPLE = 100
_MAX_WHOLE = 10**15


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _usable(value: Decimal) -> Decimal | None:
    """`value` if finite and of a sane magnitude (0, or 1e-16 ≤ |value| < 1e15), else None.
    Bounding the exponent keeps every product and quotient far from Decimal overflow, so an
    absurd figure is refused (policy) or counted as missing (profile) instead of raising."""
    if not value.is_finite():
        return None
    if value.is_zero():
        return _ZERO_VALUE
    return value if _MIN_EXPONENT <= value.adjusted() < _MAX_EXPONENT else None


def _policy_decimal(value) -> Decimal | None:
    """A usable Decimal from a JSON number or a numeric string; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _usable(Decimal(value))
    if isinstance(value, float):
        return _usable(Decimal(repr(value))) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            return None
    if isinstance(value, Decimal):
        return _usable(value)
    return None


class _Parser:
    def __init__(self) -> None:
        self.issues: list[PolicyIssue] = []

    def too_big(self, rule: str, value: int) -> bool:
        """A whole number beyond ±10^15, refused like any figure of that size (rule 10)."""
        if abs(value) < _MAX_WHOLE:
            return False
        self.issue(
            rule, gettext_noop("must be between -10^15 and 10^15 (got %(value)s)"), value=value
        )
        return True

    def issue(self, rule: str, template: str, **params) -> None:
        """`template`: English marked with gettext_noop, with named %-placeholders."""
        self.issues.append(PolicyIssue(rule, template, params))

    def obj(self, value, rule: str, what: str = "") -> Mapping | None:
        if isinstance(value, Mapping):
            return value
        if value is None:
            self.issue(rule, gettext_noop("is required"))
        else:
            self.issue(rule, gettext_noop("must be a JSON object"))
        return None

    def unknown_keys(self, data: Mapping, allowed, prefix: str) -> None:
        for key in data:
            if key not in allowed:
                path = f"{prefix}.{key}" if prefix else str(key)
                self.issue(
                    path,
                    gettext_noop("unknown key %(key)s (expected one of: %(known)s)"),
                    key=repr(key),
                    known=", ".join(allowed),
                )

    def integer(
        self,
        data: Mapping,
        key: str,
        rule: str,
        *,
        minimum: int | None = None,
        nullable: bool = False,
    ) -> int | None:
        if key not in data:
            self.issue(rule, gettext_noop("is required"))
            return None
        value = data[key]
        if value is None and nullable:
            return None
        if not _is_int(value):
            if nullable:
                template = gettext_noop("must be a whole number or null (got %(value)s)")
            else:
                template = gettext_noop("must be a whole number (got %(value)s)")
            self.issue(rule, template, value=repr(value))
            return None
        if self.too_big(rule, value):
            return None
        if minimum is not None and value < minimum:
            self.issue(
                rule,
                gettext_noop("must be at least %(minimum)s (got %(value)s)"),
                minimum=minimum,
                value=value,
            )
            return None
        return value

    def boolean(self, data: Mapping, key: str, rule: str) -> bool | None:
        if key not in data:
            self.issue(rule, gettext_noop("is required (true or false)"))
            return None
        if not isinstance(data[key], bool):
            self.issue(
                rule, gettext_noop("must be true or false (got %(value)s)"), value=repr(data[key])
            )
            return None
        return data[key]

    def decimal(self, data: Mapping, key: str, rule: str) -> Decimal | None:
        if key not in data:
            self.issue(rule, gettext_noop("is required"))
            return None
        value = _policy_decimal(data[key])
        if value is None:
            self.issue(
                rule,
                gettext_noop('must be a number below 10^15, e.g. "0.50" (got %(value)s)'),
                value=repr(data[key]),
            )
        return value

    # ---- sections

    def hard_rules(self, data) -> HardRules | None:
        data = self.obj(data, "hard_rules", "hard_rules")
        if data is None:
            return None
        self.unknown_keys(data, _HARD_KEYS, "hard_rules")
        min_age = self.integer(data, "min_age", "hard_rules.min_age")
        if min_age is not None and min_age < _MIN_LEGAL_AGE:
            self.issue(
                "hard_rules.min_age",
                gettext_noop(
                    "must be at least %(minimum)s: the policy may not lend to minors "
                    "(got %(value)s)"
                ),
                minimum=_MIN_LEGAL_AGE,
                value=min_age,
            )
            min_age = None
        max_age = self.integer(data, "max_age", "hard_rules.max_age")
        if min_age is not None and max_age is not None and max_age < min_age:
            self.issue(
                "hard_rules.max_age",
                gettext_noop("max_age %(max_age)s is below min_age %(min_age)s: no age would pass"),
                max_age=max_age,
                min_age=min_age,
            )
        max_inq = self.integer(
            data, "max_inquiries_6m", "hard_rules.max_inquiries_6m", minimum=0, nullable=True
        )
        flags = {
            key: self.boolean(data, key, f"hard_rules.{key}")
            for key in (
                "decline_blacklisted",
                "decline_currently_overdue",
                "refer_income_unverified",
            )
        }
        refer_if_missing: list[str] = []
        raw = data.get("refer_if_missing", [])
        if not isinstance(raw, list):
            self.issue(
                "hard_rules.refer_if_missing", gettext_noop("must be a list of attribute names")
            )
        else:
            for i, name in enumerate(raw):
                where = f"hard_rules.refer_if_missing[{i}]"
                if not isinstance(name, str) or name not in ATTRIBUTES:
                    self.issue(where, gettext_noop("unknown attribute %(name)s"), name=repr(name))
                elif name in refer_if_missing:
                    self.issue(where, gettext_noop("%(name)s is listed twice"), name=repr(name))
                else:
                    refer_if_missing.append(name)
        if min_age is None or max_age is None or None in flags.values():
            return None
        return HardRules(
            min_age,
            max_age,
            max_inq,
            flags["decline_blacklisted"],
            flags["decline_currently_overdue"],
            flags["refer_income_unverified"],
            tuple(refer_if_missing),
        )

    def scorecard(self, data) -> tuple[int, tuple[Characteristic, ...]] | None:
        data = self.obj(data, "scorecard", "scorecard")
        if data is None:
            return None
        self.unknown_keys(data, ("base_points", "characteristics"), "scorecard")
        base = self.integer(data, "base_points", "scorecard.base_points")
        raw = data.get("characteristics")
        if not isinstance(raw, list):
            self.issue(
                "scorecard.characteristics", gettext_noop("must be a list of characteristics")
            )
            return None
        result: list[Characteristic] = []
        seen: dict[str, int] = {}
        ok = True
        for i, item in enumerate(raw):
            where = f"scorecard.characteristics[{i}]"
            item = self.obj(item, where, "a characteristic")
            if item is None:
                ok = False
                continue
            attribute = item.get("attribute")
            if not isinstance(attribute, str) or attribute not in ATTRIBUTES:
                self.issue(
                    f"{where}.attribute",
                    gettext_noop("unknown attribute %(name)s (known: %(known)s)"),
                    name=repr(attribute),
                    known=", ".join(ATTRIBUTES),
                )
                ok = False
                continue
            path = f"scorecard.{attribute}"
            if attribute in seen:
                self.issue(
                    path,
                    gettext_noop(
                        "characteristics[%(first)s] and characteristics[%(second)s] both "
                        "score %(attribute)s: each attribute is scored once"
                    ),
                    first=seen[attribute],
                    second=i,
                    attribute=attribute,
                )
                ok = False
                continue
            seen[attribute] = i
            characteristic = self.characteristic(item, attribute, path)
            if characteristic is None:
                ok = False
            else:
                result.append(characteristic)
        if base is None or not ok:
            return None
        return base, tuple(result)

    def characteristic(self, item: Mapping, attribute: str, path: str) -> Characteristic | None:
        kind, default_label = ATTRIBUTES[attribute]
        label = item.get("label", default_label)
        if not isinstance(label, str) or not label.strip():
            self.issue(f"{path}.label", gettext_noop("must be a non-empty text"))
            label = None
        missing = self.integer(item, "missing_points", f"{path}.missing_points")
        if kind == CATEGORY:
            self.unknown_keys(item, ("attribute", "label", "missing_points", "categories"), path)
            categories = self.categories(item.get("categories"), f"{path}.categories")
            if label is None or missing is None or categories is None:
                return None
            points = [p for _, p in categories]
            return Characteristic(
                attribute,
                label,
                kind,
                missing,
                categories=categories,
                best_points=max(points),
                worst_points=min(points),
                category_points=dict(categories),
            )
        self.unknown_keys(item, ("attribute", "label", "missing_points", "bands"), path)
        bands = self.bands(item.get("bands"), f"{path}.bands", kind)
        if label is None or missing is None or bands is None:
            return None
        points = [b.points for b in bands]
        return Characteristic(
            attribute,
            label,
            kind,
            missing,
            bands=bands,
            lower_bounds=tuple(b.min for b in bands[1:]),
            best_points=max(points),
            worst_points=min(points),
        )

    def categories(self, raw, path: str) -> tuple[tuple[str, int], ...] | None:
        raw = self.obj(raw, path, "categories")
        if raw is None:
            return None
        ok = True
        result = []
        for name, points in raw.items():
            if name not in EMPLOYMENT_TYPES:
                self.issue(
                    f"{path}.{name}",
                    gettext_noop("unknown category %(name)s (known: %(known)s)"),
                    name=repr(name),
                    known=", ".join(EMPLOYMENT_TYPES),
                )
                ok = False
            elif not _is_int(points):
                self.issue(
                    f"{path}.{name}",
                    gettext_noop("points must be a whole number (got %(value)s)"),
                    value=repr(points),
                )
                ok = False
            elif self.too_big(f"{path}.{name}", points):
                ok = False
            else:
                result.append((name, points))
        absent = [name for name in EMPLOYMENT_TYPES if name not in raw]
        if absent:
            self.issue(
                path,
                gettext_noop("no points for %(names)s: every category needs points"),
                names=", ".join(absent),
            )
            ok = False
        return tuple(result) if ok else None

    def bands(self, raw, path: str, kind: str) -> tuple[Band, ...] | None:
        if not isinstance(raw, list) or not raw:
            self.issue(path, gettext_noop("must be a non-empty list of bands"))
            return None
        integer = kind == INTEGER
        parsed: list[tuple[int, object, object, int]] = []  # (index, min, max, points)
        ok = True
        for i, band in enumerate(raw):
            where = f"{path}[{i}]"
            band = self.obj(band, where, "a band")
            if band is None:
                ok = False
                continue
            self.unknown_keys(band, ("min", "max", "points"), where)
            bounds = []
            for key in ("min", "max"):
                if key not in band:
                    self.issue(f"{where}.{key}", gettext_noop("is required (null for unbounded)"))
                    ok = False
                    bounds.append(None)
                    continue
                value = band[key]
                if value is None:
                    bounds.append(None)
                elif integer:
                    if not _is_int(value):
                        self.issue(
                            f"{where}.{key}",
                            gettext_noop(
                                "must be a whole number or null: this attribute is counted "
                                "in whole units (got %(value)s)"
                            ),
                            value=repr(value),
                        )
                        ok = False
                    elif self.too_big(f"{where}.{key}", value):
                        ok = False
                    bounds.append(value)
                else:
                    number = _policy_decimal(value)
                    if number is None:
                        self.issue(
                            f"{where}.{key}",
                            gettext_noop("must be a number below 10^15 or null (got %(value)s)"),
                            value=repr(value),
                        )
                        ok = False
                    bounds.append(number)
            points = band.get("points")
            if not _is_int(points):
                self.issue(
                    f"{where}.points",
                    gettext_noop("must be a whole number (got %(value)s)"),
                    value=repr(points),
                )
                ok = False
            elif self.too_big(f"{where}.points", points):
                ok = False
            if ok:
                lo, hi = bounds
                if lo is not None and hi is not None and (hi < lo if integer else hi <= lo):
                    if integer:
                        template = gettext_noop(
                            "min %(min)s is above max %(max)s: the band is empty"
                        )
                    else:
                        template = gettext_noop(
                            "min %(min)s is not below max %(max)s (max is exclusive): the band "
                            "is empty"
                        )
                    self.issue(where, template, min=lo, max=hi)
                    ok = False
                parsed.append((i, lo, hi, points))
        if not ok:
            return None
        return self.coverage(parsed, path, kind)

    def coverage(self, parsed, path: str, kind: str) -> tuple[Band, ...] | None:
        """Sorted by min, the bands must tile the whole line: no gap, no overlap."""
        integer = kind == INTEGER
        ordered = sorted(parsed, key=lambda b: (b[1] is not None, b[1] if b[1] is not None else 0))
        count = len(self.issues)
        first, last = ordered[0], ordered[-1]
        if first[1] is not None:
            self.issue(
                f"{path}[{first[0]}]",
                gettext_noop(
                    "the lowest band must have min null (unbounded) so every value falls in "
                    "a band; it starts at %(min)s"
                ),
                min=first[1],
            )
        if last[2] is not None:
            self.issue(
                f"{path}[{last[0]}]",
                gettext_noop(
                    "the highest band must have max null (unbounded) so every value falls in "
                    "a band; it ends at %(max)s"
                ),
                max=last[2],
            )
        for prev, cur in pairwise(ordered):
            here = f"{path}[{cur[0]}]"
            p_index, p_hi = prev[0], prev[2]
            lo = cur[1]
            if p_hi is None or lo is None:
                self.issue(
                    here,
                    gettext_noop(
                        "overlaps bands[%(other)s]: both cover the same values (bands[%(other)s] "
                        "has max %(max)s, this band min %(min)s)"
                    ),
                    other=p_index,
                    max="null" if p_hi is None else p_hi,
                    min="null" if lo is None else lo,
                )
                continue
            expected = p_hi + 1 if integer else p_hi
            if lo == expected:
                continue
            bounds = {"other": p_index, "min": lo, "max": p_hi, "expected": expected}
            if lo < expected and integer:
                template = gettext_noop(
                    "overlaps bands[%(other)s]: it starts at %(min)s but bands[%(other)s] ends "
                    "at %(max)s (inclusive); it should start at %(expected)s"
                )
            elif lo < expected:
                template = gettext_noop(
                    "overlaps bands[%(other)s]: it starts at %(min)s but bands[%(other)s] ends "
                    "at %(max)s (exclusive); it should start at %(expected)s"
                )
            elif integer:
                bounds["last"] = lo - 1
                template = gettext_noop(
                    "gap after bands[%(other)s]: it starts at %(min)s but bands[%(other)s] ends "
                    "at %(max)s (inclusive), so values %(expected)s–%(last)s fall in no band; "
                    "it should start at %(expected)s"
                )
            else:
                template = gettext_noop(
                    "gap after bands[%(other)s]: it starts at %(min)s but bands[%(other)s] ends "
                    "at %(max)s (exclusive), so values from %(expected)s to under %(min)s fall "
                    "in no band; it should start at %(expected)s"
                )
            self.issue(here, template, **bounds)
        if len(self.issues) != count:
            return None
        return tuple(Band(lo, hi, points, band_text(lo, hi, kind)) for _, lo, hi, points in ordered)

    def grades(self, raw) -> tuple[GradeCut, ...] | None:
        if not isinstance(raw, list):
            self.issue("grades", gettext_noop("must be a list of grades A–E, best first"))
            return None
        count = len(self.issues)
        if len(raw) != len(GRADES):
            self.issue(
                "grades",
                gettext_noop(
                    "must list exactly %(count)s grades, A to E, best first (got %(got)s)"
                ),
                count=len(GRADES),
                got=len(raw),
            )
        result: list[GradeCut] = []
        previous: tuple[str, int] | None = None
        for i, item in enumerate(raw):
            where = f"grades[{i}]"
            item = self.obj(item, where, "a grade")
            if item is None:
                continue
            self.unknown_keys(item, ("grade", "min_score"), where)
            expected = GRADES[i] if i < len(GRADES) else None
            grade = item.get("grade")
            if grade != expected and expected:
                self.issue(
                    f"{where}.grade",
                    gettext_noop(
                        "expected grade %(expected)s here: grades go A, B, C, D, E from best "
                        "to worst (got %(value)s)"
                    ),
                    expected=repr(expected),
                    value=repr(grade),
                )
            elif grade != expected:
                self.issue(
                    f"{where}.grade",
                    gettext_noop("unexpected grade %(value)s: only A–E"),
                    value=repr(grade),
                )
            last = i == len(GRADES) - 1
            score = item.get("min_score")
            if last:
                if score is not None:
                    self.issue(
                        f"{where}.min_score",
                        gettext_noop(
                            "the last grade (E) must have min_score null so every score "
                            "gets a grade (got %(value)s)"
                        ),
                        value=repr(score),
                    )
            elif score is None or not _is_int(score):
                self.issue(
                    f"{where}.min_score",
                    gettext_noop(
                        "must be a whole number (only the last grade, E, has null; got %(value)s)"
                    ),
                    value=repr(score),
                )
                score = None
            elif self.too_big(f"{where}.min_score", score):
                score = None
            elif previous is not None and score >= previous[1]:
                self.issue(
                    f"{where}.min_score",
                    gettext_noop(
                        "grade %(grade)s min_score %(score)s must be below grade %(better)s's "
                        "%(better_score)s: cut-offs strictly decrease from A to E"
                    ),
                    grade=grade,
                    score=score,
                    better=previous[0],
                    better_score=previous[1],
                )
            if score is not None and not last:
                previous = (grade, score)
            result.append(GradeCut(str(grade), score if not last else None))
        if len(self.issues) != count:
            return None
        return tuple(result)

    def limits(self, raw) -> dict[str, LimitRule] | None:
        raw = self.obj(raw, "limits", "limits")
        if raw is None:
            return None
        count = len(self.issues)
        for key in raw:
            if key not in GRADES:
                self.issue(
                    f"limits.{key}",
                    gettext_noop("unknown grade %(value)s: limits are per grade A–E"),
                    value=repr(key),
                )
        result: dict[str, LimitRule] = {}
        for grade in GRADES:
            path = f"limits.{grade}"
            if grade not in raw:
                self.issue(
                    path,
                    gettext_noop("no limit rule for grade %(grade)s: every grade needs one"),
                    grade=grade,
                )
                continue
            item = self.obj(raw[grade], path, "a limit rule")
            if item is None:
                continue
            self.unknown_keys(item, _LIMIT_KEYS, path)
            multiple = self.decimal(item, "income_multiple", f"{path}.income_multiple")
            if multiple is not None and multiple < 0:
                self.issue(
                    f"{path}.income_multiple",
                    gettext_noop(
                        "must not be negative (got %(value)s): a limit is a multiple ≥ 0 of "
                        "monthly income"
                    ),
                    value=multiple,
                )
            elif multiple is not None and multiple > _MAX_MULTIPLE:
                self.issue(
                    f"{path}.income_multiple",
                    gettext_noop(
                        "must be at most %(maximum)s (got %(value)s): more than %(maximum)s "
                        "months of income is not a consumer-credit limit"
                    ),
                    maximum=_MAX_MULTIPLE,
                    value=multiple,
                )
            ceiling = self.decimal(item, "dti_ceiling", f"{path}.dti_ceiling")
            if ceiling is not None and not ZERO < ceiling <= _ONE:
                self.issue(
                    f"{path}.dti_ceiling",
                    gettext_noop("must be above 0 and at most 1 (100%% of income; got %(value)s)"),
                    value=ceiling,
                )
            low = self.decimal(item, "min_limit", f"{path}.min_limit")
            high = self.decimal(item, "max_limit", f"{path}.max_limit")
            if low is not None and low < 0:
                self.issue(
                    f"{path}.min_limit",
                    gettext_noop("must not be negative (got %(value)s)"),
                    value=low,
                )
            if high is not None and high > HOUSEHOLD_CAP:
                self.issue(
                    f"{path}.max_limit",
                    gettext_noop(
                        "must not exceed the household cap of %(cap)s CNY (got %(value)s)"
                    ),
                    cap=fmt_money(HOUSEHOLD_CAP),
                    value=fmt_money(high),
                )
            if low is not None and high is not None and low > high:
                self.issue(
                    f"{path}.min_limit",
                    gettext_noop(
                        "min_limit %(min_limit)s is above max_limit %(max_limit)s: no limit "
                        "would pass"
                    ),
                    min_limit=low,
                    max_limit=high,
                )
            if None not in (multiple, ceiling, low, high):
                result[grade] = LimitRule(multiple, ceiling, low, high)
        return result if len(self.issues) == count else None

    def outcomes(self, raw) -> dict[str, str] | None:
        raw = self.obj(raw, "outcomes", "outcomes")
        if raw is None:
            return None
        count = len(self.issues)
        result: dict[str, str] = {}
        for outcome, grades in raw.items():
            if outcome not in OUTCOMES:
                self.issue(
                    f"outcomes.{outcome}",
                    gettext_noop("unknown outcome %(value)s (expected approve, refer or decline)"),
                    value=repr(outcome),
                )
                continue
            if not isinstance(grades, list):
                self.issue(f"outcomes.{outcome}", gettext_noop("must be a list of grades"))
                continue
            for i, grade in enumerate(grades):
                where = f"outcomes.{outcome}[{i}]"
                if grade not in GRADES:
                    self.issue(where, gettext_noop("unknown grade %(value)s"), value=repr(grade))
                elif grade in result:
                    self.issue(
                        where,
                        gettext_noop(
                            "grade %(grade)s is already assigned to %(outcome)s: each grade "
                            "gets exactly one outcome"
                        ),
                        grade=grade,
                        outcome=result[grade],
                    )
                else:
                    result[grade] = outcome
        absent = [g for g in GRADES if g not in result]
        if absent:
            self.issue(
                "outcomes",
                gettext_noop(
                    "no outcome for grade %(grades)s: each grade gets exactly one of approve, "
                    "refer, decline"
                ),
                grades=", ".join(absent),
            )
        if len(self.issues) != count:
            return None
        severity = [OUTCOMES.index(result[g]) for g in GRADES]
        for better, worse in zip(range(len(GRADES)), range(1, len(GRADES)), strict=False):
            if severity[better] > severity[worse]:
                self.issue(
                    "outcomes",
                    gettext_noop(
                        "grade %(better)s gets %(better_outcome)s but the worse grade "
                        "%(worse)s gets %(worse_outcome)s: a better grade may not get a "
                        "harsher outcome"
                    ),
                    better=GRADES[better],
                    better_outcome=result[GRADES[better]],
                    worse=GRADES[worse],
                    worse_outcome=result[GRADES[worse]],
                )
                return None
        return result

    def rounding(self, data: Mapping) -> Decimal | None:
        unit = self.decimal(data, "rounding", "rounding")
        # A whole number of fen, so quantize_money after rounding down never rounds back up.
        if unit is not None and (unit <= 0 or unit % _FEN != 0):
            self.issue(
                "rounding",
                gettext_noop('must be a positive multiple of 0.01, e.g. "100" (got %(value)s)'),
                value=unit,
            )
            return None
        return unit


def parse_policy(data: dict) -> Policy:
    """Validate a policy definition and precompute what evaluation needs. Raises `PolicyError`
    listing every problem found (not only the first)."""
    if not isinstance(data, Mapping):
        raise PolicyError([PolicyIssue("policy", gettext_noop("a policy must be a JSON object"))])
    parser = _Parser()
    parser.unknown_keys(data, _TOP_KEYS, "")
    hard = parser.hard_rules(data.get("hard_rules"))
    scorecard = parser.scorecard(data.get("scorecard"))
    grades = parser.grades(data.get("grades"))
    limits = parser.limits(data.get("limits"))
    outcomes = parser.outcomes(data.get("outcomes"))
    rounding = parser.rounding(data)
    behaviour = parse_behaviour(parser, data.get("behaviour"), household_cap=HOUSEHOLD_CAP)
    if parser.issues:
        raise PolicyError(parser.issues)
    assert hard and scorecard and grades and limits and outcomes and rounding and behaviour
    base, characteristics = scorecard
    return Policy(hard, base, characteristics, grades, limits, outcomes, rounding, behaviour)


# --------------------------------------------------------------------------- evaluation


def _int_value(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _decimal_value(value) -> Decimal | None:
    """A profile amount or ratio, or None (missing) when absent, malformed or absurd."""
    if isinstance(value, Decimal):
        return _usable(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _usable(Decimal(value))
    if isinstance(value, float) and math.isfinite(value):
        return _usable(Decimal(repr(value)))
    return None


def debt_to_income(existing: Decimal | None, income: Decimal | None) -> Decimal | None:
    """Existing monthly debt over monthly income, before any new loan; missing when either is
    missing or income is not positive. Unrounded: a ratio on a band edge lands where it is."""
    if existing is None or income is None or income <= 0:
        return None
    return existing / income


def grade_for(score: int, grades: Sequence[tuple[str, int | None]]) -> tuple[str, int | None]:
    """The first grade (best first) whose cut-off the score reaches; the last has no cut-off and
    takes every lower score. Returns the grade and its cut-off."""
    for grade, min_score in grades:
        if min_score is None or score >= min_score:
            return grade, min_score
    return grades[-1]


def evaluate(profile: RiskProfile, policy: Policy, request: LoanRequest | None = None) -> Decision:
    """Decide on one borrower (see the module docstring for every rule). Pure and deterministic;
    missing or malformed data refers, it never raises."""
    with localcontext(_CONTEXT):
        return _evaluate(profile, policy, request)


def _reason(code: str, message: str, weight=None, subject=None, /, **params) -> Reason:
    """A reason about `subject` (an attribute, or None)."""
    return Reason(code, message, params, weight, subject)


def _step(rule: str, result: str, message: str, **params) -> TraceStep:
    return TraceStep(rule, result, message, params)


def _about(ch: Characteristic) -> dict:
    """The attribute a scorecard line is about, and the policy's own label if it set one."""
    if ch.label == ATTRIBUTES[ch.attribute][1]:
        return {"attribute": ch.attribute}
    return {"attribute": ch.attribute, "label": ch.label}


def _band(band: Band) -> tuple:
    return (band.min, band.max)


def _evaluate(profile: RiskProfile, policy: Policy, request: LoanRequest | None) -> Decision:
    hard = policy.hard_rules
    trace: list[TraceStep] = []
    declines: list[Reason] = []
    refers: list[Reason] = []
    step = trace.append

    def refer_missing(rule: str, attribute: str | None, message: str, **params) -> None:
        refers.append(_reason(rc.MISSING_DATA, message, None, attribute, **params))
        step(_step(rule, "refer", f"{message}.detail", **params))

    # ---- hard rules
    age = _int_value(profile.age)
    ages = {"min_age": hard.min_age, "max_age": hard.max_age}
    if age is None:
        refer_missing("hard_rules.age", "age", "age.missing", **ages)
    elif age < hard.min_age or age > hard.max_age:
        reason = _reason(rc.AGE_OUT_OF_RANGE, "age.outside", None, "age", age=age, **ages)
        declines.append(reason)
        step(_step("hard_rules.age", "decline", "age.outside", age=age, **ages))
    else:
        step(_step("hard_rules.age", "pass", "age.within", age=age, **ages))

    if not hard.decline_blacklisted:
        step(_step("hard_rules.decline_blacklisted", "off", "blacklist.off"))
    elif profile.blacklisted is True:
        declines.append(_reason(rc.BLACKLISTED, "blacklist.on"))
        step(_step("hard_rules.decline_blacklisted", "decline", "blacklist.on"))
    elif profile.blacklisted is False:
        step(_step("hard_rules.decline_blacklisted", "pass", "blacklist.clear"))
    else:
        refer_missing("hard_rules.decline_blacklisted", None, "blacklist.missing")

    if not hard.decline_currently_overdue:
        step(_step("hard_rules.decline_currently_overdue", "off", "overdue.off"))
    else:
        here = profile.platform_currently_overdue
        elsewhere = _int_value(profile.bureau_current_delinquencies)
        overdue_elsewhere = elsewhere is not None and elsewhere > 0
        if here is True or overdue_elsewhere:
            if not overdue_elsewhere:
                message, params = "overdue.here", {}
            else:
                message = "overdue.both" if here is True else "overdue.elsewhere"
                message += ".one" if elsewhere == 1 else ""
                params = {"count": elsewhere}
            declines.append(_reason(rc.CURRENTLY_OVERDUE, message, **params))
            step(_step("hard_rules.decline_currently_overdue", "decline", message, **params))
        elif here is not False:
            refer_missing(
                "hard_rules.decline_currently_overdue",
                "platform_currently_overdue",
                "overdue.here.missing",
            )
        elif elsewhere is None:
            refer_missing(
                "hard_rules.decline_currently_overdue",
                "bureau_current_delinquencies",
                "overdue.elsewhere.missing",
            )
        else:
            step(_step("hard_rules.decline_currently_overdue", "pass", "overdue.none"))

    limit_inq = hard.max_inquiries_6m
    if limit_inq is None:
        step(_step("hard_rules.max_inquiries_6m", "off", "inquiries.off"))
    else:
        inquiries = _int_value(profile.bureau_inquiries_6m)
        counts = {"count": inquiries, "max_count": limit_inq}
        if inquiries is None:
            refer_missing("hard_rules.max_inquiries_6m", "bureau_inquiries_6m", "inquiries.missing")
        elif inquiries > limit_inq:
            declines.append(
                _reason(rc.TOO_MANY_INQUIRIES, "inquiries", None, "bureau_inquiries_6m", **counts)
            )
            step(_step("hard_rules.max_inquiries_6m", "decline", "inquiries", **counts))
        else:
            step(_step("hard_rules.max_inquiries_6m", "pass", "inquiries", **counts))

    if not hard.refer_income_unverified:
        step(_step("hard_rules.refer_income_unverified", "off", "income.unverified.off"))
    elif profile.income_verified is True:
        step(_step("hard_rules.refer_income_unverified", "pass", "income.verified"))
    else:
        refers.append(_reason(rc.INCOME_NOT_VERIFIED, "income.unverified", None, "monthly_income"))
        step(_step("hard_rules.refer_income_unverified", "refer", "income.unverified"))

    income = _decimal_value(profile.monthly_income)
    if income is None:
        refer_missing("data.monthly_income", "monthly_income", "income.missing")
    existing = _decimal_value(profile.existing_monthly_debt)
    if existing is None:
        refer_missing("data.existing_monthly_debt", "existing_monthly_debt", "debt.missing")

    # ---- scorecard
    score = policy.base_points
    score_steps = [_step("scorecard.base_points", str(score), "score.base", score=score)]
    factors: list[tuple[int, int, Characteristic, object, Band | None]] = []
    for order, ch in enumerate(policy.characteristics):
        attribute = ch.attribute
        kind = ch.kind
        about = _about(ch)
        band = None
        if kind == CATEGORY:
            value = getattr(profile, attribute)
            if value is None:
                points = ch.missing_points
                detail = ("score.missing", {"points": points})
            elif isinstance(value, str) and value in ch.category_points:
                points = ch.category_points[value]
                detail = ("score.category", {"value": value, "points": points})
            else:  # a category the scorecard does not list scores as missing
                value = str(value)
                points = ch.missing_points
                detail = ("score.unlisted", {"value_repr": repr(value), "points": points})
        else:
            if attribute == "debt_to_income":
                value = debt_to_income(existing, income)
            elif kind == INTEGER:
                value = _int_value(getattr(profile, attribute))
            else:
                value = _decimal_value(getattr(profile, attribute))
            if value is None:
                points = ch.missing_points
                detail = ("score.missing", {"points": points})
            else:
                band = ch.bands[bisect_right(ch.lower_bounds, value)]
                points = band.points
                detail = (
                    "score.band",
                    {"value": value, "band": _band(band), "points": points},
                )
        if value is None and attribute in hard.refer_if_missing:
            refers.append(_reason(rc.MISSING_DATA, "missing", None, attribute, **about))
            trace.append(
                _step(f"hard_rules.refer_if_missing.{attribute}", "refer", "missing", **about)
            )
        score += points
        score_steps.append(
            _step(f"scorecard.{attribute}", f"{points:+d}", detail[0], **about, **detail[1])
        )
        lost = ch.best_points - points
        if lost > 0:
            factors.append((lost, order, ch, value, band))
    # An attribute the policy refers on when missing, but does not score.
    scored = {ch.attribute for ch in policy.characteristics}
    for attribute in hard.refer_if_missing:
        if attribute in scored:
            continue
        if attribute == "debt_to_income":
            present = debt_to_income(existing, income) is not None
        else:
            present = getattr(profile, attribute) is not None
        if not present:
            refers.append(_reason(rc.MISSING_DATA, "missing", None, attribute, attribute=attribute))
            trace.append(
                _step(
                    f"hard_rules.refer_if_missing.{attribute}",
                    "refer",
                    "missing",
                    attribute=attribute,
                )
            )
    trace.extend(score_steps)
    step(_step("scorecard.total", str(score), "score.total", score=score))

    # ---- grade
    grade, cut_off = grade_for(score, [(cut.grade, cut.min_score) for cut in policy.grades])
    grade_outcome = policy.outcomes[grade]
    graded = {"score": score, "grade": grade, "outcome": grade_outcome}
    if cut_off is not None:
        step(_step("grade", grade, "grade.reached", cut_off=cut_off, **graded))
    else:
        step(_step("grade", grade, "grade.lowest", **graded))

    # ---- limit and DTI
    limit = ZERO
    limit_declines: list[Reason] = []
    dti_refer: Reason | None = None
    if declines:
        step(_step("limits", "skipped", "limit.skipped.hard_rule"))
    elif grade_outcome == "decline":
        step(_step("limits", "skipped", "limit.skipped.grade", grade=grade))
    elif income is None:
        step(_step("limits", "skipped", "limit.skipped.income"))
    else:
        rule = policy.limits[grade]
        path = f"limits.{grade}"
        debt = existing if existing is not None else ZERO
        by_income = income * rule.income_multiple
        step(
            _step(
                f"{path}.income_multiple",
                money_str(quantize_money(by_income)),
                "limit.by_income",
                income=income,
                multiple=str(rule.income_multiple),
                by_income=by_income,
            )
        )
        allowed = income * rule.dti_ceiling
        available = allowed - debt
        room = {"ceiling": rule.dti_ceiling, "allowed": allowed, "debt": debt}
        step(
            _step(
                f"{path}.dti_ceiling",
                money_str(quantize_money(available)),
                "limit.allowed",
                available=available,
                **room,
            )
        )
        if available <= 0:
            limit_declines.append(
                _reason(
                    rc.NO_REPAYMENT_CAPACITY,
                    "limit.no_capacity",
                    None,
                    "existing_monthly_debt",
                    **room,
                )
            )
            step(_step(f"{path}.capacity", "decline", "limit.no_capacity", **room))
        else:
            if debt > 0:
                scaled = rule.income_multiple * available / rule.dti_ceiling
                step(
                    _step(
                        f"{path}.capacity",
                        money_str(quantize_money(scaled)),
                        "limit.scaled",
                        share=available / allowed,
                        by_income=by_income,
                        scaled=scaled,
                    )
                )
            else:
                scaled = by_income
                step(_step(f"{path}.capacity", money_str(quantize_money(scaled)), "limit.no_debt"))
            capped = min(scaled, rule.max_limit, HOUSEHOLD_CAP)
            if capped < scaled:
                household = capped == HOUSEHOLD_CAP < rule.max_limit
                step(
                    _step(
                        f"{path}.max_limit",
                        money_str(quantize_money(capped)),
                        "limit.capped.household" if household else "limit.capped.grade",
                        scaled=scaled,
                        capped=capped,
                        **({} if household else {"grade": grade}),
                    )
                )
            else:
                step(
                    _step(
                        f"{path}.max_limit",
                        "pass",
                        "limit.within_max",
                        scaled=scaled,
                        grade=grade,
                        max_limit=rule.max_limit,
                    )
                )
            rounded = to_multiple(capped, policy.rounding)
            step(
                _step(
                    "rounding",
                    money_str(rounded),
                    "limit.rounded",
                    capped=capped,
                    unit=str(policy.rounding),
                    rounded=rounded,
                )
            )
            if rounded < rule.min_limit or rounded <= 0:
                if rounded < rule.min_limit:
                    message = "limit.below_min"
                    params = {"rounded": rounded, "min_limit": rule.min_limit}
                else:
                    message, params = "limit.zero", {"rounded": rounded}
                limit_declines.append(_reason(rc.LIMIT_BELOW_MINIMUM, message, **params))
                step(_step(f"{path}.min_limit", "decline", message, **params))
            else:
                limit = rounded
                step(
                    _step(
                        f"{path}.min_limit",
                        "pass",
                        "limit.at_least_min",
                        rounded=rounded,
                        min_limit=rule.min_limit,
                    )
                )
        if request is None:
            step(_step("dti", "skipped", "dti.skipped"))
        else:
            new_payment = _decimal_value(request.new_monthly_payment)
            if new_payment is None:
                refer_missing("dti", None, "dti.payment.missing")
            else:
                total = debt + new_payment
                message = "dti.over" if total > allowed else "dti.within"
                params = {"payment": new_payment, "total": total, **room}
                if total > allowed:
                    dti_refer = _reason(rc.DTI_EXCEEDED, message, None, "debt_to_income", **params)
                    step(_step("dti", "refer", message, **params))
                else:
                    step(_step("dti", "pass", message, **params))

    # ---- outcome and reasons
    # Missing or unverified data refers rather than declines on a score it dragged down: a
    # person completes the file. Only a hard-rule decline (a known fact) beats it.
    data_gaps = any(r.code in (rc.MISSING_DATA, rc.INCOME_NOT_VERIFIED) for r in refers)
    if declines:
        outcome, reasons = "decline", declines
    elif data_gaps:
        outcome, reasons = "refer", list(refers)
        if dti_refer is not None:
            reasons.append(dti_refer)
        if grade_outcome != "approve":  # the reviewer also sees what weighed on the score
            already = tuple(r.attribute for r in refers if r.code == rc.MISSING_DATA)
            reasons += _score_reasons(score, grade, "refer", factors, already)
    elif grade_outcome == "decline":
        outcome = "decline"
        reasons = _score_reasons(score, grade, grade_outcome, factors, ())
    elif limit_declines:
        outcome, reasons = "decline", limit_declines
    elif refers or dti_refer is not None or grade_outcome == "refer":
        outcome = "refer"
        reasons = list(refers)
        if dti_refer is not None:
            reasons.append(dti_refer)
        if grade_outcome == "refer":
            already = tuple(r.attribute for r in refers if r.code == rc.MISSING_DATA)
            reasons += _score_reasons(score, grade, grade_outcome, factors, already)
    else:
        outcome, reasons = "approve", []
    if outcome == "decline":
        limit = ZERO
    if reasons:
        listed = [{"message": r.message, "params": r.params} for r in reasons]
        step(_step("outcome", outcome, "outcome.reasons", reasons=listed))
    else:
        step(_step("outcome", outcome, "outcome.approve", grade=grade, limit=limit))
    return Decision(outcome, score, grade, limit, reasons, trace)


def _score_reasons(score, grade, grade_outcome, factors, already_reported) -> list[Reason]:
    """LOW_GRADE, then the characteristics that cost the most points against their best band
    (ties in scorecard order), at most MAX_SCORE_FACTORS, skipping a missing attribute already
    reported as a missing-data refer."""
    message = "grade.declines" if grade_outcome == "decline" else "grade.refers"
    reasons = [_reason(rc.LOW_GRADE, message, score=score, grade=grade)]
    ranked = sorted(factors, key=lambda f: (-f[0], f[1]))
    for lost, _, ch, value, band in ranked:
        if len(reasons) > MAX_SCORE_FACTORS:
            break
        if value is None and ch.attribute in already_reported:
            continue
        about = _about(ch)
        if value is None:
            message, params = "missing", {}
        elif ch.kind == CATEGORY:
            if value not in ch.category_points:
                message, params = "factor.unlisted", {"value_repr": repr(value)}
            else:
                best = max(ch.categories, key=lambda c: c[1])[0]
                message = "factor.category"
                params = {"value": value, "lost": lost, "best": best}
        elif band is not None and band.points == ch.worst_points:
            message, params = "factor.lowest", {"value": value, "band": _band(band)}
        else:
            message = "factor.band"
            params = {"value": value, "band": _band(band), "lost": lost}
        reasons.append(_reason(rc.LOW_SCORE, message, lost, ch.attribute, **about, **params))
    return reasons
