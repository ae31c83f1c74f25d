"""`manage.py load_collections_demo`: fill the collections demo once (after load_demo)."""

from django.core.management.base import BaseCommand, CommandError

from debt_collection.demo import NotReady, load_collections_demo
from lending.demo import DemoRefused, refuse_outside_debug
from lending.errors import LendingError


class Command(BaseCommand):
    help = (
        "After load_demo and load_risk_demo: demo collectors (collector, collector2) and manager "
        "in the queues, the backlog handed out, contacts (some refused by the compliance "
        "guard), promises kept and broken, and the reminders due now sent. Does nothing if "
        "already loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--yes-this-is-a-demo",
            action="store_true",
            help="run with DEBUG off (a demo server); no demo password is set then",
        )

    def handle(self, *args, **options):
        try:
            refuse_outside_debug(confirmed=options["yes_this_is_a_demo"])
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        try:
            load_collections_demo(stdout=self.stdout)
        except (LendingError, NotReady) as exc:
            raise CommandError(f"the collections demo was not loaded: {exc}") from exc
