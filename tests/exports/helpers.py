"""Taking an export the way a user does: the list's Export page, posted with a format, a kind
and its columns ticked; the file read back with the csv module or openpyxl."""

import csv
import io

from django.urls import reverse
from openpyxl import load_workbook

FORMATS = {"csv": "0", "xlsx": "1"}  # the order of ExportButtonMixin.export_formats


def export_url(admin_name: str, query: str = "") -> str:
    return reverse(f"admin:{admin_name}_export") + (f"?{query}" if query else "")


def form_body(kind, *, fmt="csv", index=0, unmask=False, columns=None, **extra) -> dict:
    """What the export form posts: every column of `kind` ticked (or `columns`)."""
    body = {"format": FORMATS[fmt], "resource": str(index), **extra}
    for name in columns or kind().get_export_order():
        body[f"{kind.__name__.lower()}_{name}"] = "on"
    if unmask:
        body["unmask_pii"] = "on"
    return body


def take(client, admin_name, kind, *, query="", fmt="csv", **form):
    """POST the export form; the response (a file when it worked)."""
    return client.post(export_url(admin_name, query), form_body(kind, fmt=fmt, **form))


def read(response) -> list[list]:
    """The file's rows, header first: CSV through the csv module, XLSX through openpyxl."""
    assert response.status_code == 200, response.status_code
    disposition = response["Content-Disposition"]
    if disposition.endswith('.csv"'):
        assert response["Content-Type"].startswith("text/csv")
        text = response.content.decode("utf-8")
        assert text.startswith("\ufeff"), "Excel needs the BOM to read UTF-8"
        return list(csv.reader(io.StringIO(text[1:])))
    assert disposition.endswith('.xlsx"'), disposition
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[cell for cell in row] for row in sheet.iter_rows()]


def records(rows) -> list[dict]:
    """Rows as {header: value} (XLSX cells keep their openpyxl Cell for number formats)."""
    header = [h.value if hasattr(h, "value") else h for h in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]
