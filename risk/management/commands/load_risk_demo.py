"""`manage.py load_risk_demo`: fill the risk side of the demo book once (after `load_demo`)."""

from django.core.management.base import BaseCommand, CommandError

from lending.demo import DEFAULT_SEED, DemoRefused, refuse_outside_debug
from lending.errors import LendingError
from lending.validation import check_seed
from risk.demo import load_risk_demo


class Command(BaseCommand):
    help = (
        "After load_demo: first credit limits for the book, loan applications underwritten by the "
        "active policy (some reviewed, some left in the queue), the nightly limit review for the "
        "last closed date and a candidate policy to simulate. Does nothing if already loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
        parser.add_argument(
            "--yes-this-is-a-demo",
            action="store_true",
            help="run with DEBUG off (a demo server); no demo password is set then",
        )

    def handle(self, *args, **options):
        try:
            check_seed(options["seed"], field="seed")
        except LendingError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from None
        try:
            refuse_outside_debug(confirmed=options["yes_this_is_a_demo"])
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        try:
            load_risk_demo(seed=options["seed"], stdout=self.stdout)
        except LendingError as exc:
            raise CommandError(f"the risk demo was not loaded: {exc.message}") from exc
