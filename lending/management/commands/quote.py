"""`manage.py quote`: the schedule, APR and cost of credit a borrower sees before signing."""

import json

from django.core.management.base import BaseCommand, CommandError

from lending.errors import LendingError
from lending.management.options import date_option
from lending.models import LoanProduct
from lending.money import money_str
from lending.schedules import DayCount, RepaymentMethod
from lending.selectors import product_quote, what_if_quote

# The option each service field comes from (the rest are spelled alike).
FLAGS = {"start_date": "--start", "first_due_date": "--first-due", "annual_rate": "--rate"}


class Command(BaseCommand):
    help = "Quote a loan on a product (--product) or as a what-if (--method)."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--product", help="product code")
        source.add_argument("--method", choices=[m.value for m in RepaymentMethod])
        parser.add_argument("--amount", required=True)
        parser.add_argument("--rate", required=True, help="annual rate as a fraction: 0.18")
        parser.add_argument("--term", required=True, type=int, help="months")
        parser.add_argument("--start", required=True, help="disbursement date YYYY-MM-DD")
        parser.add_argument("--first-due", help="first due date, for a broken first period")
        parser.add_argument("--fee-rate", default="0", help="what-if upfront fee: 0.02 = 2 %%")
        parser.add_argument(
            "--day-count", default=DayCount.ACT_360.value, choices=[d.value for d in DayCount]
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        start = date_option(options["start"], "--start")
        first_due = date_option(options["first_due"], "--first-due")
        try:
            if options["product"] is not None:
                product = LoanProduct.objects.filter(code=options["product"]).first()
                if product is None:
                    raise CommandError(f"--product: no product with code {options['product']!r}")
                result = product_quote(
                    product=product,
                    amount=options["amount"],
                    annual_rate=options["rate"],
                    term_months=options["term"],
                    start_date=start,
                    first_due_date=first_due,
                )
            else:
                result = what_if_quote(
                    amount=options["amount"],
                    annual_rate=options["rate"],
                    term_months=options["term"],
                    start_date=start,
                    method=options["method"],
                    day_count=options["day_count"],
                    fee_rate=options["fee_rate"],
                    first_due_date=first_due,
                )
        except LendingError as exc:
            flag = FLAGS.get(exc.field, f"--{(exc.field or 'input').replace('_', '-')}")
            raise CommandError(f"{flag}: {exc.message}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
            return
        self._print_table(result)

    def _print_table(self, result) -> None:
        out = self.stdout.write
        out(
            f"{'#':>3}  {'due date':<10}  {'principal':>12}  {'interest':>10}  {'fee':>8}  "
            f"{'total':>12}  {'balance after':>14}"
        )
        for row in result.installments:
            out(
                f"{row.seq:>3}  {row.due_date.isoformat():<10}  {money_str(row.principal):>12}  "
                f"{money_str(row.interest):>10}  {money_str(row.fee):>8}  "
                f"{money_str(row.total):>12}  {money_str(row.balance_after):>14}"
            )
        out(
            f"APR {result.apr * 100:.2f} %   effective annual rate "
            f"{result.effective_annual_rate * 100:.2f} %"
        )
        out(
            f"total interest {money_str(result.total_interest)}   total fees "
            f"{money_str(result.total_fees)}   total cost of credit {money_str(result.total_cost)}"
        )
