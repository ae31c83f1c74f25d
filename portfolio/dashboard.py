"""The dashboard's charts: each a picture (pure `charts`), its numbers as a table and the same
numbers as CSV. Built from the selectors; the admin page, the admin home and the CSV downloads
all take them from here, so the three always agree."""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from lending import formatting
from lending.models import RunStatus
from lending.money import share
from portfolio import charts, selectors

EMPTY = "—"  # a figure that cannot be had (a share of nothing), in every table and chart


def _or_empty(show: Callable) -> Callable:
    return lambda v: EMPTY if v is None else show(v)


MONEY, RATE, COUNT, TEXT, SECONDS = "money", "rate", "count", "text", "seconds"
# Every number in lending.formatting's words (zh: "24.00%"); the CSV keeps the raw values.
FORMATS: dict[str, Callable] = {
    MONEY: _or_empty(formatting.money),
    RATE: _or_empty(formatting.rate),
    COUNT: _or_empty(formatting.count),
    TEXT: _or_empty(str),
    SECONDS: _or_empty(lambda v: formatting.number(v, 1)),
}
AXIS_RATE = _or_empty(lambda v: formatting.rate(v, 1))  # a line chart's points: one place
CHART_KEYS = ("buckets", "overdue_rate", "rolls", "vintages", "collections", "nights")
VINTAGE_LINES = 6  # the most recent vintages drawn; the table has them all


@dataclass
class Matrix:
    """A table whose cells are shares, coloured by size (roll rates, vintages)."""

    corner: str
    columns: list[str]
    rows: list[tuple[str, list[Decimal | None]]]

    def coloured(self):
        for label, values in self.rows:
            yield (
                label,
                [
                    (
                        FORMATS[RATE](v),
                        charts.heat_colour(v),
                        v is not None and v > Decimal("0.6"),
                    )
                    for v in values
                ],
            )


@dataclass
class Chart:
    key: str
    title: str
    explanation: str
    columns: list[tuple[str, str]]  # (header, kind)
    rows: list[list]  # raw values: the CSV writes them as they are
    svg: str = ""
    matrix: Matrix | None = None
    empty: str = ""
    row_kinds: list[str] | None = None  # a (measure, value) table: each value's own kind

    @property
    def headers(self) -> list[str]:
        return [header for header, _ in self.columns]

    @property
    def display_rows(self) -> list[list[str]]:
        if self.row_kinds:
            return [
                [str(label), FORMATS[kind](value)]
                for (label, value), kind in zip(self.rows, self.row_kinds, strict=True)
            ]
        kinds = [kind for _, kind in self.columns]
        return [[FORMATS[k](v) for k, v in zip(kinds, row, strict=True)] for row in self.rows]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headers)
        for row in self.rows:
            writer.writerow(["" if v is None else v for v in row])
        return out.getvalue()


def buckets_chart(as_of: date) -> Chart:
    rows = selectors.outstanding_by_bucket()
    total = sum((r.principal_outstanding for r in rows), Decimal(0))
    title = _("Principal outstanding by delinquency bucket")
    chart = Chart(
        "buckets",
        title,
        _("Active loans by bucket at the last close of business, from its snapshot."),
        [
            (_("Bucket"), TEXT),
            (_("Loans"), COUNT),
            (_("Principal outstanding"), MONEY),
            (_("Total outstanding"), MONEY),
            (_("Overdue amount"), MONEY),
            (_("Share of principal"), RATE),
        ],
        [
            [
                r.bucket,
                r.loans,
                r.principal_outstanding,
                r.total_outstanding,
                r.overdue_amount,
                share(r.principal_outstanding, total),
            ]
            for r in rows
        ],
        empty=_("No snapshot yet: the first close of business writes one."),
    )
    if rows:
        chart.svg = charts.bar_chart(
            title=title,
            description=_("Bars: principal outstanding per bucket."),
            labels=[r.bucket for r in rows],
            values=[r.principal_outstanding for r in rows],
            fmt=FORMATS[MONEY],
        )
    return chart


def overdue_rate_chart(as_of: date) -> Chart:
    snapshots = selectors.overdue_rate_history(until=as_of)
    title = _("Overdue rate over time")
    chart = Chart(
        "overdue_rate",
        title,
        _(
            "Principal outstanding of loans 1+ days past due as a share of all principal "
            "outstanding, one point per nightly snapshot (last 365 days)."
        ),
        [
            (_("Business date"), TEXT),
            (_("Overdue rate"), RATE),
            (_("Principal outstanding of overdue loans"), MONEY),
            (_("Principal outstanding"), MONEY),
            (_("Overdue amount"), MONEY),
            (_("Active loans"), COUNT),
        ],
        [
            [
                s.business_date.isoformat(),
                s.overdue_rate,
                s.overdue_principal,
                s.principal_outstanding,
                s.overdue_amount,
                s.active_loans,
            ]
            for s in snapshots
        ],
        empty=_("No snapshots yet."),
    )
    if snapshots:
        chart.svg = charts.line_chart(
            title=title,
            description=_("Line: the overdue rate at each business date."),
            labels=[s.business_date.isoformat() for s in snapshots],
            series=[(_("Overdue rate"), [s.overdue_rate for s in snapshots])],
            fmt=AXIS_RATE,
        )
    return chart


def rolls_chart(as_of: date) -> Chart:
    rolls = selectors.roll_rates(until=as_of)
    months = sorted({r.month for r in rolls})
    pairs = list(dict.fromkeys((r.from_bucket, r.to_bucket) for r in rolls))
    by_key = {(r.month, r.from_bucket): r for r in rolls}
    return Chart(
        "rolls",
        _("Roll rates by month"),
        _(
            "Of the loans in a bucket at the end of the previous month, the share in the next "
            "bucket at the end of the month (from the bucket history)."
        ),
        [
            (_("Month"), TEXT),
            (_("From"), TEXT),
            (_("To"), TEXT),
            (_("Loans at the start"), COUNT),
            (_("Rolled"), COUNT),
            (_("Roll rate"), RATE),
        ],
        [[r.month, r.from_bucket, r.to_bucket, r.loans, r.rolled, r.rate] for r in rolls],
        matrix=Matrix(
            _("From → to"),
            months,
            [
                (f"{f} → {t}", [getattr(by_key.get((m, f)), "rate", None) for m in months])
                for f, t in pairs
            ],
        ),
        empty=_("No bucket history yet."),
    )


def vintages_chart(as_of: date) -> Chart:
    cells = selectors.vintages(as_of=as_of)
    vintages = sorted({c.vintage for c in cells})
    mobs = sorted({c.mob for c in cells})
    by_key = {(c.vintage, c.mob): c for c in cells}
    title = _("Vintage curves: share of loans ever 30+ days past due")
    chart = Chart(
        "vintages",
        title,
        _(
            "Loans grouped by the month they were disbursed; at each month on book, the share "
            "that had reached 30+ days past due (by count and by principal)."
        ),
        [
            (_("Vintage"), TEXT),
            (_("Months on book"), COUNT),
            (_("Loans"), COUNT),
            (_("Loans 30+"), COUNT),
            (_("Share of loans"), RATE),
            (_("Principal"), MONEY),
            (_("Principal 30+"), MONEY),
            (_("Share of principal"), RATE),
        ],
        [
            [
                c.vintage,
                c.mob,
                c.loans,
                c.bad_loans,
                c.loan_share,
                c.principal,
                c.bad_principal,
                c.principal_share,
            ]
            for c in cells
        ],
        matrix=Matrix(
            _("Vintage / months on book"),
            [str(m) for m in mobs],
            [
                (v, [getattr(by_key.get((v, m)), "loan_share", None) for m in mobs])
                for v in vintages
            ],
        ),
        empty=_("No vintage has a full month on book yet."),
    )
    drawn = vintages[-VINTAGE_LINES:]
    if drawn:
        chart.svg = charts.line_chart(
            title=title,
            description=_("One line per vintage: share of loans 30+ at each month on book."),
            labels=[str(m) for m in mobs],
            series=[
                (v, [getattr(by_key.get((v, m)), "loan_share", None) for m in mobs]) for v in drawn
            ],
            fmt=AXIS_RATE,
        )
    return chart


def collections_chart(as_of: date) -> Chart:
    s = selectors.collections_summary(as_of=as_of)
    measures = [
        (_("Open cases"), "open_cases", COUNT),
        (_("Overdue on open cases"), "open_overdue", MONEY),
        (_("Cases open in the last 30 days"), "cure_cases", COUNT),
        (_("Cured in the last 30 days"), "cured", COUNT),
        (_("Cure rate (30 days)"), "cure_rate", RATE),
        (_("Promises pending"), "promises_pending", COUNT),
        (_("Promises kept"), "promises_kept", COUNT),
        (_("Promises broken"), "promises_broken", COUNT),
        (_("Promises kept rate"), "kept_rate", RATE),
    ]
    return Chart(
        "collections",
        _("Collections KPIs"),
        _("Open cases, the cure rate over the last 30 days and promises to pay."),
        [(_("Measure"), TEXT), (_("Value"), TEXT)],
        [[label, s[key]] for label, key, _kind in measures],
        row_kinds=[kind for _label, _key, kind in measures],
    )


def nights_chart(as_of: date) -> Chart:
    runs = selectors.recent_nights()
    labels = {
        RunStatus.DONE: _("done"),
        RunStatus.FAILED: _("failed"),
        RunStatus.RUNNING: _("running"),
    }
    title = _("Last nights: duration of the close of business")
    chart = Chart(
        "nights",
        title,
        _("The last 14 closes of business: status, duration in seconds and work done."),
        [
            (_("Business date"), TEXT),
            (_("Status"), TEXT),
            (_("Seconds"), SECONDS),
            (_("Loans examined"), COUNT),
            (_("Bucket moves"), COUNT),
            (_("Penalty accruals"), COUNT),
        ],
        [
            [
                r.business_date.isoformat(),
                str(labels.get(r.status, r.status)),
                r.seconds,
                r.loans_examined,
                r.bucket_moves,
                r.accruals_posted,
            ]
            for r in runs
        ],
        empty=_("No close of business has run yet."),
    )
    if runs:
        chart.svg = charts.bar_chart(
            title=title,
            description=_("Bars: seconds each night took."),
            labels=[r.business_date.strftime("%m-%d") for r in runs],
            values=[r.seconds or Decimal(0) for r in runs],
            fmt=FORMATS[SECONDS],
        )
    return chart


BUILDERS = {
    "buckets": buckets_chart,
    "overdue_rate": overdue_rate_chart,
    "rolls": rolls_chart,
    "vintages": vintages_chart,
    "collections": collections_chart,
    "nights": nights_chart,
}


def build(key: str, as_of: date | None = None) -> Chart:
    return BUILDERS[key](as_of or selectors.as_of_date())


def build_all() -> tuple[date, list[Chart]]:
    as_of = selectors.as_of_date()
    return as_of, [BUILDERS[key](as_of) for key in CHART_KEYS]
