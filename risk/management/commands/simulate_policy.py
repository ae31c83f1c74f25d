"""`manage.py simulate_policy VERSION`: a policy version over the current book, beside the
active one: outcomes, grade mix, total limit and the book's bad rate by grade."""

import json

from django.core.management.base import BaseCommand, CommandError

from lending.errors import LendingError
from lending.management.options import date_option
from risk.simulation import BAD_DPD, comparison, simulate_policy


def table(result) -> list[str]:
    titles, rows = comparison(result)
    width = max(len(label) for label, _ in rows)
    widths = [max(len(t), *(len(cells[i]) for _, cells in rows)) for i, t in enumerate(titles)]

    def line(label: str, cells: list[str]) -> str:
        padded = (f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
        return f"{label:<{width}}  " + "  ".join(padded)

    return [line("", titles), *(line(label, cells) for label, cells in rows)]


class Command(BaseCommand):
    help = (
        "Evaluate a credit policy version over every borrower on the book and print it beside "
        f"the active version; bad = any loan ever {BAD_DPD}+ days past due."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", type=int, help="the policy version to simulate")
        parser.add_argument("--as-of", help="evaluate as of this date (YYYY-MM-DD; default today)")
        parser.add_argument("--json", action="store_true", help="end with one JSON object")

    def handle(self, *args, **options):
        as_of = date_option(options["as_of"], "--as-of")
        try:
            result = simulate_policy(version=options["version"], as_of=as_of)
        except LendingError as exc:
            where = "--as-of" if exc.field == "as_of" else exc.field or "version"
            raise CommandError(f"{where}: {exc.message}") from None
        self.stdout.write(
            f"Policy simulation as of {result.as_of}: {result.borrowers} borrowers on the book; "
            f"bad = any loan ever {BAD_DPD}+ dpd"
        )
        for line in table(result):
            self.stdout.write(line)
        if result.active is None:
            self.stdout.write(self.style.WARNING("No version is active: nothing to compare with."))
        else:
            self.stdout.write(
                f"newly approved: {result.newly_approved}; "
                f"no longer approved: {result.no_longer_approved}"
            )
        if options["json"]:  # last line, for scripts
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
