"""What the risk admin pages share: a decision's reasons and trace put in
words an officer reads, in the officer's language (the stored JSON is
`risk.policy.Decision.as_dict()`; the words come from `risk.reason_texts`)."""

from decimal import Decimal, InvalidOperation

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from lending import formatting
from risk import reasons as rc
from risk.reason_texts import (
    category_text,
    reason_meaning,
    reason_text,
    trace_detail,
    trace_result,
)

# Rule paths of the trace whose value is one profile attribute (the rest are named by suffix).
_RULE_ATTRIBUTE = {
    "hard_rules.age": "age",
    "hard_rules.decline_blacklisted": "blacklisted",
    "hard_rules.max_inquiries_6m": "bureau_inquiries_6m",
    "hard_rules.refer_income_unverified": "income_verified",
}


def _label(attribute: str) -> str:
    return rc.attribute_label(attribute, language=rc.Language(gettext=_))


def rule_label(rule: str) -> str:
    """ "scorecard.bureau_score" -> "Scorecard: credit bureau score"."""
    head, _dot, rest = rule.partition(".")
    if head == "hard_rules" and rest.startswith("refer_if_missing."):
        return _("Required data: %s") % _label(rest.removeprefix("refer_if_missing."))
    if head == "hard_rules":
        names = {
            "age": _("age"),
            "decline_blacklisted": _("blacklist"),
            "decline_currently_overdue": _("currently overdue"),
            "max_inquiries_6m": _("credit inquiries in 6 months"),
            "refer_income_unverified": _("income verified"),
        }
        return _("Hard rule: %s") % names.get(rest, rest)
    if head == "data":
        return _("Data: %s") % _label(rest)
    if head == "scorecard":
        names = {"base_points": _("base points"), "total": _("total score")}
        return _("Scorecard: %s") % names.get(rest, _label(rest))
    if head == "limits" and rest:
        grade, _dot, step = rest.partition(".")
        steps = {
            "income_multiple": _("income multiple"),
            "dti_ceiling": _("debt-to-income ceiling"),
            "capacity": _("repayment capacity"),
            "max_limit": _("maximum"),
            "min_limit": _("minimum"),
        }
        return _("Limit, grade %(grade)s: %(step)s") % {
            "grade": grade,
            "step": steps.get(step, step),
        }
    names = {
        "grade": _("Grade"),
        "limits": _("Limit"),
        "rounding": _("Limit rounding"),
        "dti": _("Debt-to-income with the new loan"),
        "outcome": _("Outcome"),
    }
    return names.get(rule, rule)


def _show(value) -> str:
    if value is None:
        return _("not on file")
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return str(value)


def _value(rule: str, profile: dict) -> str:
    """The profile figure a rule looked at, as stored with the decision ("" when none)."""
    attribute = _RULE_ATTRIBUTE.get(rule)
    if attribute is None:
        head, _dot, rest = rule.partition(".")
        if head in ("scorecard", "data") or rest.startswith("refer_if_missing."):
            attribute = rest.removeprefix("refer_if_missing.")
    if rule == "hard_rules.decline_currently_overdue":
        return _("with us: %(here)s; elsewhere: %(there)s") % {
            "here": _show(profile.get("platform_currently_overdue")),
            "there": _show(profile.get("bureau_current_delinquencies")),
        }
    if attribute == "debt_to_income":
        try:
            ratio = Decimal(profile["existing_monthly_debt"]) / Decimal(profile["monthly_income"])
        except (KeyError, TypeError, InvalidOperation, ArithmeticError):
            return _("not on file")
        return rc.fmt_ratio(ratio)
    if attribute is None or attribute in ("base_points", "total"):
        return ""
    if attribute == "employment_type" and profile.get(attribute):
        return category_text(profile[attribute])
    kind = rc.ATTRIBUTES.get(attribute, ("",))[0]
    if kind == rc.MONEY and profile.get(attribute) not in (None, ""):
        return formatting.money(profile[attribute])  # stored as "12000.00"
    return _show(profile.get(attribute)) if attribute in profile else ""


def trace_rows(decision) -> list[dict]:
    """One row per step: plain rule name, the value looked at, its result or points, detail."""
    profile = decision.profile or {}
    rows = []
    for number, step in enumerate(decision.trace or [], start=1):
        rule, result = step.get("rule", ""), step.get("result", "")
        scored = rule.startswith("scorecard.")
        rows.append(
            {
                "number": number,
                "rule": rule,
                "label": rule_label(rule),
                "value": _value(rule, profile),
                "result": "" if scored else trace_result(result),
                "points": result if scored else "",
                "detail": trace_detail(step),
                "kind": result if result in ("pass", "refer", "decline", "off") else "",
            }
        )
    return rows


def reason_rows(decision) -> list[dict]:
    """Numbered in the template, most important first; the code's meaning under the text."""
    rows = []
    for reason in decision.reasons or []:
        code = reason.get("code", "")
        weight = reason.get("weight")
        rows.append(
            {
                "code": code,
                "text": reason_text(reason),
                "meaning": reason_meaning(code),
                "cost": _("cost %s points") % weight if weight else "",
            }
        )
    return rows


def reasons_summary(decision) -> str:
    """The first reason, and how many more: a list column."""
    reasons = decision.reasons if decision is not None else []
    if not reasons:
        return ""
    first = reason_text(reasons[0])
    return (
        first
        if len(reasons) == 1
        else _("%(first)s (+%(more)s more)")
        % {
            "first": first,
            "more": len(reasons) - 1,
        }
    )


def render_reasons(decision):
    return render_to_string("admin/risk/includes/reasons.html", {"reasons": reason_rows(decision)})


def render_trace(decision):
    return render_to_string("admin/risk/includes/trace.html", {"rows": trace_rows(decision)})
