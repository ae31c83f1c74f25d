"""`manage.py fit_scorecard`: fit a scorecard on the platform's own loans and write it as a
candidate policy version (never activated), with held-out AUC, KS and bad rate by grade."""

import json

from django.core.management.base import BaseCommand, CommandError

from lending.access import SYSTEM
from lending.errors import LendingError
from lending.management.options import date_option
from risk.reason_texts import message_text
from risk.scorecard import BASE_ODDS, BASE_SCORE, PDO
from risk.selectors import BAD_DPD, OUTCOME_WINDOW_DAYS
from risk.services.scorecard import scorecard_fit


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def report(fit) -> list[str]:
    r = fit.result
    lines = [
        f"Scorecard fitted as of {fit.as_of} on loans disbursed {fit.first_disbursed} to "
        f"{fit.last_disbursed}; bad = {BAD_DPD}+ dpd within {OUTCOME_WINDOW_DAYS} days.",
        f"  training: {r.train_rows} loans, {r.train_bads} bad; held out: {r.test_rows} loans, "
        f"{r.test_bads} bad (split by borrower, seed {fit.seed})",
        f"Points: {BASE_SCORE} at {BASE_ODDS}:1, {PDO} points to double the odds; "
        f"base {r.base_points}",
    ]
    for ch in r.characteristics:
        definition = ch.definition()
        if "bands" in definition:
            parts = [
                f"[{b['min'] if b['min'] is not None else '…'}, "
                f"{b['max'] if b['max'] is not None else '…'}] {b['points']:+d}"
                for b in definition["bands"]
            ]
        else:
            parts = [f"{name} {points:+d}" for name, points in definition["categories"].items()]
        lines.append(
            f"  {ch.attribute} (IV {ch.binning.iv:.2f}; missing {ch.missing_points:+d}): "
            + ", ".join(parts)
        )
    for attribute, why in r.dropped:
        # The reason in the active language (LANGUAGE_CODE for a command), as everywhere else.
        lines.append(f"  not scored: {attribute} — {message_text(why.key, why.params, why.text)}")
    lines += [
        f"AUC {r.auc:.3f} held out ({r.auc_train:.3f} training); "
        f"KS {r.ks:.3f} held out ({r.ks_train:.3f} training)",
        "grade  min score   loans   bad  bad rate  predicted",
    ]
    for row in r.calibration:
        cut = "-" if row.min_score is None else str(row.min_score)
        lines.append(
            f"{row.grade:<5}  {cut:>9}  {row.rows:>6}  {row.bads:>4}  {_rate(row.bad_rate):>8}"
            f"  {_rate(row.mean_pd):>9}"
        )
    lines.append(
        "all loans (training and held out): "
        + ", ".join(f"{row.grade} {row.bads}/{row.rows}" for row in r.calibration_all)
    )
    if not r.grades_monotone:
        lines.append(
            "WARNING: the held-out bad rate is not monotone across grades (on a small book "
            "a few loans decide it; review before use)"
        )
    lines.append(
        f"Wrote candidate policy version {fit.policy.version} (copy of active version "
        f"{fit.based_on.version} with this scorecard and grades); it is not active."
    )
    return lines


class Command(BaseCommand):
    help = (
        "Fit a logistic-regression scorecard (weight-of-evidence bands) on every loan with a "
        f"full {OUTCOME_WINDOW_DAYS}-day history, bad = {BAD_DPD}+ dpd, and write it as a "
        "candidate policy version. Never activates it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=0, help="seed of the held-out split")
        parser.add_argument(
            "--test-size",
            type=float,
            default=0.3,
            help="share of borrowers held out for AUC, KS and calibration (default 0.3)",
        )
        parser.add_argument("--as-of", help="history as of this date (YYYY-MM-DD; default today)")
        parser.add_argument("--json", action="store_true", help="end with one JSON object")

    def handle(self, *args, **options):
        as_of = date_option(options["as_of"], "--as-of")
        try:
            fit = scorecard_fit(
                acting_user=SYSTEM,
                as_of=as_of,
                seed=options["seed"],
                test_size=options["test_size"],
            )
        except LendingError as exc:
            field = (exc.field or "").replace("_", "-")
            where = f"--{field}" if field in ("seed", "test-size", "as-of") else field or "error"
            raise CommandError(f"{where}: {exc.message}; nothing was written") from None
        for line in report(fit):
            self.stdout.write(line)
        if options["json"]:  # last line, for scripts
            self.stdout.write(json.dumps(fit.as_dict(), ensure_ascii=False))
