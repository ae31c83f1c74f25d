"""Bad requests and big lists: an export over the row limit is refused with the count before
anything is read, a bad format, kind or selection is a form error, an unknown filter goes back
to the list — no file, no audit event, no 500."""

import pytest
from django.test import override_settings
from django.urls import reverse

from lending import roles
from lending.exports import LoanExport
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
