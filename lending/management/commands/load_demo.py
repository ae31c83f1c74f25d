"""`manage.py load_demo`: load the demo book once (logins, products, borrowers, loan history)."""

from django.core.management.base import BaseCommand, CommandError

from lending.demo import (
    DEFAULT_BORROWERS,
    DEFAULT_SEED,
    DemoRefused,
    load_demo_book,
    refuse_outside_debug,
)
from lending.errors import LendingError
from lending.validation import check_count, check_seed

# A demo, not a load test: beyond this the single transaction it loads in runs for hours.
MAX_BORROWERS = 100_000


class Command(BaseCommand):
    help = (
        "Load a deterministic demo book: demo logins, 3 loan products, borrowers and ~20 months "
        "of loans, repayments and closed nights (the history computed with the services' rules "
        "and written in bulk, the last nights run for real). Does nothing if already loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
        parser.add_argument(
            "--yes-this-is-a-demo",
            action="store_true",
            help="run with DEBUG off (a demo server); no demo password is set then",
        )
        parser.add_argument(
            "--borrowers", type=int, default=DEFAULT_BORROWERS, help="how many borrowers"
        )

    def handle(self, *args, **options):
        try:
            check_seed(options["seed"], field="seed")
            check_count(options["borrowers"], field="borrowers", maximum=MAX_BORROWERS)
        except LendingError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from None
        try:
            refuse_outside_debug(confirmed=options["yes_this_is_a_demo"])
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        try:
            load_demo_book(seed=options["seed"], borrowers=options["borrowers"], stdout=self.stdout)
        except (LendingError, DemoRefused) as exc:
            raise CommandError(f"the demo book was not loaded: {exc}") from exc
