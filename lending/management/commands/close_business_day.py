"""`manage.py close_business_day`: the nightly close, run by hand for any date, synchronously."""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError
from django.utils import timezone
from tqdm import tqdm

from lending.access import SYSTEM
from lending.close_of_business.runner import (
    RUN_COUNTS,
    AlreadyClosed,
    business_day_abandon,
    close_business_days,
    run_summary,
    running_business_day,
)
from lending.errors import LendingError
from lending.management.options import date_option

ABANDON_REASON = "its process stopped; marked failed with close_business_day --abandon-stuck"


class Command(BaseCommand):
    help = (
        "Close business dates: flag overdue loans, accrue penalty, run every registered step. "
        "Missed dates are closed first, oldest first. Default: yesterday."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--date", help="close this date (after closing any missed before it)")
        which.add_argument("--until", help="catch up every date up to and including this one")
        which.add_argument(
            "--abandon-stuck",
            action="store_true",
            help="mark the close left running by a stopped process as failed, so it can be "
            "retried (refused while a worker is still on it); closes nothing",
        )
        parser.add_argument(
            "--chunk-size", type=int, help="loans per chunk (default CLOSE_OF_BUSINESS_CHUNK_SIZE)"
        )
        parser.add_argument(
            "--json", action="store_true", help="one JSON object per date, printed as it closes"
        )

    def handle(self, *args, **options):
        if options["abandon_stuck"]:
            if options["chunk_size"] is not None:
                raise CommandError("--chunk-size: --abandon-stuck closes nothing; leave it out")
            self._abandon(options["json"])
            return
        if options["date"] is not None:
            raw, flag = options["date"], "--date"
        else:
            raw, flag = options["until"], "--until"
        # An empty --date is a mistake to refuse, not "no date": only a missing one means
        # yesterday.
        until = date_option(raw, flag) if raw is not None else None
        until = until or timezone.localdate() - timedelta(days=1)
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

        def on_date(run):
            if run.pk in bars:
                bars.pop(run.pk).close()
            self._report(run, options["json"])

        try:
            runs = close_business_days(
                until=until,
                acting_user=SYSTEM,
                chunk_size=options["chunk_size"],
                on_chunk=on_chunk,
                on_date=on_date,
            )
        except AlreadyClosed as exc:
            if options["json"]:
                summary = run_summary(exc.run) | {"already_closed": True, "posted": "nothing"}
                self.stdout.write(json.dumps(summary))
            else:
                self.stdout.write(self.style.WARNING(f"{exc.message}."))
            return
        except LendingError as exc:
            where = "--chunk-size" if exc.field == "chunk_size" else flag
            raise CommandError(f"{where}: {exc.message}") from None
        finally:
            for bar in bars.values():
                bar.close()
        if runs and runs[-1].status != "done":
            raise CommandError(f"the close of {runs[-1].business_date} failed: {runs[-1].error}")

    def _abandon(self, as_json: bool) -> None:
        run = running_business_day()
        if run is None:
            raise CommandError("--abandon-stuck: no close of business is running")
        try:
            run = business_day_abandon(run_id=run.pk, reason=ABANDON_REASON, acting_user=SYSTEM)
        except LendingError as exc:
            raise CommandError(f"--abandon-stuck: {exc.message}") from None
        except OperationalError as exc:  # SQLite: a live close holds the database's write lock
            raise CommandError(
                f"--abandon-stuck: the close of {run.business_date} is not stuck: another "
                f"process is writing to the database ({exc})"
            ) from None
        if as_json:
            self.stdout.write(json.dumps(run_summary(run) | {"abandoned": True}))
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"The close of {run.business_date} is marked failed. Retry it with "
                    f"close_business_day --date {run.business_date}: only its unfinished "
                    "chunks run again."
                )
            )

    def _report(self, run, as_json: bool) -> None:
        """One date's outcome, flushed at once: a run stopped later has still said this."""
        summary = run_summary(run)
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            style = self.style.SUCCESS if run.status == "done" else self.style.ERROR
            self.stdout.write(
                style(f"{run.business_date}: {run.status} in {summary['seconds']:.1f} s")
            )
            for key in RUN_COUNTS:
                self.stdout.write(f"  {key.replace('_', ' ')}: {summary[key]}")
        self.stdout.flush()
