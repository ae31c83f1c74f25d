"""Cells without a database: any amount survives CSV and XLSX to the cent, dates are ISO, text
that would run as a formula is written as text."""

import csv
import io
from datetime import date
from decimal import Decimal

import tablib
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from lending.exports import CsvExport, XlsxExport, cell

amounts = st.decimals(
    min_value=Decimal("-999999999999.99"),
    max_value=Decimal("999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@given(amount=amounts)
def test_any_amount_survives_csv_and_xlsx_to_the_cent(amount):
    dataset = tablib.Dataset(headers=["amount", "day"])
    dataset.append([cell(amount, native=False, money=True), cell(date(2024, 2, 29), native=False)])
    text = CsvExport().export_data(dataset)
    (_header, row) = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert Decimal(row[0]) == amount and len(row[0].split(".")[1]) == 2
    assert row[1] == "2024-02-29"

    typed = tablib.Dataset(headers=["amount"])
    typed.append([cell(amount, native=True, money=True)])
    sheet = load_workbook(io.BytesIO(XlsxExport().export_data(typed))).active
    written = sheet["A2"]
    assert written.number_format == "0.00"
    assert Decimal(str(written.value)).quantize(Decimal("0.01")) == amount


def test_cells_of_other_kinds():
    assert cell(None, native=False) == ""
    assert cell(Decimal("1.5"), native=False, money=True) == "1.50"
    assert cell(Decimal("0.123"), native=False) == "0.123"  # durations keep their places
    assert cell("-3", native=False) == "'-3"  # text that would be a formula
    assert cell("@SUM(A1)", native=True) == "'@SUM(A1)"
    assert cell(7, native=True) == 7 and cell(7, native=False) == "7"
