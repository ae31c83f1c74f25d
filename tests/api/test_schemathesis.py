"""Schemathesis against the live schema (issue 11): for every operation /api/schema/ publishes,
a bounded number of generated requests — valid ones and deliberately broken ones — sent as an
administrator to a small book built through the services. Every answer must be no 5xx and
conform to the schema: a documented status code, its content type and its body's shape.

The schema is read from the running application (in-process WSGI, the test database), so what
is tested is what the API publishes. Generation is derandomized: the same examples on every run
and every machine, so CI is deterministic; a failure names the operation and the request (a
curl command) and pytest shows the server's traceback under "Captured log call".
"""

import zlib
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from debt_collection.models import CaseAssignment, CompliancePolicy, ContactHold, HoldKind, Queue
from debt_collection.services.contacts import contact_hold_place
from lending import roles
from lending.access import SYSTEM
from lending.models import AuditEvent, Borrower, BusinessDayRun, LoanProduct, Transaction
from lending.services.borrowers import emergency_contact_add
from lending.services.repayments import repayment_post
from risk.models import CreditLimit, CreditPolicy, LoanApplication
from risk.services.underwriting import application_submit
from tests.api.books import approved_loan
from tests.api.conftest import API, assert_problem
from tests.collections.helpers import open_case, overdue_loans
from tests.factories import RiskProfileFactory
from tests.lending.loan_helpers import active_loan

# Examples per operation: 49 operations x this many requests run in about two minutes on two
# cores (`make test`); raise it locally (SCHEMATHESIS_EXAMPLES is not read: edit here) to dig.
MAX_EXAMPLES = 25

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_connection():
    """Django closes the database connection when a request finishes unless it is in autocommit;
    a test runs in one transaction, so the real WSGI handler would close it under the test
    (PostgreSQL). Django's test client does the same as this for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def book(db, role_user):
    """A small book with something behind every path parameter, and an administrator's token."""
    admin = role_user(roles.ADMINISTRATOR, username="schemathesis-admin")
    token = Token.objects.create(user=admin).key
    overdue = overdue_loans(2)  # and the night that makes them late: cases, a close-of-business run
    cases = [open_case(loan) for loan in overdue]
    approved = approved_loan()
    paying = active_loan(start=date(2026, 1, 15))
    repayment_post(
        loan_id=paying.pk,
        amount=Decimal("900.00"),
        value_date=date(2026, 2, 15),
        acting_user=SYSTEM,
    )
    borrower = paying.borrower
    emergency_contact_add(
        borrower=borrower,
        name="Li Lei",
        phone="13800138000",
        relation="sibling",
        acting_user=SYSTEM,
    )
    RiskProfileFactory(borrower=approved.borrower)
    application_submit(
        borrower_id=approved.borrower_id,
        product=approved.product,
        amount="5000.00",
        term_months=12,
        acting_user=admin,
    )
    contact_hold_place(
        borrower_id=overdue[1].borrower_id,
        kind=HoldKind.DISPUTE,
        reason="disputed",
        acting_user=SYSTEM,
    )
    loans = [*overdue, approved, paying]
    return SimpleNamespace(
        token=token,
        values={
            "loans": {"reference": [loan.reference for loan in loans]},
            "transactions": [
                (t.loan.reference, t.pk) for t in Transaction.objects.select_related("loan")
            ],
            "borrowers": list(Borrower.objects.values_list("pk", flat=True)),
            "applications": list(LoanApplication.objects.values_list("pk", flat=True)),
            "collections/cases": [case.pk for case in cases],
            "collections/holds": list(ContactHold.objects.values_list("pk", flat=True)),
            "collections/queues": list(Queue.objects.values_list("pk", flat=True)),
            "collections/policies": list(
                CompliancePolicy.objects.values_list("version", flat=True)
            ),
            "credit-limits": list(CreditLimit.objects.values_list("pk", flat=True)),
            "policies": list(CreditPolicy.objects.values_list("version", flat=True)),
            "products": list(LoanProduct.objects.values_list("code", flat=True)),
            "close-of-business/runs": [
                d.isoformat()
                for d in BusinessDayRun.objects.values_list("business_date", flat=True)
            ],
        },
    )


def _pick(generated, choices):
    """Three times in four a value the book holds (chosen by the generated one, so the run stays
    deterministic); the fourth keeps the generated value, which usually names nothing (404)."""
    if not choices:
        return None
    n = zlib.crc32(repr(generated).encode())
    return None if n % 4 == 0 else choices[n // 4 % len(choices)]


def point_at_the_book(case, book) -> None:
    """Replace generated path parameters by the book's own identifiers (most of the time)."""
    params = case.path_parameters
    if not params:
        return
    resource = case.operation.path.removeprefix("/api/v1/").split("/{")[0]
    values = book.values
    if "transaction_id" in params:
        picked = _pick(params["transaction_id"], values["transactions"])
        if picked is not None:
            params["reference"], params["transaction_id"] = picked
        return
    if resource == "loans":
        name, choices = "reference", values["loans"]["reference"]
    else:
        name, choices = next(iter(params)), values.get(resource, [])
    picked = _pick(params[name], choices)
    if picked is not None:
        params[name] = picked


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(case, book):
    point_at_the_book(case, book)
    case.headers = {**(case.headers or {}), "Authorization": f"Token {book.token}"}
    case.call_and_validate(checks=CHECKS)


# What Schemathesis found, pinned as ordinary tests (each failed before its fix).


def test_a_body_with_too_many_fields_is_a_problem_not_an_html_page(administrator):
    """More form fields than DATA_UPLOAD_MAX_NUMBER_FIELDS: Django's SuspiciousOperation used
    to leave as its HTML 400 page."""
    before = CaseAssignment.objects.count()
    response = administrator.post(
        API + "collections/cases/reassign/",
        {"cases": list(range(1001)), "collector": 1, "reason": "x"},
        format="multipart",
    )
    assert_problem(response, 400, "parse_error")
    assert CaseAssignment.objects.count() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("applications/", {"borrower": 1, "product": "a\x00b", "amount": "100", "term_months": 3}),
        ("quotes/", {"product": "\x00", "amount": "100", "rate": "0.1", "term": 3}),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_a_nul_character_in_the_body_is_refused_naming_the_field(administrator, path, body, fmt):
    """PostgreSQL text cannot hold NUL: a product code with one reached the database through
    DRF's SlugRelatedField and came back as a 500 (POST applications/, on PostgreSQL)."""
    before = AuditEvent.objects.count()
    response = administrator.post(API + path, body, format=fmt)
    assert_problem(response, 400, "invalid", "product")
    assert AuditEvent.objects.count() == before


def test_a_nul_character_in_a_path_is_not_found(administrator):
    assert_problem(administrator.get(API + "loans/LN%00/"), 404, "not_found")


def test_the_schema_says_what_the_views_answer(client, administrator):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    # A relation that may be empty is written as null: nullable.
    assert components["TransactionOutput"]["properties"]["posted_by"]["nullable"] is True
    assert components["ApplicationOutput"]["properties"]["loan"]["nullable"] is True
    # A required read-only field stays non-null.
    assert "nullable" not in components["TransactionOutput"]["properties"]["kind"]
    # Times are written without an offset ("08:00:00"), which JSON Schema's `time` refuses.
    contact_from = components["CompliancePolicyOutput"]["properties"]["contact_from"]
    assert contact_from["format"] == "partial-time"
    # A page that does not exist is a documented 404 on the paginated lists...
    for path in ("/api/v1/products/", "/api/v1/loans/", "/api/v1/policies/"):
        assert "404" in schema["paths"][path]["get"]["responses"], path
    # ... and is one.
    assert_problem(administrator.get(API + "products/", {"page": 99}), 404, "not_found")
