"""Tests for risk.scorecard: weight of evidence, bands the policy accepts, points, grades, AUC
and KS. Pure: no database. Expected figures are worked out by hand in the comments."""

import copy
import math
import random
import subprocess
import sys
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from risk.policy import DEFAULT_POLICY, EMPLOYMENT_TYPES, RiskProfile, evaluate, parse_policy
from risk.scorecard import (
    FACTOR,
    OFFSET,
    OTHER,
    ScorecardError,
    auc,
    bin_categorical,
    bin_numeric,
    fit_scorecard,
    grade_cutoffs,
    implied_bad_rate,
    information_value,
    ks,
    monotone_bins,
    scaled,
    split_by_borrower,
    woe,
)

D = Decimal


def test_module_imports_no_django():
    code = (
        "import sys, risk.scorecard; "
        "bad = [m for m in sys.modules if m.split('.')[0] == 'django']; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- worked examples


def test_woe_by_hand():
    # 30 of 100 goods and 10 of 50 bads fall in the bin, ½ added to each count:
    # (30.5 / 100) / (10.5 / 50) = 0.305 / 0.21 = 1.452381; ln = 0.373204 (safer than average).
    assert woe(30, 10, 100, 50) == pytest.approx(0.373204, abs=1e-6)
    # No bad in the bin stays finite: (20.5 / 100) / (0.5 / 50) = 20.5; ln = 3.020425.
    assert woe(20, 0, 100, 50) == pytest.approx(3.020425, abs=1e-6)


def test_information_value_by_hand():
    # Bins (80 goods, 20 bads) and (20, 30) of 100 goods and 50 bads:
    # WoE₁ = ln((80.5/100) / (20.5/50)) = ln(1.963415) = 0.674685
    # WoE₂ = ln((20.5/100) / (30.5/50)) = ln(0.336066) = −1.090449
    # IV = (0.8 − 0.4) × 0.674685 + (0.2 − 0.6) × (−1.090449) = 0.269874 + 0.436180 = 0.706054
    counts = [(80, 20), (20, 30)]
    woes = [woe(g, b, 100, 50) for g, b in counts]
    assert woes == pytest.approx([0.674685, -1.090449], abs=1e-6)
    assert information_value(counts, woes) == pytest.approx(0.706054, abs=1e-6)


def test_auc_by_hand():
    # Bads at risk 0.9 and 0.3; goods at 0.8, 0.3, 0.1. Of the 6 bad–good pairs the bad is
    # riskier in 4 (0.9 > all three goods, 0.3 > 0.1) and tied in 1 (0.3 = 0.3): 4.5 / 6.
    assert auc([1, 0, 1, 0, 0], [0.9, 0.8, 0.3, 0.3, 0.1]) == pytest.approx(0.75)
    assert auc([1, 0], [0.2, 0.8]) == 0.0
    assert auc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.5


def test_ks_by_hand():
    # Goods score 700, 650, 620, 600; bads 610, 580, 560. Share at or below each score:
    #   560: bads 1/3, goods 0 → 0.333;  580: 2/3, 0 → 0.667;  600: 2/3, 1/4 → 0.417;
    #   610: 3/3, 1/4 → 0.750;  620: 1, 2/4 → 0.5;  650: 1, 3/4;  700: 1, 1.
    scores = [700, 650, 620, 600, 610, 580, 560]
    labels = [0, 0, 0, 0, 1, 1, 1]
    assert ks(labels, scores) == pytest.approx(0.75)


def test_points_scale_by_hand():
    # FACTOR = 20 / ln 2 = 28.853901; OFFSET = 600 − 28.853901 × ln 50 = 487.122876.
    assert round(FACTOR, 6) == 28.853901
    assert round(OFFSET, 6) == 487.122876
    # 600 points are odds of 50:1 (P(bad) = 1/51); 20 more double them to 100:1 (1/101).
    assert implied_bad_rate(600) == pytest.approx(1 / 51)
    assert implied_bad_rate(620) == pytest.approx(1 / 101)
    assert implied_bad_rate(580) == pytest.approx(1 / 26)


def test_monotone_merge_by_hand():
    # 100 goods, 27 bads over four pre-bins. WoE rising with the value is wanted:
    #   (10, 10): ln((10.5/100)/(10.5/27)) = −1.309;  (30, 5): ln(0.305/0.2037) = +0.404
    #   (20, 10): ln(0.205/0.3889) = −0.640 ← falls after +0.404: merged with (30, 5)
    #   (50, 15): ln(0.505/0.5741) = −0.128;  (40, 2): ln(0.405/0.0926) = +1.476: rising.
    counts = [(10, 10), (30, 5), (20, 10), (40, 2)]
    assert monotone_bins(counts, direction=1, min_count=1) == [
        (10, 10, 0, 0),
        (50, 15, 1, 2),
        (40, 2, 3, 3),
    ]
    # Every bin needs 25 rows: the first (20 rows) joins its only neighbour.
    assert monotone_bins(counts, direction=1, min_count=25) == [(60, 25, 0, 2), (40, 2, 3, 3)]


def test_integer_bands_by_hand():
    # Ten loans at each of 1, 2, 3, 4 inquiries, with 1, 5, 3 and 8 bad (23 goods, 17 bads);
    # the decile edges put each value in a pre-bin of its own:
    #   1: (9, 1)  ln((9.5/23)/(1.5/17)) = +1.5435      2: (5, 5)  ln(17/23) = −0.3023
    #   3: (7, 3)  ln((7.5/23)/(3.5/17)) = +0.4599      4: (2, 8)  ln((2.5/23)/(8.5/17)) = −1.5261
    # Falling with the value keeps more information; 2 → 3 rises, so they merge:
    #   2–3: (12, 8)  ln((12.5/23)/(8.5/17)) = +0.0834.
    values = [1] * 10 + [2] * 10 + [3] * 10 + [4] * 10
    labels = [1] + [0] * 9 + [1] * 5 + [0] * 5 + [1] * 3 + [0] * 7 + [1] * 8 + [0] * 2
    binning = bin_numeric("bureau_inquiries_6m", values, labels)
    assert binning.edges == (2, 4)
    assert binning.counts == ((9, 1), (12, 8), (2, 8))
    assert binning.woes == pytest.approx([1.5435, 0.0834, -1.5261], abs=1e-4)
    characteristic = scaled(binning, -1.0)
    bands = characteristic.definition()["bands"]
    # Closed integer bands, next.min == prev.max + 1: [.., 1], [2, 3], [4, ..].
    assert [(b["min"], b["max"]) for b in bands] == [(None, 1), (2, 3), (4, None)]
    # points = round(28.8539 × WoE): 44.54 → 45, 2.41 → 2, −44.03 → −44.
    assert [b["points"] for b in bands] == [45, 2, -44]
    # No missing value in training: a missing value scores like the worst band.
    assert characteristic.missing_points == -44


def test_decimal_bands_are_half_open():
    # Ten borrowers at each income, 6, 2, 3 and 1 of them bad (28 goods, 12 bads):
    #   3,000: ln((4.5/28)/(6.5/12)) = −1.215     5,000: ln((8.5/28)/(2.5/12)) = +0.377
    #   8,000: ln((7.5/28)/(3.5/12)) = −0.085 ← falls: 5,000 and 8,000 merge, (15, 5) → +0.189
    #  12,000: ln((9.5/28)/(1.5/12)) = +0.999
    values = [D(v) for v in (3000, 5000, 8000, 12000) for _ in range(10)]
    labels = [1] * 6 + [0] * 4 + [1] * 2 + [0] * 8 + [1] * 3 + [0] * 7 + [1] + [0] * 9
    binning = bin_numeric("monthly_income", values, labels)
    assert binning.edges == (D("5000"), D("12000"))
    assert binning.woes == pytest.approx([-1.215, 0.189, 0.999], abs=1e-3)
    bands = scaled(binning, -1.0).definition()["bands"]
    # [.., 5000), [5000, 12000), [12000, ..): next.min == prev.max; JSON holds strings.
    assert [(b["min"], b["max"]) for b in bands] == [
        (None, "5000"),
        ("5000", "12000"),
        ("12000", None),
    ]
    assert [b["points"] for b in bands] == [-35, 5, 29]  # round(28.8539 × WoE)


def test_employment_types_pool_rare_and_unseen():
    # 82 goods and 23 bads; a type needs ceil(5 % × 105) = 6 rows of its own.
    values = ["salaried"] * 70 + ["gig"] * 30 + ["student"] * 5
    labels = [0] * 60 + [1] * 10 + [0] * 20 + [1] * 10 + [0] * 2 + [1] * 3
    binning = bin_categorical("employment_type", values, labels)
    # salaried: ln((60.5/82)/(10.5/23)) = +0.480;  gig: ln((20.5/82)/(10.5/23)) = −0.602.
    # The 5 students are too few to judge and join the worst type, gig: (22, 13) →
    # ln((22.5/82)/(13.5/23)) = −0.760; types never seen score the same.
    assert binning.groups == (("gig", "student"), ("salaried",))
    assert binning.woes == pytest.approx([-0.760, 0.480], abs=1e-3)
    assert binning.woe_of("unemployed") == binning.woe_of("gig")
    categories = scaled(binning, -1.0).definition()["categories"]
    assert set(categories) == set(EMPLOYMENT_TYPES)
    assert categories["salaried"] == round(FACTOR * 0.47996) == 14
    assert categories["student"] == categories["gig"] == categories["retired"] == -22


def test_a_large_pool_of_rare_types_gets_its_own_weight():
    values = ["salaried"] * 60 + ["gig"] * 20 + ["student"] * 4 + ["retired"] * 4 + [None] * 2
    labels = [i % 4 == 0 for i in range(60)] + [i % 2 == 0 for i in range(20)]
    labels += [1, 1, 1, 0, 0, 0, 0, 0, 1, 0]  # students, the retired, missing
    binning = bin_categorical("employment_type", values, [int(y) for y in labels])
    # 90 rows: 5 each needed; students (4) and the retired (4) pool into 8: enough together.
    assert binning.groups == (("gig",), ("salaried",), (OTHER,))
    assert binning.woe_of("student") == binning.woe_of("retired") == binning.woes[2]
    # The two missing values are too few: they score like the worst group.
    assert binning.missing_woe == min(binning.woes)


def test_grade_cutoffs_by_hand():
    # Scores 1…100: A the top 20 % (81+), B the next 25 % (56–80), C 25 % (31–55), D 20 %
    # (11–30), E the last 10 %.
    cuts = grade_cutoffs(list(range(1, 101)))
    assert cuts == (("A", 81), ("B", 56), ("C", 31), ("D", 11), ("E", None))
    # One score for everyone still gives strictly falling cut-offs (the policy requires it).
    cuts = grade_cutoffs([500] * 50)
    assert cuts == (("A", 500), ("B", 499), ("C", 498), ("D", 497), ("E", None))


# --------------------------------------------------------------------------- properties

INTEGER_VALUES = st.one_of(st.none(), st.integers(min_value=0, max_value=900))
MONEY_VALUES = st.one_of(
    st.none(), st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False)
)
RATIO_VALUES = st.one_of(
    st.none(), st.decimals(min_value=0, max_value=3, places=4, allow_nan=False)
)


def _in_band(value, band, integer: bool) -> bool:
    low = band["min"] if band["min"] is None or integer else D(band["min"])
    high = band["max"] if band["max"] is None or integer else D(band["max"])
    above = low is None or value >= low
    below = high is None or (value <= high if integer else value < high)
    return above and below


def _policy_with(characteristic: dict) -> dict:
    definition = copy.deepcopy(DEFAULT_POLICY)
    definition["scorecard"] = {"base_points": 500, "characteristics": [characteristic]}
    return definition


def _check_bands(attribute, values, labels, integer):
    assume(0 < sum(labels) < len(labels))
    binning = bin_numeric(attribute, values, labels)
    woes = binning.woes
    rising = all(a < b for a, b in pairwise(woes))
    falling = all(a > b for a, b in pairwise(woes))
    assert rising or falling, woes
    characteristic = scaled(binning, -0.7)
    definition = characteristic.definition()
    parse_policy(_policy_with(definition))  # the policy's own tiling rules accept the bands
    probes = {v for v in values if v is not None}
    for edge in binning.edges:
        probes |= {edge, edge - 1, edge + (1 if integer else D("0.0001"))}
    for value in probes:
        holding = [b for b in definition["bands"] if _in_band(value, b, integer)]
        assert len(holding) == 1, (value, definition["bands"])
        assert holding[0]["points"] == characteristic.points_of(value)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(INTEGER_VALUES, st.booleans()), min_size=2, max_size=300))
def test_integer_bands_cover_every_value_exactly_once_with_monotone_woe(pairs):
    _check_bands("bureau_score", [v for v, _ in pairs], [int(b) for _, b in pairs], True)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(MONEY_VALUES, st.booleans()), min_size=2, max_size=300))
def test_money_bands_cover_every_value_exactly_once_with_monotone_woe(pairs):
    _check_bands("monthly_income", [v for v, _ in pairs], [int(b) for _, b in pairs], False)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(RATIO_VALUES, st.booleans()), min_size=2, max_size=300))
def test_ratio_bands_cover_every_value_exactly_once_with_monotone_woe(pairs):
    _check_bands("debt_to_income", [v for v, _ in pairs], [int(b) for _, b in pairs], False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(min_value=-5, max_value=5)), min_size=2, max_size=60
    )
)
def test_auc_agrees_with_scikit_learn_and_ks_is_a_share(pairs):
    labels = [int(y) for y, _ in pairs]
    risk = [r for _, r in pairs]
    assume(0 < sum(labels) < len(labels))
    assert auc(labels, risk) == pytest.approx(roc_auc_score(labels, risk))
    assert auc(labels, risk) + auc(labels, [-r for r in risk]) == pytest.approx(1.0)
    assert 0 <= ks(labels, risk) <= 1
    # Only the order of scores matters to KS.
    assert ks(labels, [3 * r + 7 for r in risk]) == pytest.approx(ks(labels, risk))


# --------------------------------------------------------------------------- fitting


def synthetic_book(n: int, seed: int = 1):
    """Borrowers whose bureau score, income and debt all follow one hidden risk."""
    rng = random.Random(seed)
    rows, labels, groups = [], [], []
    for i in range(n):
        hidden = rng.gauss(0, 1)
        income = D(rng.randrange(30, 300) * 100)
        debt = (income * D(max(0.0, 0.25 + 0.1 * hidden + rng.gauss(0, 0.1)))).quantize(D("1"))
        row = {
            "age": rng.randint(20, 60),
            "monthly_income": income,
            "employment_type": rng.choice(("salaried", "salaried", "gig", "self_employed")),
            "employment_months": rng.randint(0, 120),
            "existing_monthly_debt": debt,
            "debt_to_income": debt / income,
            "bureau_score": None if rng.random() < 0.03 else round(650 - 70 * hidden),
            "bureau_inquiries_6m": rng.randint(0, 6),
            "bureau_worst_delinquency_days": 0,
            "bureau_current_delinquencies": 0,
        }
        bad = rng.random() < 1 / (1 + math.exp(-(-1.6 + 1.5 * hidden)))
        rows.append(row)
        labels.append(int(bad))
        groups.append(i // 2)  # two loans per borrower
    return rows, labels, groups


def test_fitted_scorecard_is_a_valid_policy_that_scores_as_fitted():
    rows, labels, groups = synthetic_book(800)
    result = fit_scorecard(rows, labels, groups, test_size=0.3, seed=3)
    assert result.train_rows + result.test_rows == 800
    assert result.auc > 0.75, "the bureau score carries most of the risk"
    assert result.grades_monotone_overall
    attributes = [ch.attribute for ch in result.characteristics]
    assert "bureau_score" in attributes
    dropped = {attribute: why.text for attribute, why in result.dropped}
    assert dropped["bureau_current_delinquencies"] == "its values do not split into two bands"
    definition = copy.deepcopy(DEFAULT_POLICY)
    definition["scorecard"] = result.scorecard_definition()
    definition["grades"] = result.grades_definition()
    policy = parse_policy(definition)
    for row in rows[:200]:
        profile = RiskProfile(
            age=row["age"],
            monthly_income=row["monthly_income"],
            income_verified=True,
            employment_type=row["employment_type"],
            employment_months=row["employment_months"],
            existing_monthly_debt=row["existing_monthly_debt"],
            bureau_score=row["bureau_score"],
            bureau_inquiries_6m=row["bureau_inquiries_6m"],
            bureau_worst_delinquency_days=row["bureau_worst_delinquency_days"],
            bureau_current_delinquencies=row["bureau_current_delinquencies"],
            blacklisted=False,
        )
        decision = evaluate(profile, policy)
        assert decision.score == result.score(row)
        assert decision.grade == result.grade(decision.score)


@settings(max_examples=30, deadline=None)
@given(
    loans_per_borrower=st.lists(st.integers(1, 4), min_size=10, max_size=60),
    seed=st.integers(0, 1000),
)
def test_the_split_keeps_each_borrower_on_one_side(loans_per_borrower, seed):
    groups = [b for b, n in enumerate(loans_per_borrower) for _ in range(n)]
    labels = [i % 2 for i in range(len(groups))]
    train, test = split_by_borrower(labels, groups, test_size=0.3, seed=seed)
    assert sorted(train + test) == list(range(len(groups)))  # every loan, once
    assert {groups[i] for i in train}.isdisjoint({groups[i] for i in test})
    assert train and test


def test_a_fit_is_repeatable_for_a_seed():
    rows, labels, groups = synthetic_book(400)
    a = fit_scorecard(rows, labels, groups, test_size=0.5, seed=11)
    b = fit_scorecard(rows, labels, groups, test_size=0.5, seed=11)
    assert (a.auc, a.base_points, a.grades) == (b.auc, b.base_points, b.grades)


def test_too_little_or_one_sided_history_is_refused():
    rows, labels, groups = synthetic_book(50)
    with pytest.raises(ScorecardError, match="only 50 loans"):
        fit_scorecard(rows, labels, groups)
    rows, _labels, groups = synthetic_book(150)
    with pytest.raises(ScorecardError, match="every one of the 150 loans is good"):
        fit_scorecard(rows, [0] * 150, groups)
    with pytest.raises(ScorecardError, match="3 bad and 147 good"):
        fit_scorecard(rows, [1, 1, 1] + [0] * 147, groups)
    with pytest.raises(ScorecardError, match="test size"):
        fit_scorecard(rows, _labels, groups, test_size=1.5)
