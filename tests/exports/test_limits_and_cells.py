"""Bad requests and big lists: an export over the row limit is refused with the count before
anything is read, a bad format or kind is a form error — no file, no audit event, no 500. And
cells: any amount survives CSV and XLSX to the cent (hypothesis)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import tablib
from django.test import override_settings
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from lending import roles
from lending.exports import CsvExport, LoanExport, XlsxExport, cell
from lending.models import AuditEvent
from tests.exports.helpers import form_body, read, take

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(role_user, login):
    return login(role_user(roles.FINANCE))


def no_export_happened(response):
    assert response.status_code == 200  # the form again, with the reason
    assert not response.has_header("Content-Disposition")
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


@override_settings(EXPORT_MAX_ROWS=2)
def test_more_rows_than_the_limit_is_refused_with_the_count(book, finance):
    response = take(finance, "lending_loan", LoanExport)
    no_export_happened(response)
    assert "3 rows is more than one export holds (2)" in response.content.decode()
    # Narrowed by a filter it fits.
    assert len(read(take(finance, "lending_loan", LoanExport, query="delinquency=overdue"))) == 3


@pytest.mark.parametrize(
    "change",
    [
        {"format": "7"},
        {"format": ""},
        {"format": "-1"},
        {"resource": "9"},
        {"resource": "x" * 10_000},
        {"export_items": ["999999"]},
        {"export_items": ["not-a-number"]},
    ],
)
def test_a_bad_format_kind_or_selection_is_a_form_error(book, finance, change):
    body = {**form_body(LoanExport), **change}
    no_export_happened(finance.post(reverse("admin:lending_loan_export"), body))


def test_no_column_ticked_is_a_form_error(book, finance):
    body = {"format": "0", "resource": "0"}
    response = finance.post(reverse("admin:lending_loan_export"), body)
    no_export_happened(response)
    assert "Select at least 1 field" in response.content.decode()


def test_an_unknown_filter_in_the_address_goes_back_to_the_list(book, finance):
    for method in ("get", "post"):
        url = reverse("admin:lending_loan_export") + "?nonsense__field=1"
        response = getattr(finance, method)(url, form_body(LoanExport))
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:lending_loan_changelist") + "?e=1"
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


# --- cells, no database ---------------------------------------------------------------------

amounts = st.decimals(
    min_value=Decimal("-999999999999.99"),
    max_value=Decimal("999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@pytest.mark.django_db(False)
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


@pytest.mark.django_db(False)
def test_cells_of_other_kinds():
    assert cell(None, native=False) == ""
    assert cell(Decimal("1.5"), native=False, money=True) == "1.50"
    assert cell(Decimal("0.123"), native=False) == "0.123"  # durations keep their places
    assert cell("-3", native=False) == "'-3"  # text that would be a formula
    assert cell("@SUM(A1)", native=True) == "'@SUM(A1)"
    assert cell(7, native=True) == 7 and cell(7, native=False) == "7"
