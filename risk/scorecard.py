"""Scorecard fitting: weight-of-evidence bands, logistic regression, points, grades, metrics.

Pure Python (numpy and scikit-learn, no Django): `fit_scorecard` takes one row per loan (the
borrower's profile attributes at application, named as in `risk.policy.ATTRIBUTES`), a 0/1
label (1 = bad) and a group per row (the borrower), and returns a scorecard that
`risk.policy.parse_policy` accepts, with its held-out metrics. Decisions, each a rule here:

1.  Split. Train and held-out rows are split by borrower (`GroupShuffleSplit`, seeded): two
    loans of one borrower share a profile, and one on each side would leak it. Bands, weights
    and grade cut-offs are fitted on the training rows only; AUC, KS and the calibration table
    are reported on both, the held-out figures being the ones to trust.
2.  Weight of evidence. WoE = ln((goods_in_bin + ½) / all_goods ÷ (bads_in_bin + ½) /
    all_bads): positive means safer than average. The ½ keeps a bin without bads finite.
    IV = Σ (goods_in_bin / all_goods − bads_in_bin / all_bads) × WoE.
3.  Bands. Numeric attributes start from up to `MAX_PREBINS` quantile bins of the training
    values; adjacent bins are merged until WoE is strictly monotone in the value (both
    directions are tried, the one keeping more IV wins), every bin holds at least
    `MIN_BIN_SHARE` of the rows, and there are at most `MAX_BINS`. A bin is described by the
    lower edges of the bins above it, and a value falls in bin `bisect_right(edges, value)` —
    the same rule the policy evaluates with — so integer bands come out closed with
    next.min == prev.max + 1 and decimal bands half-open with next.min == prev.max. Decimal
    edges are rounded for people (money to 2 significant figures, ratios to 0.01).
4.  Missing values have their own WoE when at least `MIN_BIN_SHARE` of the rows miss the
    attribute; otherwise a missing value scores like the worst band (absent data never earns
    points). Employment types rarer than that share are pooled, and so are types never seen;
    a pool still too small counts as the worst type.
5.  Selection. An attribute is dropped when it ends in one band, when its bands carry less
    than `MIN_IV` information, or when goods and bads could spread over its bands as they do
    by chance alone (χ² test, p ≥ `MAX_P_VALUE`: on a small book a weak attribute's IV is
    mostly noise). After fitting, an attribute whose weight comes out with the wrong sign
    (more WoE, more risk: two attributes telling one story) is dropped and the model
    refitted. Every drop is reported with its reason.
6.  Points. score = OFFSET + FACTOR × ln(good:bad odds), FACTOR = PDO / ln 2, OFFSET =
    BASE_SCORE − FACTOR × ln(BASE_ODDS): 600 points at odds of 50 good to 1 bad, and every
    20 points (PDO) double the odds. With logit P(bad) = b0 + Σ bᵢ × WoEᵢ, base_points =
    round(OFFSET − FACTOR × b0) and a band scores round(−FACTOR × bᵢ × WoE). Rounding each
    band to whole points moves a score by at most ½ point per characteristic.
7.  Grades. Cut-offs are taken from the training scores so that about `GRADE_SHARES` of the
    book falls in A…E (A best); they strictly decrease, and E catches the rest.
8.  Metrics. AUC is the chance that a random bad scores below a random good (ties count ½);
    KS is the largest gap between the cumulative score distributions of bads and goods. Both
    are computed on the integer score the policy will use, not on the model's raw output.
"""

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

import numpy as np
from scipy.stats import chi2_contingency, rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit

from lending.i18n import gettext_noop
from risk.policy import (
    ATTRIBUTES,
    CATEGORY,
    EMPLOYMENT_TYPES,
    GRADES,
    INTEGER,
    MONEY,
    grade_for,
)
from risk.reasons import Message

PDO = 20
BASE_SCORE = 600
BASE_ODDS = 50  # good : bad
FACTOR = PDO / math.log(2)
OFFSET = BASE_SCORE - FACTOR * math.log(BASE_ODDS)

# What is known of a borrower when they apply: the application and their risk profile.
FEATURES = (
    "age",
    "monthly_income",
    "employment_type",
    "employment_months",
    "debt_to_income",
    "bureau_score",
    "bureau_inquiries_6m",
    "bureau_worst_delinquency_days",
    "bureau_current_delinquencies",
)
GRADE_SHARES = (("A", 0.20), ("B", 0.25), ("C", 0.25), ("D", 0.20), ("E", 0.10))
SMOOTHING = 0.5
MAX_PREBINS = 10
MAX_BINS = 6
MIN_BIN_SHARE = 0.05
MIN_IV = 0.02
MAX_P_VALUE = 0.05
MIN_ROWS = 100
MIN_CLASS_ROWS = 20
OTHER = "(other)"


class ScorecardError(ValueError):
    """Too little or one-sided history: nothing can be fitted. The message says which, in
    English; `template` (marked with gettext_noop) and `params` are the same sentence for the
    Django side to translate (`lending.errors.translated`)."""

    def __init__(self, template: str, **params) -> None:
        self.template = template
        self.params = params
        self.message = template % params if params else template
        super().__init__(self.message)

    def __reduce__(self):
        return (_scorecard_error, (self.template, self.params))


def _scorecard_error(template: str, params: dict) -> ScorecardError:
    return ScorecardError(template, **params)


# Which rows a class check is about, and the sentence for each way it can fail.
_ONE_SIDED = {
    ("history", "good"): gettext_noop(
        "the history: every one of the %(count)s loans is good; a scorecard needs both good "
        "and bad loans"
    ),
    ("history", "bad"): gettext_noop(
        "the history: every one of the %(count)s loans is bad; a scorecard needs both good "
        "and bad loans"
    ),
    ("training", "good"): gettext_noop(
        "the training split: every one of the %(count)s loans is good; a scorecard needs both "
        "good and bad loans"
    ),
    ("training", "bad"): gettext_noop(
        "the training split: every one of the %(count)s loans is bad; a scorecard needs both "
        "good and bad loans"
    ),
    ("held_out", "good"): gettext_noop(
        "the held-out split: every one of the %(count)s loans is good; a scorecard needs both "
        "good and bad loans"
    ),
    ("held_out", "bad"): gettext_noop(
        "the held-out split: every one of the %(count)s loans is bad; a scorecard needs both "
        "good and bad loans"
    ),
}
_TOO_FEW = {
    "history": gettext_noop(
        "the history: %(bads)s bad and %(goods)s good loans; at least %(minimum)s of each are "
        "needed"
    ),
    "training": gettext_noop(
        "the training split: %(bads)s bad and %(goods)s good loans; at least %(minimum)s of "
        "each are needed"
    ),
    "held_out": gettext_noop(
        "the held-out split: %(bads)s bad and %(goods)s good loans; at least %(minimum)s of "
        "each are needed"
    ),
}


# --------------------------------------------------------------------------- metrics


def woe(good: int, bad: int, total_good: int, total_bad: int) -> float:
    return math.log(((good + SMOOTHING) / total_good) / ((bad + SMOOTHING) / total_bad))


def information_value(
    counts: Sequence[tuple[int, int]], woes: Sequence[float], totals: tuple[int, int] | None = None
) -> float:
    """Over `counts`, shares taken of `totals` (goods, bads) when only some rows are counted."""
    total_good, total_bad = totals or (sum(g for g, _ in counts), sum(b for _, b in counts))
    return sum((g / total_good - b / total_bad) * w for (g, b), w in zip(counts, woes, strict=True))


def auc(labels: Sequence[int], risk: Sequence[float]) -> float:
    """P(a random bad has a higher `risk` than a random good), ties ½ (Mann–Whitney U)."""
    labels = np.asarray(labels, dtype=int)
    risk = np.asarray(risk, dtype=float)
    bads, goods = int(labels.sum()), int(len(labels) - labels.sum())
    if not bads or not goods:
        raise ScorecardError(gettext_noop("AUC needs both bad and good rows"))
    ranks = rankdata(risk)  # ties share their average rank
    u = ranks[labels == 1].sum() - bads * (bads + 1) / 2
    return float(u / (bads * goods))


def ks(labels: Sequence[int], scores: Sequence[float]) -> float:
    """max over score thresholds t of |share of bads ≤ t − share of goods ≤ t|."""
    labels = np.asarray(labels, dtype=int)
    scores = np.asarray(scores, dtype=float)
    bads, goods = int(labels.sum()), int(len(labels) - labels.sum())
    if not bads or not goods:
        raise ScorecardError(gettext_noop("KS needs both bad and good rows"))
    best = 0.0
    for t in np.unique(scores):
        below = scores <= t
        gap = abs((labels[below] == 1).sum() / bads - (labels[below] == 0).sum() / goods)
        best = max(best, float(gap))
    return best


# --------------------------------------------------------------------------- binning


@dataclass(frozen=True)
class Binning:
    """How one attribute's values map to WoE. Numeric: `edges` are the lower bounds of bins
    1…n−1 (bin = bisect_right(edges, value)). Categorical: `groups` lists the categories of
    each bin; a category in none of them takes `other_woe`."""

    attribute: str
    kind: str
    woes: tuple[float, ...]
    counts: tuple[tuple[int, int], ...]  # (goods, bads) per bin
    missing_woe: float
    missing_counts: tuple[int, int]
    iv: float
    edges: tuple = ()
    groups: tuple[tuple[str, ...], ...] = ()
    other_woe: float = 0.0

    def bin_of(self, value) -> int | None:
        """The bin a value falls in; None for missing (or, categorical, not in any group)."""
        if value is None:
            return None
        if self.kind == CATEGORY:
            for i, group in enumerate(self.groups):
                if value in group:
                    return i
            return None
        return bisect_right(self.edges, value)

    def woe_of(self, value) -> float:
        if value is None:
            return self.missing_woe
        index = self.bin_of(value)
        return self.other_woe if index is None else self.woes[index]


def _nice_edge(value, kind: str):
    """An edge at `value` (a data value), rounded for people when it is a decimal."""
    if kind == INTEGER:
        return value
    value = Decimal(value)
    if kind == MONEY:
        if value <= 0:
            return Decimal(0)
        unit = Decimal(1).scaleb(value.adjusted() - 1)  # 2 significant figures
    else:
        unit = Decimal("0.01")
    return Decimal(format(value.quantize(unit, rounding=ROUND_HALF_UP), "f"))


def _pre_edges(values: list, kind: str) -> list:
    """Up to MAX_PREBINS − 1 edges at the quantiles: each is the first value above its
    quantile, so values at or below the quantile stay below the edge."""
    ordered = sorted(values)
    numbers = np.array([float(v) for v in ordered])
    edges = set()
    for k in range(1, MAX_PREBINS):
        q = float(np.quantile(numbers, k / MAX_PREBINS))
        i = bisect_right(numbers, q)
        if i < len(ordered):
            edges.add(_nice_edge(ordered[i], kind))
    return sorted(e for e in edges if ordered[0] < e <= ordered[-1])


def _woes(bins: list[list[int]], total_good: int, total_bad: int) -> list[float]:
    return [woe(g, b, total_good, total_bad) for g, b, *_ in bins]


def _merge(bins: list[list], i: int) -> None:
    """Merge bin i+1 into bin i (bins are [goods, bads, first pre-bin, last pre-bin])."""
    a, b = bins[i], bins.pop(i + 1)
    bins[i] = [a[0] + b[0], a[1] + b[1], a[2], b[3]]


def _make_monotone(bins, direction: int, total_good: int, total_bad: int) -> None:
    """Merge adjacent violators until WoE strictly rises (direction 1) or falls (−1)."""
    while True:
        woes = _woes(bins, total_good, total_bad)
        for i in range(len(bins) - 1):
            if (woes[i + 1] - woes[i]) * direction <= 0:
                _merge(bins, i)
                break
        else:
            return


def monotone_bins(
    counts: Sequence[tuple[int, int]],
    *,
    direction: int,
    min_count: int,
    max_bins: int = MAX_BINS,
    totals: tuple[int, int] | None = None,
) -> list[tuple[int, int, int, int]]:
    """Adjacent pre-bins merged into (goods, bads, first, last) bins: strictly monotone WoE in
    `direction`, each with at least `min_count` rows, at most `max_bins`."""
    total_good, total_bad = totals or (sum(g for g, _ in counts), sum(b for _, b in counts))
    bins = [[g, b, i, i] for i, (g, b) in enumerate(counts)]
    while True:
        _make_monotone(bins, direction, total_good, total_bad)
        small = [i for i, (g, b, *_) in enumerate(bins) if g + b < min_count]
        if small and len(bins) > 1:
            i = min(small, key=lambda k: (bins[k][0] + bins[k][1], k))
            woes = _woes(bins, total_good, total_bad)
            if i == 0:
                _merge(bins, 0)
            elif i == len(bins) - 1 or abs(woes[i] - woes[i - 1]) <= abs(woes[i + 1] - woes[i]):
                _merge(bins, i - 1)
            else:
                _merge(bins, i)
            continue
        if len(bins) > max_bins:
            woes = _woes(bins, total_good, total_bad)
            i = min(range(len(bins) - 1), key=lambda k: (abs(woes[k + 1] - woes[k]), k))
            _merge(bins, i)
            continue
        return [tuple(b) for b in bins]


def _missing(labels_missing: Sequence[int], woes, total_good, total_bad, min_count: int):
    bad = int(sum(labels_missing))
    good = len(labels_missing) - bad
    if good + bad >= min_count:
        return woe(good, bad, total_good, total_bad), (good, bad)
    return min(woes), (good, bad)


def bin_numeric(attribute: str, values: Sequence, labels: Sequence[int]) -> Binning:
    kind = ATTRIBUTES[attribute][0]
    total_bad = int(sum(labels))
    total_good = len(labels) - total_bad
    min_count = max(1, math.ceil(MIN_BIN_SHARE * len(labels)))
    present = [(v, y) for v, y in zip(values, labels, strict=True) if v is not None]
    missing = [y for v, y in zip(values, labels, strict=True) if v is None]
    if not present:
        w = woe(total_good, total_bad, total_good, total_bad)
        return Binning(attribute, kind, (w,), ((0, 0),), w, (total_good, total_bad), 0.0)
    pre_edges = _pre_edges([v for v, _ in present], kind)
    counts = [[0, 0] for _ in range(len(pre_edges) + 1)]
    for v, y in present:
        counts[bisect_right(pre_edges, v)][y] += 1  # [goods, bads]: label 1 is bad
    pairs = [(g, b) for g, b in counts]
    best = None
    for direction in (1, -1):
        merged = monotone_bins(
            pairs, direction=direction, min_count=min_count, totals=(total_good, total_bad)
        )
        woes = [woe(g, b, total_good, total_bad) for g, b, *_ in merged]
        iv = information_value([(g, b) for g, b, *_ in merged], woes, (total_good, total_bad))
        if best is None or iv > best[0] + 1e-12:
            best = (iv, merged, woes)
    _iv, merged, woes = best
    edges = tuple(pre_edges[first - 1] for _g, _b, first, _last in merged[1:])
    missing_woe, missing_counts = _missing(missing, woes, total_good, total_bad, min_count)
    bin_counts = tuple((g, b) for g, b, *_ in merged)
    iv = information_value((*bin_counts, missing_counts), (*woes, missing_woe))
    return Binning(
        attribute, kind, tuple(woes), bin_counts, missing_woe, missing_counts, iv, edges=edges
    )


def bin_categorical(attribute: str, values: Sequence, labels: Sequence[int]) -> Binning:
    total_bad = int(sum(labels))
    total_good = len(labels) - total_bad
    min_count = max(1, math.ceil(MIN_BIN_SHARE * len(labels)))
    tally: dict[str, list[int]] = {}
    missing = []
    for v, y in zip(values, labels, strict=True):
        if v is None:
            missing.append(y)
        else:
            tally.setdefault(v, [0, 0])[y] += 1
    large = sorted(c for c, (g, b) in tally.items() if g + b >= min_count)
    pooled = [0, 0]
    for c, (g, b) in tally.items():
        if c not in large:
            pooled[0] += g
            pooled[1] += b
    groups = [(c,) for c in large]
    counts = [tuple(tally[c]) for c in large]
    woes = [woe(g, b, total_good, total_bad) for g, b in counts]
    if sum(pooled) >= min_count or not groups:
        groups.append((OTHER,))
        counts.append(tuple(pooled))
        other_woe = woe(*pooled, total_good, total_bad)
        woes.append(other_woe)
    else:  # too few to judge: they score like the worst type, and so do unseen types
        worst = min(range(len(woes)), key=lambda k: (woes[k], k))
        rare = tuple(c for c in sorted(tally) if c not in large)
        groups[worst] = groups[worst] + rare
        g, b = counts[worst]
        counts[worst] = (g + pooled[0], b + pooled[1])
        woes[worst] = woe(*counts[worst], total_good, total_bad)
        other_woe = woes[worst]
    missing_woe, missing_counts = _missing(missing, woes, total_good, total_bad, min_count)
    iv = information_value((*counts, missing_counts), (*woes, missing_woe))
    return Binning(
        attribute,
        CATEGORY,
        tuple(woes),
        tuple(counts),
        missing_woe,
        missing_counts,
        iv,
        groups=tuple(groups),
        other_woe=other_woe,
    )


def bin_attribute(attribute: str, values: Sequence, labels: Sequence[int]) -> Binning:
    if ATTRIBUTES[attribute][0] == CATEGORY:
        return bin_categorical(attribute, values, labels)
    return bin_numeric(attribute, values, labels)


def chance_of_no_difference(binning: Binning) -> float:
    """p-value of a χ² test that goods and bads spread alike over the bands (and missing)."""
    columns = [c for c in (*binning.counts, binning.missing_counts) if sum(c)]
    if len(columns) < 2:
        return 1.0
    table = np.array(columns).T
    if (table.sum(axis=1) == 0).any():
        return 1.0
    return float(chi2_contingency(table, correction=False).pvalue)


# --------------------------------------------------------------------------- the scorecard


@dataclass(frozen=True)
class FittedCharacteristic:
    binning: Binning
    coefficient: float  # weight on WoE in logit P(bad): negative when WoE works as meant
    points: tuple[int, ...]  # per bin
    missing_points: int
    other_points: int

    @property
    def attribute(self) -> str:
        return self.binning.attribute

    def points_of(self, value) -> int:
        if value is None:
            return self.missing_points
        index = self.binning.bin_of(value)
        return self.other_points if index is None else self.points[index]

    def definition(self) -> dict:
        """The characteristic as `risk.policy.parse_policy` reads it."""
        b = self.binning
        out: dict = {"attribute": b.attribute, "missing_points": self.missing_points}
        if b.kind == CATEGORY:
            out["categories"] = {c: self.points_of(c) for c in EMPLOYMENT_TYPES}
            return out
        bands = []
        for i, points in enumerate(self.points):
            low = b.edges[i - 1] if i > 0 else None
            high = b.edges[i] if i < len(b.edges) else None
            if high is not None and b.kind == INTEGER:
                high -= 1  # closed integer bands: next.min == prev.max + 1
            bands.append({"min": _json_bound(low), "max": _json_bound(high), "points": points})
        out["bands"] = bands
        return out


def scaled(binning: Binning, coefficient: float) -> FittedCharacteristic:
    """Points for each bin: round(−FACTOR × coefficient × WoE) (module doc, rule 6)."""

    def points(w: float) -> int:
        return round(-FACTOR * coefficient * w)

    return FittedCharacteristic(
        binning,
        coefficient,
        tuple(points(w) for w in binning.woes),
        points(binning.missing_woe),
        points(binning.other_woe),
    )


def _json_bound(value):
    return str(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True)
class GradeRow:
    grade: str
    min_score: int | None
    rows: int
    bads: int
    mean_pd: float  # what the score's odds predict

    @property
    def bad_rate(self) -> float | None:
        return self.bads / self.rows if self.rows else None

    def as_dict(self) -> dict:
        rate = self.bad_rate
        return {
            "grade": self.grade,
            "min_score": self.min_score,
            "rows": self.rows,
            "bads": self.bads,
            "bad_rate": None if rate is None else round(rate, 4),
            "predicted_bad_rate": round(self.mean_pd, 4),
        }


@dataclass(frozen=True)
class FitResult:
    base_points: int
    characteristics: tuple[FittedCharacteristic, ...]
    grades: tuple[tuple[str, int | None], ...]
    # (attribute, why): why as a message key and figures (risk.reasons), read in the
    # reader's language wherever it is shown; `.text` is the English.
    dropped: tuple[tuple[str, Message], ...]
    train_rows: int
    test_rows: int
    train_bads: int
    test_bads: int
    auc: float  # held-out
    ks: float
    auc_train: float
    ks_train: float
    calibration: tuple[GradeRow, ...]  # held-out
    calibration_train: tuple[GradeRow, ...]

    def score(self, row: Mapping) -> int:
        return self.base_points + sum(
            ch.points_of(row.get(ch.attribute)) for ch in self.characteristics
        )

    def grade(self, score: int) -> str:
        return grade_for(score, self.grades)[0]

    def scorecard_definition(self) -> dict:
        return {
            "base_points": self.base_points,
            "characteristics": [ch.definition() for ch in self.characteristics],
        }

    def grades_definition(self) -> list[dict]:
        return [{"grade": g, "min_score": s} for g, s in self.grades]

    @property
    def calibration_all(self) -> tuple[GradeRow, ...]:
        """Training and held-out rows together, by grade."""
        rows = []
        for test, train in zip(self.calibration, self.calibration_train, strict=True):
            n = test.rows + train.rows
            pd = (test.mean_pd * test.rows + train.mean_pd * train.rows) / n if n else 0.0
            rows.append(GradeRow(test.grade, test.min_score, n, test.bads + train.bads, pd))
        return tuple(rows)

    @property
    def grades_monotone(self) -> bool:
        """Held-out bad rate never falls from a better grade to a worse one."""
        return monotone(self.calibration)

    @property
    def grades_monotone_overall(self) -> bool:
        return monotone(self.calibration_all)


def monotone(table: Sequence[GradeRow]) -> bool:
    """Bad rate never falls from a better grade to a worse one (empty grades skipped)."""
    rates = [row.bad_rate for row in table if row.rows]
    return all(a <= b for a, b in pairwise(rates))


def split_by_borrower(
    labels: Sequence[int], groups: Sequence, *, test_size: float, seed: int
) -> tuple[list[int], list[int]]:
    """Row numbers of the training and held-out sets: every loan of one borrower on one side,
    so the held-out figures never see a borrower the model was fitted on."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train, test = next(splitter.split(np.zeros(len(labels)), labels, list(groups)))
    return [int(i) for i in train], [int(i) for i in test]


def implied_bad_rate(score: float) -> float:
    """P(bad) the points scale gives a score: odds good:bad = exp((score − OFFSET) / FACTOR)."""
    return 1 / (1 + math.exp((score - OFFSET) / FACTOR))


def grade_cutoffs(scores: Sequence[int]) -> tuple[tuple[str, int | None], ...]:
    """Cut-offs putting about GRADE_SHARES of `scores` in each grade, strictly decreasing."""
    ordered = np.asarray(scores, dtype=float)
    cuts: list[tuple[str, int | None]] = []
    above = 0.0
    previous = None
    for grade, share in GRADE_SHARES[:-1]:
        above += share
        cut = math.ceil(float(np.quantile(ordered, 1 - above, method="higher")))
        if previous is not None and cut >= previous:
            cut = previous - 1
        cuts.append((grade, cut))
        previous = cut
    cuts.append((GRADE_SHARES[-1][0], None))
    assert tuple(g for g, _ in cuts) == GRADES
    return tuple(cuts)


def calibration(labels, scores, grades) -> tuple[GradeRow, ...]:
    rows = []
    for grade, min_score in grades:
        members = [
            (y, s) for y, s in zip(labels, scores, strict=True) if grade_for(s, grades)[0] == grade
        ]
        pd = sum(implied_bad_rate(s) for _, s in members) / len(members) if members else 0.0
        rows.append(GradeRow(grade, min_score, len(members), sum(y for y, _ in members), pd))
    return tuple(rows)


def _check_classes(labels: Sequence[int], which: str, minimum: int) -> None:
    bads = int(sum(labels))
    goods = len(labels) - bads
    if not bads or not goods:
        only = "good" if bads == 0 else "bad"
        raise ScorecardError(_ONE_SIDED[which, only], count=len(labels))
    if min(bads, goods) < minimum:
        raise ScorecardError(_TOO_FEW[which], bads=bads, goods=goods, minimum=minimum)


def _design(rows, binnings) -> np.ndarray:
    return np.array([[b.woe_of(row.get(b.attribute)) for b in binnings] for row in rows])


def fit_scorecard(
    rows: Sequence[Mapping],
    labels: Sequence[int],
    groups: Sequence,
    *,
    test_size: float = 0.3,
    seed: int = 0,
    attributes: Sequence[str] = FEATURES,
) -> FitResult:
    """Fit on a borrower-grouped training split, report on the held-out rest (module doc)."""
    labels = [int(y) for y in labels]
    if not 0 < test_size < 1:
        raise ScorecardError(
            gettext_noop("test size must be between 0 and 1 (got %(value)s)"), value=test_size
        )
    if len(rows) < MIN_ROWS:
        raise ScorecardError(
            gettext_noop(
                "only %(count)s loans have a full 6-month history; at least %(minimum)s are needed"
            ),
            count=len(rows),
            minimum=MIN_ROWS,
        )
    _check_classes(labels, "history", MIN_CLASS_ROWS)
    train, test = split_by_borrower(labels, groups, test_size=test_size, seed=seed)
    train_rows = [rows[i] for i in train]
    test_rows = [rows[i] for i in test]
    y_train = [labels[i] for i in train]
    y_test = [labels[i] for i in test]
    _check_classes(y_train, "training", 1)
    _check_classes(y_test, "held_out", 1)

    dropped: list[tuple[str, Message]] = []
    binnings = []
    for attribute in attributes:
        binning = bin_attribute(attribute, [r.get(attribute) for r in train_rows], y_train)
        if len(binning.woes) < 2:
            dropped.append((attribute, Message.of("fit.one_band")))
        elif binning.iv < MIN_IV:
            why = Message.of("fit.low_iv", iv=f"{binning.iv:.3f}", min_iv=str(MIN_IV))
            dropped.append((attribute, why))
        elif (p := chance_of_no_difference(binning)) >= MAX_P_VALUE:
            dropped.append((attribute, Message.of("fit.by_chance", p_value=f"{p:.2f}")))
        else:
            binnings.append(binning)
    if not binnings:
        raise ScorecardError(
            gettext_noop("no attribute tells good loans from bad ones in this history")
        )

    while True:
        model = LogisticRegression(C=1.0, max_iter=1000)
        model.fit(_design(train_rows, binnings), y_train)
        coefficients = model.coef_[0]
        wrong = [i for i, c in enumerate(coefficients) if c > 0]
        if not wrong:
            break
        i = max(wrong, key=lambda k: coefficients[k])
        dropped.append((binnings[i].attribute, Message.of("fit.reversed")))
        binnings.pop(i)
        if not binnings:
            raise ScorecardError(
                gettext_noop("no attribute keeps a sensible weight in this history")
            )

    intercept = float(model.intercept_[0])
    fitted = [scaled(b, float(c)) for b, c in zip(binnings, coefficients, strict=True)]
    base_points = round(OFFSET - FACTOR * intercept)

    def score(row):
        return base_points + sum(ch.points_of(row.get(ch.attribute)) for ch in fitted)

    s_train = [score(r) for r in train_rows]
    s_test = [score(r) for r in test_rows]
    grades = grade_cutoffs(s_train)
    return FitResult(
        base_points=base_points,
        characteristics=tuple(fitted),
        grades=grades,
        dropped=tuple(dropped),
        train_rows=len(train_rows),
        test_rows=len(test_rows),
        train_bads=sum(y_train),
        test_bads=sum(y_test),
        auc=auc(y_test, [-s for s in s_test]),
        ks=ks(y_test, s_test),
        auc_train=auc(y_train, [-s for s in s_train]),
        ks_train=ks(y_train, s_train),
        calibration=calibration(y_test, s_test, grades),
        calibration_train=calibration(y_train, s_train, grades),
    )
