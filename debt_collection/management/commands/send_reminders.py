"""`manage.py send_reminders`: send the outbox now (what the 15-minute beat task does)."""

from django.core.management.base import BaseCommand, CommandError

from debt_collection.services.reminders import reminders_send
from lending.access import SYSTEM
from lending.errors import LendingError


class Command(BaseCommand):
    help = (
        "Send pending collection reminders through the configured sender, inside the active "
        "compliance policy's contact hours in each borrower's time zone; the rest wait."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=10_000, help="at most this many")

    def handle(self, *args, **options):
        if options["limit"] < 1:
            raise CommandError("--limit: must be at least 1")
        try:
            counts = reminders_send(acting_user=SYSTEM, limit=options["limit"])
        except LendingError as exc:
            raise CommandError(str(exc)) from None
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing pending"
        self.stdout.write(f"Reminders: {summary}")
