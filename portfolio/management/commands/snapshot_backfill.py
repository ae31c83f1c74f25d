"""Rebuild portfolio snapshots of past dates from the ledger (docs/dashboard.md)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lending.access import SYSTEM
from lending.errors import LendingError
from lending.models import Loan
from portfolio.services import snapshot_backfill


def _date(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{flag}: {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Rebuild the portfolio snapshots of past dates from the ledger (nights' own kept)."

    def add_arguments(self, parser):
        parser.add_argument("--start", help="first date (default: the first disbursement)")
        parser.add_argument("--end", help="last date (default: yesterday)")
        parser.add_argument(
            "--replace", action="store_true", help="also rebuild dates a night snapshotted"
        )

    def handle(self, *args, start=None, end=None, replace=False, **options):
        end = _date(end, "--end") if end else timezone.localdate() - timedelta(days=1)
        if start:
            start = _date(start, "--start")
        else:
            first = Loan.objects.exclude(start_date=None).order_by("start_date").first()
            if first is None:
                self.stdout.write("No loan has been disbursed: nothing to rebuild.")
                return
            start = first.start_date
        try:
            written = snapshot_backfill(acting_user=SYSTEM, start=start, end=end, replace=replace)
        except LendingError as exc:
            raise CommandError(f"--{exc.field or 'start'}: {exc.message}") from None
        self.stdout.write(f"{written} snapshots written for {start} – {end}.")
