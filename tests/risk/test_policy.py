"""Tests for risk.policy: parsing and validating a credit policy, and evaluating borrowers (§7).

Pure: no database, no Django import in the module under test (checked below). Expected scores
and limits are worked out by hand in the comments next to them, against `DEFAULT_POLICY` or a
"flat" policy (no characteristics, so the score is exactly `base_points`) that isolates the
grade and limit rules.
"""

import copy
import json
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.money import to_multiple
from risk import reasons as rc
from risk.policy import (
    DEFAULT_POLICY,
    EMPLOYMENT_TYPES,
    HOUSEHOLD_CAP,
    LoanRequest,
    PolicyError,
    RiskProfile,
    evaluate,
    parse_policy,
)

D = Decimal
POLICY = parse_policy(DEFAULT_POLICY)
OUTCOMES = {"approve", "refer", "decline"}


def profile(**changes) -> RiskProfile:
    """A borrower every rule passes. Scored against DEFAULT_POLICY (worked in test_score_by_hand):
    600 + 50 + 15 + 20 + 20 + 15 + 10 + 0 + 20 + 15 + 30 = 795, grade A."""
    base = RiskProfile(
        age=30,
        monthly_income=D("10000"),
        income_verified=True,
        employment_type="salaried",
        employment_months=36,
        existing_monthly_debt=D("1000"),
        bureau_score=720,
        bureau_inquiries_6m=1,
        bureau_worst_delinquency_days=0,
        bureau_current_delinquencies=0,
        blacklisted=False,
    )
    return replace(base, **changes)


def data(**sections) -> dict:
    """DEFAULT_POLICY with whole sections replaced."""
    result = copy.deepcopy(DEFAULT_POLICY)
    result.update(copy.deepcopy(sections))
    return result


def flat(base_points: int = 800, **limit_a) -> dict:
    """No characteristics: score == base_points. Grade A's limit rule can be overridden."""
    result = data(scorecard={"base_points": base_points, "characteristics": []})
    result["limits"]["A"].update(limit_a)
    return result


def issues(definition: dict) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(definition)
    return [(issue.rule, issue.message) for issue in caught.value.errors]


def step(decision, rule):
    [found] = [s for s in decision.trace if s.rule == rule]
    return found


def codes(decision) -> list[str]:
    return [r.code for r in decision.reasons]


# --------------------------------------------------------------------------- purity, default


def test_module_imports_no_django():
    code = (
        "import sys, risk.policy, risk.reasons; "
        "bad = [m for m in sys.modules if m.split('.')[0] == 'django']; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_default_policy_is_valid_and_survives_json():
    # The Django side stores the definition in a JSONField: the round trip parses the same.
    assert parse_policy(json.loads(json.dumps(DEFAULT_POLICY))) == POLICY
    assert [g.grade for g in POLICY.grades] == ["A", "B", "C", "D", "E"]
    assert POLICY.outcomes == {
        "A": "approve",
        "B": "approve",
        "C": "approve",
        "D": "refer",
        "E": "decline",
    }


def test_json_float_reads_as_its_decimal_text():
    definition = data()
    definition["limits"]["C"]["dti_ceiling"] = 0.45  # a JSON number, not a string
    assert parse_policy(definition).limits["C"].dti_ceiling == D("0.45")


def test_the_good_profile_is_approved_with_no_reasons():
    decision = evaluate(profile(), POLICY)
    assert (decision.outcome, decision.grade, decision.reasons) == ("approve", "A", [])
    # 10,000 × 6 = 60,000; existing 1,000 of the 5,000 allowed leaves 80 %: 48,000.
    assert decision.limit == D("48000.00")


# --------------------------------------------------------------------------- hard rules


@pytest.mark.parametrize("age", [17, 61])
def test_age_outside_range_declines(age):
    decision = evaluate(profile(age=age), POLICY)
    assert decision.outcome == "decline"
    assert decision.limit == 0
    assert [(r.code, r.text) for r in decision.reasons] == [
        (rc.AGE_OUT_OF_RANGE, f"age {age} is outside the 18–60 range the policy accepts")
    ]
    assert step(decision, "hard_rules.age").result == "decline"


@pytest.mark.parametrize("age", [18, 60])
def test_age_at_the_bounds_passes(age):
    decision = evaluate(profile(age=age), POLICY)
    assert step(decision, "hard_rules.age").result == "pass"
    assert decision.outcome == "approve"


def test_blacklisted_declines():
    decision = evaluate(profile(blacklisted=True), POLICY)
    assert decision.outcome == "decline"
    assert [(r.code, r.text) for r in decision.reasons] == [(rc.BLACKLISTED, "on the blacklist")]
    assert decision.limit == 0


def test_blacklist_rule_switched_off():
    definition = data()
    definition["hard_rules"]["decline_blacklisted"] = False
    decision = evaluate(profile(blacklisted=True), parse_policy(definition))
    assert decision.outcome == "approve"
    assert step(decision, "hard_rules.decline_blacklisted").result == "off"


def test_overdue_with_us_declines():
    decision = evaluate(profile(platform_currently_overdue=True, platform_worst_dpd=3), POLICY)
    assert decision.outcome == "decline"
    assert [(r.code, r.text) for r in decision.reasons] == [
        (rc.CURRENTLY_OVERDUE, "currently overdue: a loan with us is overdue")
    ]


def test_overdue_at_other_lenders_declines():
    decision = evaluate(profile(bureau_current_delinquencies=2), POLICY)
    assert decision.outcome == "decline"
    assert decision.reasons[0].code == rc.CURRENTLY_OVERDUE
    assert decision.reasons[0].text == "currently overdue: 2 loans overdue at other lenders"


def test_inquiries_above_the_maximum_decline():
    decision = evaluate(profile(bureau_inquiries_6m=7), POLICY)
    assert decision.outcome == "decline"
    assert [(r.code, r.text) for r in decision.reasons] == [
        (rc.TOO_MANY_INQUIRIES, "7 credit inquiries in the last 6 months (at most 6)")
    ]


def test_inquiries_at_the_maximum_pass():
    decision = evaluate(profile(bureau_inquiries_6m=6), POLICY)
    assert step(decision, "hard_rules.max_inquiries_6m").result == "pass"
    # 795 − 20 (1 inquiry: +20) − 25 (4 and above: −25) = 750: still grade A.
    assert (decision.score, decision.outcome) == (750, "approve")


def test_income_not_verified_refers_with_a_proposed_limit():
    decision = evaluate(profile(income_verified=False), POLICY)
    assert decision.outcome == "refer"
    assert [(r.code, r.text) for r in decision.reasons] == [
        (rc.INCOME_NOT_VERIFIED, "income not verified")
    ]
    assert decision.limit == D("48000.00")  # what the reviewer grants once income is verified


def test_every_failing_decline_rule_is_a_reason_and_refers_are_not():
    decision = evaluate(
        profile(age=17, blacklisted=True, bureau_inquiries_6m=9, income_verified=False), POLICY
    )
    assert decision.outcome == "decline"
    assert codes(decision) == [rc.AGE_OUT_OF_RANGE, rc.BLACKLISTED, rc.TOO_MANY_INQUIRIES]
    assert step(decision, "hard_rules.refer_income_unverified").result == "refer"  # traced
    assert step(decision, "limits").result == "skipped"


# --------------------------------------------------------------------------- missing data


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"age": None}, "age not on file"),
        ({"bureau_score": None}, "credit bureau score not on file"),
        ({"existing_monthly_debt": None}, "existing monthly debt payments not on file"),
        (
            {"bureau_inquiries_6m": None},
            "number of credit inquiries in the last 6 months not on file",
        ),
        (
            {"bureau_current_delinquencies": None},
            "no count of loans overdue at other lenders on file",
        ),
    ],
)
def test_missing_data_refers(changes, text):
    decision = evaluate(profile(**changes), POLICY)
    assert decision.outcome == "refer"
    assert (rc.MISSING_DATA, text) in [(r.code, r.text) for r in decision.reasons]


def test_missing_income_refers_without_a_limit():
    decision = evaluate(profile(monthly_income=None), POLICY)
    assert decision.outcome == "refer"
    assert (rc.MISSING_DATA, "monthly income not on file") in [
        (r.code, r.text) for r in decision.reasons
    ]
    assert decision.limit == 0
    assert step(decision, "limits").result == "skipped"


@pytest.mark.parametrize("bad", [D("NaN"), D("Infinity"), "10000", True])
def test_malformed_income_counts_as_missing(bad):
    decision = evaluate(profile(monthly_income=bad), POLICY)
    assert decision.outcome == "refer"
    assert "monthly income not on file" in [r.text for r in decision.reasons]


def test_unknown_employment_type_scores_missing_points():
    decision = evaluate(profile(employment_type="astronaut"), POLICY)
    # 795 − 30 (salaried) − 10 (missing_points) = 755
    assert decision.score == 755
    assert step(decision, "scorecard.employment_type").result == "-10"


def money(low: int, high: int):
    return st.decimals(
        min_value=low, max_value=high, places=2, allow_nan=False, allow_infinity=False
    )


def maybe(strategy):
    return st.none() | strategy


PROFILES = st.builds(
    RiskProfile,
    age=maybe(st.integers(0, 120)),
    monthly_income=maybe(money(-1000, 10_000_000) | st.decimals()),  # any: NaN, 1E+999 …
    income_verified=maybe(st.booleans()),
    employment_type=maybe(st.sampled_from((*EMPLOYMENT_TYPES, "astronaut"))),
    employment_months=maybe(st.integers(-5, 600)),
    existing_monthly_debt=maybe(money(-100, 1_000_000) | st.decimals()),
    bureau_score=maybe(st.integers(0, 1000)),
    bureau_inquiries_6m=maybe(st.integers(0, 30)),
    bureau_worst_delinquency_days=maybe(st.integers(0, 2000)),
    bureau_current_delinquencies=maybe(st.integers(0, 5)),
    blacklisted=maybe(st.booleans()),
    platform_worst_dpd=maybe(st.integers(0, 400)),
    platform_on_time_ratio=maybe(st.decimals(min_value=0, max_value=1, places=4) | st.decimals()),
    platform_loans_repaid=maybe(st.integers(0, 50)),
    platform_outstanding_principal=maybe(money(0, 300_000)),
    platform_currently_overdue=maybe(st.booleans()),
)
REQUESTS = st.none() | st.builds(
    LoanRequest, amount=money(0, 300_000), new_monthly_payment=maybe(money(0, 50_000))
)


@settings(max_examples=300, deadline=None)
@given(PROFILES, REQUESTS)
def test_any_profile_gets_a_decision_and_the_same_one_twice(borrower, request_):
    decision = evaluate(borrower, POLICY, request_)
    assert decision.outcome in OUTCOMES
    assert decision.grade in "ABCDE"
    assert 0 <= decision.limit <= HOUSEHOLD_CAP
    if decision.outcome == "decline":
        assert decision.limit == 0
    if decision.outcome != "approve":
        assert decision.reasons, "a refer or decline always says why"
    assert decision.trace[-1].rule == "outcome"
    assert decision.trace[-1].result == decision.outcome
    json.dumps(decision.as_dict())  # storable as it is
    # Deterministic: the same input, or the same policy parsed again, gives an equal decision.
    assert evaluate(borrower, POLICY, request_) == decision
    assert evaluate(borrower, parse_policy(DEFAULT_POLICY), request_) == decision


# --------------------------------------------------------------------------- scorecard


def test_score_by_hand():
    decision = evaluate(profile(), POLICY)
    by_hand = {
        "scorecard.bureau_score": "+50",  # 720: 700 and above
        "scorecard.age": "+15",  # 30: 26–45
        "scorecard.bureau_inquiries_6m": "+20",  # 1: up to 1
        "scorecard.bureau_worst_delinquency_days": "+20",  # 0: up to 0
        "scorecard.employment_months": "+15",  # 36: 24 and above
        "scorecard.platform_worst_dpd": "+10",  # 0: up to 0
        "scorecard.platform_on_time_ratio": "+0",  # none yet: missing_points 0
        "scorecard.debt_to_income": "+20",  # 1,000 / 10,000 = 10 %: under 20 %
        "scorecard.monthly_income": "+15",  # 10,000: 8,000 to under 20,000
        "scorecard.employment_type": "+30",  # salaried
    }
    assert {rule: step(decision, rule).result for rule in by_hand} == by_hand
    # 600 + 50 + 15 + 20 + 20 + 15 + 10 + 0 + 20 + 15 + 30 = 795
    assert decision.score == 795
    assert step(decision, "scorecard.total").result == "795"


def test_score_of_a_weaker_profile_by_hand():
    borrower = profile(
        bureau_score=549,  # up to 549: −60
        age=22,  # 22–25: 0
        bureau_inquiries_6m=3,  # 2–3: 0
        bureau_worst_delinquency_days=30,  # 1–30: −10
        employment_months=5,  # up to 5: −15
        platform_worst_dpd=8,  # 8–30: −30
        platform_on_time_ratio=D("0.95"),  # 95 % and above (min inclusive): +20
        monthly_income=D("3000"),  # 3,000 to under 8,000 (min inclusive): 0
        existing_monthly_debt=D("1200"),  # 1,200 / 3,000 = 40 %: 40 % to under 60 %: −20
        employment_type="gig",  # 0
    )
    decision = evaluate(borrower, POLICY)
    # 600 − 60 + 0 + 0 − 10 − 15 − 30 + 20 + 0 − 20 + 0 = 485: grade E
    assert (decision.score, decision.grade, decision.outcome) == (485, "E", "decline")


@pytest.mark.parametrize(
    ("ratio", "points"), [(D("0.9499"), "-10"), (D("0.95"), "+20"), (D("0.7999"), "-40")]
)
def test_decimal_bands_are_min_inclusive_max_exclusive(ratio, points):
    decision = evaluate(profile(platform_on_time_ratio=ratio), POLICY)
    assert step(decision, "scorecard.platform_on_time_ratio").result == points


@pytest.mark.parametrize(
    ("score", "points"),
    [(549, "-60"), (550, "-10"), (649, "-10"), (650, "+25"), (699, "+25"), (700, "+50")],
)
def test_integer_bands_are_inclusive_at_both_ends(score, points):
    decision = evaluate(profile(bureau_score=score), POLICY)
    assert step(decision, "scorecard.bureau_score").result == points


def test_trace_has_one_entry_per_hard_rule_and_characteristic():
    decision = evaluate(profile(), POLICY, LoanRequest(D("10000"), D("900")))
    rules = [s.rule for s in decision.trace]
    expected = [
        f"scorecard.{c['attribute']}" for c in DEFAULT_POLICY["scorecard"]["characteristics"]
    ]
    assert [
        r
        for r in rules
        if r.startswith("scorecard.") and r not in ("scorecard.base_points", "scorecard.total")
    ] == expected
    assert [r for r in rules if r.startswith("hard_rules.")] == [
        "hard_rules.age",
        "hard_rules.decline_blacklisted",
        "hard_rules.decline_currently_overdue",
        "hard_rules.max_inquiries_6m",
        "hard_rules.refer_income_unverified",
    ]
    assert {"grade", "limits.A.income_multiple", "limits.A.max_limit", "rounding", "dti"} <= set(
        rules
    )
    assert rules[-1] == "outcome"
    assert step(decision, "scorecard.bureau_score").detail == (
        "credit bureau score is 720: band 700 and above, +50 points"
    )


# --------------------------------------------------------------------------- grades


@pytest.mark.parametrize(
    ("score", "grade", "outcome"),
    [
        (720, "A", "approve"),
        (719, "B", "approve"),
        (680, "B", "approve"),
        (679, "C", "approve"),
        (640, "C", "approve"),
        (639, "D", "refer"),
        (600, "D", "refer"),
        (599, "E", "decline"),
        (-50, "E", "decline"),
    ],
)
def test_grade_cut_offs_at_the_boundaries(score, grade, outcome):
    decision = evaluate(profile(), parse_policy(flat(base_points=score)))
    assert (decision.score, decision.grade, decision.outcome) == (score, grade, outcome)
    if outcome != "approve":
        verb = "refers" if outcome == "refer" else "declines"
        assert decision.reasons[0].code == rc.LOW_GRADE
        assert (
            decision.reasons[0].text == f"score {score} is grade {grade}, which the policy {verb}"
        )


# --------------------------------------------------------------------------- limits


def test_limit_is_income_times_multiple():
    decision = evaluate(profile(existing_monthly_debt=D("0")), parse_policy(flat()))
    # 10,000 × 6 = 60,000, within A's max 200,000
    assert decision.limit == D("60000.00")
    assert step(decision, "limits.A.income_multiple").result == "60000.00"
    assert step(decision, "limits.A.max_limit").result == "pass"


def test_limit_capped_by_the_grades_max():
    decision = evaluate(
        profile(existing_monthly_debt=D("0")), parse_policy(flat(max_limit="50000"))
    )
    # 60,000 capped at 50,000
    assert decision.limit == D("50000.00")
    assert step(decision, "limits.A.max_limit").result == "50000.00"


def test_limit_never_above_the_household_cap():
    decision = evaluate(
        profile(monthly_income=D("100000"), existing_monthly_debt=D("0")), parse_policy(flat())
    )
    # 100,000 × 6 = 600,000 → 200,000
    assert decision.limit == HOUSEHOLD_CAP == D("200000")


def test_limit_rounds_down_to_100():
    decision = evaluate(
        profile(monthly_income=D("10025"), existing_monthly_debt=D("0")), parse_policy(flat())
    )
    # 10,025 × 6 = 60,150 → 60,100 (down, never up)
    assert decision.limit == D("60100.00")
    assert step(decision, "rounding").result == "60100.00"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("60150", "60100.00"), ("60100", "60100.00"), ("60199.99", "60100.00"), ("99.99", "0.00")],
)
def test_limits_round_down_to_the_unit(amount, expected):
    assert to_multiple(D(amount), D("100")) == D(expected)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("60100.01", "60200.00"), ("60100", "60100.00"), ("0.01", "100.00")],
)
def test_rounding_up_to_the_unit(amount, expected):
    assert to_multiple(D(amount), D("100"), up=True) == D(expected)


def test_existing_debt_scales_the_limit_down():
    decision = evaluate(profile(existing_monthly_debt=D("3000")), parse_policy(flat()))
    # allowed 10,000 × 0.5 = 5,000; 3,000 used leaves 2,000 = 40 %: 60,000 × 40 % = 24,000
    assert decision.limit == D("24000.00")
    assert step(decision, "limits.A.dti_ceiling").result == "2000.00"
    assert step(decision, "limits.A.capacity").result == "24000.00"


def test_request_breaching_dti_refers():
    # 3,000 existing + 2,500 new = 5,500 > 10,000 × 0.5 = 5,000
    decision = evaluate(
        profile(existing_monthly_debt=D("3000")),
        parse_policy(flat()),
        LoanRequest(D("20000"), D("2500")),
    )
    assert decision.outcome == "refer"
    assert [(r.code, r.text) for r in decision.reasons] == [
        (
            rc.DTI_EXCEEDED,
            "existing payments of 3,000.00 plus the new loan's 2,500.00 a month come to 5,500.00, "
            "more than the 5,000.00 (50% of income) the policy allows",
        )
    ]
    assert decision.limit == D("24000.00")


def test_request_exactly_at_the_dti_ceiling_passes():
    # 3,000 + 2,000 = 5,000: not above the ceiling
    decision = evaluate(
        profile(existing_monthly_debt=D("3000")),
        parse_policy(flat()),
        LoanRequest(D("20000"), D("2000")),
    )
    assert decision.outcome == "approve"
    assert step(decision, "dti").result == "pass"


def test_no_repayment_capacity_declines():
    # 5,000 existing uses all of 10,000 × 0.5
    decision = evaluate(profile(existing_monthly_debt=D("5000")), parse_policy(flat()))
    assert (decision.outcome, decision.limit) == ("decline", D("0"))
    assert codes(decision) == [rc.NO_REPAYMENT_CAPACITY]
    assert decision.reasons[0].text == (
        "existing debt payments of 5,000.00 a month already use the 5,000.00 the policy allows "
        "(50% of income)"
    )


def test_limit_below_minimum_declines():
    # 150 × 6 = 900 → rounded 900 < min 1,000
    decision = evaluate(
        profile(monthly_income=D("150"), existing_monthly_debt=D("0")), parse_policy(flat())
    )
    assert (decision.outcome, decision.limit) == ("decline", D("0"))
    assert [(r.code, r.text) for r in decision.reasons] == [
        (
            rc.LIMIT_BELOW_MINIMUM,
            "the limit the policy allows, 900.00, is below its minimum of 1,000.00",
        )
    ]


def test_refer_grade_still_gets_its_limit():
    # Grade D: 3 × 10,000 = 30,000, capped at D's 20,000
    decision = evaluate(profile(existing_monthly_debt=D("0")), parse_policy(flat(base_points=610)))
    assert (decision.outcome, decision.grade, decision.limit) == ("refer", "D", D("20000.00"))


@settings(max_examples=200, deadline=None)
@given(
    income=money(0, 10_000_000),
    existing=money(0, 100_000),
    multiple=st.decimals(min_value=0, max_value=100, places=1),
    ceiling=st.decimals(min_value="0.01", max_value=1, places=2),
    max_limit=st.integers(1000, 200_000),
)
def test_limit_never_exceeds_any_rule_or_the_household_cap(
    income, existing, multiple, ceiling, max_limit
):
    policy = parse_policy(
        flat(income_multiple=str(multiple), dti_ceiling=str(ceiling), max_limit=str(max_limit))
    )
    decision = evaluate(profile(monthly_income=income, existing_monthly_debt=existing), policy)
    assert decision.limit <= HOUSEHOLD_CAP
    assert decision.limit <= max_limit
    assert decision.limit <= income * multiple
    # Repayment capacity: the income-based limit scaled by the share of allowed payments left.
    if income > 0:
        room = max(D(0), 1 - existing / (income * ceiling))
        assert decision.limit <= income * multiple * room
    assert decision.limit % 100 == 0
    if decision.outcome != "decline":
        assert decision.limit >= 1000  # A's min_limit


# --------------------------------------------------------------------------- reasons order


def test_refer_reasons_come_before_score_factors_ordered_by_points_lost():
    borrower = profile(
        income_verified=False,
        bureau_score=600,  # −10: 60 below the best band (+50)
        employment_type="self_employed",  # +10: 20 below salaried (+30)
        employment_months=3,  # −15: 30 below the best band (+15), and its lowest band
        bureau_inquiries_6m=3,  # 0: 20 below the best band (+20)
        existing_monthly_debt=D("0"),
    )
    decision = evaluate(borrower, POLICY)
    # 795 − 60 − 20 − 30 − 20 = 665: grade C, approved by grade; refer only for income
    assert (decision.score, decision.outcome) == (665, "refer")
    assert codes(decision) == [rc.INCOME_NOT_VERIFIED]

    weaker = replace(borrower, bureau_worst_delinquency_days=10)  # −10: 30 below +20
    decision = evaluate(weaker, POLICY)
    # 665 − 30 = 635: grade D, refer
    assert (decision.score, decision.grade, decision.outcome) == (635, "D", "refer")
    assert codes(decision)[:2] == [rc.INCOME_NOT_VERIFIED, rc.LOW_GRADE]
    factors = decision.reasons[2:]
    assert [(f.attribute, f.weight) for f in factors] == [
        ("bureau_score", 60),
        ("bureau_worst_delinquency_days", 30),  # ties keep the scorecard's order
        ("employment_months", 30),
        ("bureau_inquiries_6m", 20),  # at most 4 factors: employment_type (20) is left out
    ]
    assert [f.text for f in factors[:3]] == [
        "credit bureau score is 600, in band 550–649, 60 points below the best band",
        "worst delinquency at other lenders (days) is 10, in band 1–30, 30 points below the "
        "best band",
        "time in current employment (months) is 3, in the lowest-scoring band (up to 5)",
    ]


def test_declined_grade_lists_the_costliest_factors():
    borrower = profile(
        bureau_score=540,  # −60: 110 below +50
        employment_type="unemployed",  # −60: 90 below salaried +30
        platform_worst_dpd=40,  # −70: 80 below +10
        platform_on_time_ratio=D("0.97"),  # +20, the best band: costs nothing
    )
    decision = evaluate(borrower, POLICY)
    # 795 + 20 − 110 − 90 − 80 = 535: grade E
    assert (decision.score, decision.outcome, decision.limit) == (535, "decline", D("0"))
    # Monthly income 10,000 (+15) is 10 below the best band (+25): the fourth factor.
    assert [(r.code, r.attribute, r.weight) for r in decision.reasons] == [
        (rc.LOW_GRADE, None, None),
        (rc.LOW_SCORE, "bureau_score", 110),
        (rc.LOW_SCORE, "employment_type", 90),
        (rc.LOW_SCORE, "platform_worst_dpd", 80),
        (rc.LOW_SCORE, "monthly_income", 10),
    ]
    assert decision.reasons[1].text == (
        "credit bureau score is 540, in the lowest-scoring band (up to 549)"
    )
    assert decision.reasons[2].text == (
        "employment type is unemployed, 90 points below the best category (salaried)"
    )


def test_missing_attribute_reported_once():
    decision = evaluate(profile(bureau_score=None), parse_policy(data()))
    texts = [r.text for r in decision.reasons]
    assert texts.count("credit bureau score not on file") == 1


# --------------------------------------------------------------------------- validation


def bureau_bands(*bands) -> dict:
    definition = data()
    definition["scorecard"]["characteristics"][0]["bands"] = [
        {"min": lo, "max": hi, "points": 0} for lo, hi in bands
    ]
    return definition


def test_overlapping_bands_refused():
    found = issues(bureau_bands((None, 549), (540, 649), (650, None)))
    assert found == [
        (
            "scorecard.bureau_score.bands[1]",
            "overlaps bands[0]: it starts at 540 but bands[0] ends at 549 (inclusive); it should "
            "start at 550",
        )
    ]


def test_gapped_bands_refused():
    found = issues(bureau_bands((None, 549), (560, 649), (650, None)))
    assert found == [
        (
            "scorecard.bureau_score.bands[1]",
            "gap after bands[0]: it starts at 560 but bands[0] ends at 549 (inclusive), so values "
            "550–559 fall in no band; it should start at 550",
        )
    ]


def test_gapped_decimal_bands_refused():
    definition = data()
    definition["scorecard"]["characteristics"][7]["bands"] = [
        {"min": None, "max": "0.20", "points": 0},
        {"min": "0.25", "max": None, "points": 0},
    ]
    [(rule, message)] = issues(definition)
    assert rule == "scorecard.debt_to_income.bands[1]"
    assert "values from 0.20 to under 0.25 fall in no band" in message


def test_bands_given_out_of_order_are_sorted_before_checking():
    policy = parse_policy(bureau_bands((650, None), (None, 549), (550, 649)))
    assert [b.min for b in policy.characteristics[0].bands] == [None, 550, 650]


def test_bands_must_start_and_end_unbounded():
    found = issues(bureau_bands((300, 549), (550, 900)))
    assert found == [
        (
            "scorecard.bureau_score.bands[0]",
            "the lowest band must have min null (unbounded) so every value falls in a band; it "
            "starts at 300",
        ),
        (
            "scorecard.bureau_score.bands[1]",
            "the highest band must have max null (unbounded) so every value falls in a band; it "
            "ends at 900",
        ),
    ]


def test_integer_attribute_bands_need_whole_numbers():
    found = issues(bureau_bands((None, "549.5"), ("549.5", None)))
    assert found[0][0] == "scorecard.bureau_score.bands[0].max"
    assert "whole number" in found[0][1]


def test_grades_out_of_order_refused():
    definition = data()
    definition["grades"][0], definition["grades"][1] = (
        definition["grades"][1],
        definition["grades"][0],
    )
    found = issues(definition)
    assert (
        "grades[0].grade",
        "expected grade 'A' here: grades go A, B, C, D, E from best to worst (got 'B')",
    ) in found


def test_grade_cut_offs_must_strictly_decrease():
    definition = data()
    definition["grades"][1]["min_score"] = 720
    assert issues(definition) == [
        (
            "grades[1].min_score",
            "grade B min_score 720 must be below grade A's 720: cut-offs strictly decrease from A "
            "to E",
        )
    ]


def test_last_grade_must_catch_every_score():
    definition = data()
    definition["grades"][4]["min_score"] = 500
    [(rule, message)] = issues(definition)
    assert rule == "grades[4].min_score"
    assert message.startswith("the last grade (E) must have min_score null")


def test_negative_multiple_refused():
    definition = data()
    definition["limits"]["C"]["income_multiple"] = "-1"
    assert issues(definition) == [
        (
            "limits.C.income_multiple",
            "must not be negative (got -1): a limit is a multiple ≥ 0 of monthly income",
        )
    ]


def test_missing_limit_for_a_grade_refused():
    definition = data()
    del definition["limits"]["D"]
    assert issues(definition) == [("limits.D", "no limit rule for grade D: every grade needs one")]


@pytest.mark.parametrize("ceiling", ["0", "1.5", "-0.1"])
def test_dti_ceiling_out_of_range_refused(ceiling):
    definition = data()
    definition["limits"]["B"]["dti_ceiling"] = ceiling
    [(rule, message)] = issues(definition)
    assert rule == "limits.B.dti_ceiling"
    assert message.startswith("must be above 0 and at most 1")


def test_max_limit_above_household_cap_refused():
    definition = data()
    definition["limits"]["A"]["max_limit"] = "250000"
    assert issues(definition) == [
        (
            "limits.A.max_limit",
            "must not exceed the household cap of 200,000.00 CNY (got 250,000.00)",
        )
    ]


def test_min_limit_above_max_limit_refused():
    definition = data()
    definition["limits"]["D"]["min_limit"] = "30000"
    assert issues(definition) == [
        ("limits.D.min_limit", "min_limit 30000 is above max_limit 20000: no limit would pass")
    ]


def test_unknown_attribute_refused():
    definition = data()
    definition["scorecard"]["characteristics"].append(
        {
            "attribute": "salary",
            "missing_points": 0,
            "bands": [{"min": None, "max": None, "points": 0}],
        }
    )
    [(rule, message)] = issues(definition)
    assert rule == "scorecard.characteristics[10].attribute"
    assert message.startswith("unknown attribute 'salary' (known: age, bureau_score")


def test_attribute_scored_twice_refused():
    definition = data()
    definition["scorecard"]["characteristics"].append(
        copy.deepcopy(definition["scorecard"]["characteristics"][0])
    )
    [(rule, message)] = issues(definition)
    assert rule == "scorecard.bureau_score"
    assert "each attribute is scored once" in message


def test_categories_must_cover_every_employment_type():
    definition = data()
    del definition["scorecard"]["characteristics"][9]["categories"]["gig"]
    assert issues(definition) == [
        (
            "scorecard.employment_type.categories",
            "no points for gig: every category needs points",
        )
    ]


@pytest.mark.parametrize(
    ("outcomes", "rule", "start"),
    [
        (
            {"approve": ["A", "B", "C"], "refer": ["C", "D"], "decline": ["E"]},
            "outcomes.refer[0]",
            "grade C is already assigned to approve",
        ),
        (
            {"approve": ["A", "B", "C"], "refer": ["D"], "decline": []},
            "outcomes",
            "no outcome for grade E",
        ),
        (
            {"approve": ["A", "B", "C"], "refer": ["E"], "decline": ["D"]},
            "outcomes",
            "grade D gets decline but the worse grade E gets refer",
        ),
        (
            {"approve": ["A", "B", "C", "D"], "decline": ["E"], "maybe": []},
            "outcomes.maybe",
            "unknown outcome 'maybe'",
        ),
    ],
)
def test_outcomes_assign_each_grade_once(outcomes, rule, start):
    [(found_rule, message)] = issues(data(outcomes=outcomes))
    assert found_rule == rule
    assert message.startswith(start)


def test_min_age_below_18_refused():
    definition = data()
    definition["hard_rules"]["min_age"] = 16
    assert issues(definition) == [
        (
            "hard_rules.min_age",
            "must be at least 18: the policy may not lend to minors (got 16)",
        )
    ]


def test_misspelt_rule_refused_not_ignored():
    definition = data()
    definition["hard_rules"]["max_inquries_6m"] = definition["hard_rules"].pop("max_inquiries_6m")
    found = dict(issues(definition))
    assert found["hard_rules.max_inquries_6m"].startswith("unknown key 'max_inquries_6m'")
    assert found["hard_rules.max_inquiries_6m"] == "is required"


def test_every_problem_is_reported_at_once():
    definition = data()
    definition["limits"]["C"]["income_multiple"] = "-2"
    del definition["limits"]["E"]
    definition["rounding"] = "0"
    assert [rule for rule, _ in issues(definition)] == [
        "limits.C.income_multiple",
        "limits.E",
        "rounding",
    ]
    with pytest.raises(PolicyError, match=r"limits\.E: no limit rule for grade E"):
        parse_policy(definition)


def test_rounding_must_be_whole_fen():
    definition = data(rounding="0.015")
    assert issues(definition) == [
        ("rounding", 'must be a positive multiple of 0.01, e.g. "100" (got 0.015)')
    ]


def test_income_multiple_is_bounded():
    definition = data()
    definition["limits"]["A"]["income_multiple"] = "1e14"
    [(rule, message)] = issues(definition)
    assert rule == "limits.A.income_multiple"
    assert message.startswith("must be at most 100")


@pytest.mark.parametrize("definition", [None, [], "policy", 3])
def test_a_policy_must_be_an_object(definition):
    assert issues(definition) == [("policy", "a policy must be a JSON object")]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _paths(node, prefix=()):
    yield prefix
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        yield from _paths(child, (*prefix, key))


PATHS = list(_paths(DEFAULT_POLICY))[1:]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON, st.booleans()), min_size=1, max_size=3))
def test_any_malformed_policy_is_a_policy_error_never_a_crash(mutations):
    """Replace (or delete) any value anywhere in the default policy: parsing either succeeds or
    raises PolicyError whose issues all name a rule; a policy that parses evaluates."""
    definition = data()
    for path, value, delete in mutations:
        parent = definition
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete and isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    try:
        policy = parse_policy(definition)
    except PolicyError as error:
        assert error.errors
        assert all(issue.rule and issue.message for issue in error.errors)
    else:
        assert evaluate(profile(), policy).outcome in OUTCOMES
