"""Fixture files the import tests make themselves."""

import csv
import io

import openpyxl

from imports.services import import_file


def csv_bytes(rows, encoding="utf-8-sig", delimiter=","):
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(kind, rows, user, *, fmt="csv", **options):
    """Upload and run `rows` (the header first) as `user`: (record, result)."""
    data = xlsx_bytes(rows) if fmt == "xlsx" else csv_bytes(rows)
    return import_file(kind=kind, file_name=f"{kind}.{fmt}", data=data, acting_user=user, **options)


def fates(result):
    return [(r.row, str(r.fate)) for r in result.results]
