"""`manage.py import_data KIND FILE --user USERNAME [--dry-run] [--valid-rows-only] [--json]`:
the same import as the admin's and the API's (imports.services), as the named user."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from imports.reading import MAX_FILE_BYTES, FileRefused
from imports.registry import registered_kinds
from imports.services import import_file
from lending.errors import LendingError


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file of one kind (borrowers, loans, repayments, bureau, "
        "agency_results) as --user. Exit 1 when the file is refused, or when any row has an "
        "error and nothing was written (a dry run that finds errors included)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "kind", help="what the file holds: " + ", ".join(k.name for k in registered_kinds())
        )
        parser.add_argument("file", help="the CSV or XLSX file")
        parser.add_argument("--user", required=True, help="the user the import acts as")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--valid-rows-only",
            action="store_true",
            help="write the rows without errors even when others have some",
        )
        parser.add_argument("--json", action="store_true", help="end with one JSON line")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(_("--user: no user %(name)r") % {"name": options["user"]})
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": path})
        if path.stat().st_size > MAX_FILE_BYTES:
            return self._refused(
                options, _("the file is larger than %(max)s MB") % {"max": MAX_FILE_BYTES // 2**20}
            )
        data = path.read_bytes()
        quiet = options["verbosity"] == 0
        with tqdm(unit="row", disable=quiet, file=self.stderr._out, desc=options["kind"]) as bar:

            def progress(done, total):
                if bar.total != total:
                    bar.total = total
                bar.update(done - bar.n)

            try:
                record, result = import_file(
                    kind=options["kind"],
                    file_name=path.name,
                    data=data,
                    acting_user=user,
                    dry_run=options["dry_run"],
                    valid_rows_only=options["valid_rows_only"],
                    progress=progress,
                )
            except FileRefused as exc:
                return self._refused(options, exc.text(_))
            except LendingError as exc:
                return self._refused(options, exc.message)
        for error in result.errors:
            self.stdout.write(error.sentence())
        counts = result.counts()
        summary = _(
            "%(kind)s: %(rows)s rows, %(new)s new, %(updated)s updated, %(skipped)s skipped, "
            "%(duplicates)s duplicates, %(errors)s errors; %(what)s (import %(id)s)"
        ) % {
            **counts,
            "kind": result.kind,
            "what": _("written") if result.written else _("nothing written"),
            "id": record.pk,
        }
        style = self.style.SUCCESS if result.written or not result.errors else self.style.ERROR
        if not options["json"]:
            self.stdout.write(style(summary))
        else:
            self.stderr.write(summary)
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
        if result.errors and not result.written:
            raise SystemExit(1)

    def _refused(self, options, message: str):
        if options["json"]:
            line = {
                "kind": options["kind"],
                "rows": 0,
                "new": 0,
                "updated": 0,
                "skipped": 0,
                "duplicates": 0,
                "errors": [{"row": None, "column": "", "value": "", "message": message}],
                "written": False,
            }
            self.stderr.write(_("refused: %(message)s") % {"message": message})
            self.stdout.write(json.dumps(line, ensure_ascii=False))
            raise SystemExit(1)
        raise CommandError(_("refused: %(message)s") % {"message": message})
