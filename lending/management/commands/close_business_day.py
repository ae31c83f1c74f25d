"""`manage.py close_business_day`: the nightly close, run by hand for any date, synchronously."""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from lending.access import SYSTEM
from lending.close_of_business.runner import (
    AlreadyClosed,
    close_business_days,
    run_summary,
)
from lending.errors import LendingError
from lending.management.options import date_option


class Command(BaseCommand):
    help = (
        "Close business dates: flag overdue loans, accrue penalty, run every registered step. "
        "Missed dates are closed first, oldest first. Default: yesterday."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--date", help="close this date (after closing any missed before it)")
        which.add_argument("--until", help="catch up every date up to and including this one")
        parser.add_argument(
            "--chunk-size", type=int, help="loans per chunk (default CLOSE_OF_BUSINESS_CHUNK_SIZE)"
        )
        parser.add_argument("--json", action="store_true", help="one JSON object per date")

    def handle(self, *args, **options):
        raw, flag = (
            (options["date"], "--date") if options["date"] else (options["until"], "--until")
        )
        until = date_option(raw, flag) if raw else timezone.localdate() - timedelta(days=1)
        if options["chunk_size"] is not None and options["chunk_size"] < 1:
            raise CommandError("--chunk-size: must be at least 1")
        bars = {}

        def on_chunk(run, chunk):
            if run.pk not in bars:
                bars[run.pk] = tqdm(
                    total=run.chunks_total,
                    desc=str(run.business_date),
                    unit="chunk",
                    file=self.stderr._out,
                    disable=options["json"] or options["verbosity"] == 0,
                )
            bars[run.pk].update(1)

        try:
            runs = close_business_days(
                until=until, acting_user=SYSTEM, chunk_size=options["chunk_size"], on_chunk=on_chunk
            )
        except AlreadyClosed as exc:
            if options["json"]:
                summary = run_summary(exc.run) | {"already_closed": True, "posted": "nothing"}
                self.stdout.write(json.dumps(summary))
            else:
                self.stdout.write(self.style.WARNING(f"{exc.message}."))
            return
        except LendingError as exc:
            raise CommandError(f"{flag}: {exc.message}") from None
        finally:
            for bar in bars.values():
                bar.close()
        for run in runs:
            self._report(run, options["json"])
        if runs and runs[-1].status != "done":
            raise CommandError(f"the close of {runs[-1].business_date} failed: {runs[-1].error}")

    def _report(self, run, as_json: bool) -> None:
        summary = run_summary(run)
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        style = self.style.SUCCESS if run.status == "done" else self.style.ERROR
        self.stdout.write(style(f"{run.business_date}: {run.status} in {summary['seconds']:.1f} s"))
        for key in (
            "loans_examined",
            "loans_newly_overdue",
            "loans_cured",
            "bucket_moves",
            "accruals_posted",
            "accrual_total",
            "loans_capped",
        ):
            self.stdout.write(f"  {key.replace('_', ' ')}: {summary[key]}")
