"""`manage.py reconcile`: rebuild loan and installment balances from transactions."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from lending.access import SYSTEM
from lending.errors import LendingError
from lending.models import Loan
from lending.services.reconcile import reconcile_loans


class Command(BaseCommand):
    help = "Rebuild cached balances from transactions and report any difference (exit 1 if any)."

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="write the rebuilt values")
        parser.add_argument("--loan", action="append", help="only these loan references")
        parser.add_argument("--chunk-size", type=int, default=2000)

    def handle(self, *args, **options):
        loan_ids = None
        if options["loan"]:
            found = dict(
                Loan.objects.filter(reference__in=options["loan"]).values_list("reference", "pk")
            )
            missing = sorted(set(options["loan"]) - set(found))
            if missing:
                raise CommandError(f"--loan: no loan with reference {', '.join(missing)}")
            loan_ids = list(found.values())
        total = len(loan_ids) if loan_ids is not None else Loan.objects.count()
        with tqdm(
            total=total, unit="loan", disable=options["verbosity"] == 0, file=self.stderr._out
        ) as bar:
            try:
                report = reconcile_loans(
                    acting_user=SYSTEM,
                    repair=options["repair"],
                    loan_ids=loan_ids,
                    chunk_size=options["chunk_size"],
                    progress=bar.update,
                )
            except LendingError as exc:
                flag = "--chunk-size" if exc.field == "chunk_size" else exc.field or "error"
                raise CommandError(f"{flag}: {exc.message}; nothing was compared") from None
        for difference in report.differences:
            self.stdout.write(str(difference))
        summary = (
            f"Reconciled {report.loans} loans and {report.installments} installments: "
            f"{len(report.differences)} difference(s)"
        )
        if report.clean:
            self.stdout.write(self.style.SUCCESS(summary + "."))
        elif options["repair"]:
            self.stdout.write(self.style.WARNING(summary + ", all repaired."))
        else:
            self.stdout.write(self.style.ERROR(summary + "; rerun with --repair to rebuild."))
            raise SystemExit(1)
