"""Files the imports hand back: a kind's template and the error rows of an import. Written with
django-import-export's formats (tablib underneath)."""

import tablib
from django.utils.translation import gettext as _
from import_export.formats.base_formats import CSV, XLSX

from imports.reading import Table
from imports.registry import Kind

ERROR_HEADER = "错误 error"  # matches no kind's column, so a fixed file imports as it is


def template_xlsx(kind: Kind) -> bytes:
    """The kind's header row, and a second sheet saying what each column holds, under both of
    the names a file may give it."""
    data = tablib.Dataset(headers=[c.key for c in kind.columns], title=kind.name)
    help_sheet = tablib.Dataset(
        headers=[
            _("column (English)"),
            _("column (Chinese)"),
            _("required"),
            _("what it holds"),
            _("example"),
        ],
        title=_("columns"),
    )
    for column in kind.columns:
        help_sheet.append(
            [
                column.key,
                column.zh,
                _("yes") if column.required else _("no"),
                str(column.help),
                column.example,
            ]
        )
    help_sheet.append(["", "", "", "", ""])
    help_sheet.append(
        [
            _(
                "Either name may head a column, in any order; title rows above the header and "
                "blank rows are ignored."
            ),
            "",
            "",
            str(kind.description),
            "",
        ]
    )
    return tablib.Databook([data, help_sheet]).export("xlsx")


def error_rows_file(table: Table, errors: list, file_format: str) -> bytes:
    """The rows in error with the file's own header and an error column: fix the cells, and
    upload the file again (the error column is ignored)."""
    dataset = tablib.Dataset(headers=[*table.headers, ERROR_HEADER])
    cells_of = dict(table.rows)
    for result in errors:
        cells = list(cells_of.get(result.row, [None] * len(table.headers)))
        dataset.append([_cell(c) for c in cells] + [result.sentence()])
    if file_format == "xlsx":
        return XLSX().export_data(dataset)
    # BOM: Excel opens UTF-8 CSV with Chinese correctly only with one.
    return ("\ufeff" + CSV().export_data(dataset)).encode("utf-8")


def _cell(value):
    return "" if value is None else value
