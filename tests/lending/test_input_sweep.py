"""The bad-input sweep (issue 9, DESIGN §10): every management command and every admin form that
takes numbers or dates, given huge, negative, NaN, far-future and empty values one option at a
time, answers with an error naming that option or field — never a traceback, never a false
success — and changes nothing.

A new command fails `test_the_sweep_knows_every_command` until it is added here."""

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from lending import roles
from lending.access import SYSTEM
from lending.models import AuditEvent, BusinessDayRun, Installment, Loan, LoanProduct, Transaction
from lending.models.loans import LoanOrigin
from lending.services.loans import loan_book_approved
from risk.models import CreditPolicy
from tests.factories import BorrowerFactory, ProductFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
COMMAND_DIRS = ["lending/management/commands", "risk/management/commands"]

HUGE = "1e30"
HUGE_DECIMAL = "99999999999999999999.99"
NEGATIVE = "-1"
NAN = "NaN"
FAR_FUTURE = "9999-12-31"
EMPTY = ""
BAD_VALUES = [HUGE, HUGE_DECIMAL, NEGATIVE, NAN, FAR_FUTURE, EMPTY]

START = "2026-01-15"


def footprint() -> dict:
    """Everything a command or form could write."""
    return {
        "loans": list(Loan.objects.order_by("pk").values_list("pk", "status", "credit_balance")),
        "installments": Installment.objects.count(),
        "transactions": Transaction.objects.count(),
        "audit": AuditEvent.objects.count(),
        "runs": list(BusinessDayRun.objects.values_list("business_date", "status")),
        "products": LoanProduct.objects.count(),
        "policies": CreditPolicy.objects.count(),
    }


# --- management commands ---------------------------------------------------------------------

# command -> the arguments of a valid call; each swept option is then given one bad value.
# The demo loaders are swept too (their numbers must still be refused by name); with good
# values they would load the demo, which is theirs to test.
PRODUCT_CODE = "sweep"
COMMANDS: dict[str, dict] = {
    "quote (product)": {
        "name": "quote",
        "base": {
            "--product": PRODUCT_CODE,
            "--amount": "10000",
            "--rate": "0.18",
            "--term": "12",
            "--start": START,
        },
        "options": ["--product", "--amount", "--rate", "--term", "--start", "--first-due"],
    },
    "quote (what-if)": {
        "name": "quote",
        "base": {
            "--method": "equal_installment",
            "--amount": "10000",
            "--rate": "0.18",
            "--term": "12",
            "--start": START,
        },
        "options": [
            "--method",
            "--amount",
            "--rate",
            "--term",
            "--start",
            "--first-due",
            "--fee-rate",
            "--day-count",
        ],
    },
    "close_business_day": {
        "name": "close_business_day",
        "base": {},
        "options": ["--date", "--until", "--chunk-size"],
    },
    "reconcile": {"name": "reconcile", "base": {}, "options": ["--loan", "--chunk-size"]},
    "load_demo": {"name": "load_demo", "base": {}, "options": ["--seed", "--borrowers"]},
    "load_risk_demo": {"name": "load_risk_demo", "base": {}, "options": ["--seed"]},
    "fit_scorecard": {
        "name": "fit_scorecard",
        "base": {},
        "options": ["--seed", "--test-size", "--as-of"],
    },
    "simulate_policy": {
        "name": "simulate_policy",
        "base": {"version": "1"},  # seeded by risk's migration
        "options": ["version", "--as-of"],
    },
}


def test_the_sweep_knows_every_command():
    found = {
        path.stem
        for folder in COMMAND_DIRS
        for path in (ROOT / folder).glob("*.py")
        if not path.stem.startswith("_")
    }
    assert found == {spec["name"] for spec in COMMANDS.values()}


def argv(spec: dict, option: str, value: str) -> list[str]:
    given = {**spec["base"], option: value}
    args = [spec["name"]]
    for name, text in given.items():
        args.append(text if not name.startswith("-") else f"{name}={text}")
    return args


CASES = [
    pytest.param(label, option, value, id=f"{label}:{option}={value!r}")
    for label, spec in COMMANDS.items()
    for option in spec["options"]
    for value in BAD_VALUES
]


@pytest.fixture
def book():
    """A little of everything the commands read: a product to quote, an active loan."""
    product = ProductFactory(code=PRODUCT_CODE)
    return active_loan(product=product, start=date(2026, 1, 15))


@pytest.mark.parametrize(("label", "option", "value"), CASES)
def test_a_bad_option_value_is_refused_by_name_and_changes_nothing(book, label, option, value):
    before = footprint()
    with pytest.raises(CommandError) as raised:
        call_command(*argv(COMMANDS[label], option, value), stdout=StringIO(), stderr=StringIO())
    message = str(raised.value)
    assert option in message, message
    assert "Traceback" not in message
    assert footprint() == before


# --- admin forms, posted by an administrator ---------------------------------------------------

# form -> how to reach it, the valid data and the fields swept. Empty is swept only where a
# value is required (an empty first due date means "one month on").
FORMS = {
    "quote": {
        "method": "get",
        "fields": ["amount", "rate", "term", "start_date", "first_due_date"],
        "optional": {"first_due_date"},
    },
    "disburse": {
        "method": "post",
        "fields": ["disbursement_date", "first_due_date"],
        "optional": {"first_due_date"},
    },
    "repay": {"method": "post", "fields": ["amount", "value_date"], "optional": set()},
    "write_off": {"method": "post", "fields": ["value_date", "reason"], "optional": set()},
}

FORM_CASES = [
    pytest.param(form, field, value, id=f"{form}:{field}={value!r}")
    for form, spec in FORMS.items()
    for field in spec["fields"]
    for value in BAD_VALUES
    if not (value == EMPTY and field in spec["optional"])
    # A reason is free text: "1e30" is a (strange) reason; only an empty one is bad.
    and not (field == "reason" and value != EMPTY)
]


@pytest.fixture
def admin_user_client(client, role_user):
    client.force_login(role_user(roles.ADMINISTRATOR, username="sweep-admin"))
    return client


def form_request(client, form: str, field: str, value: str, loans: dict):
    if form == "quote":
        product = loans["active"].product
        data = {
            "product": product.pk,
            "amount": "10000",
            "rate": "0.18",
            "term": "12",
            "start_date": START,
        }
        return client.get(reverse("admin:lending_loanproduct_quote"), {**data, field: value})
    if form == "disburse":
        url = reverse("admin:lending_loan_disburse", args=[loans["approved"].pk])
        data = {"disbursement_date": START}
    elif form == "repay":
        url = reverse("admin:lending_loan_repay", args=[loans["active"].pk])
        data = {"amount": "100.00", "value_date": "2026-02-15"}
    else:
        url = reverse("admin:lending_loan_write_off", args=[loans["active"].pk])
        data = {"reason": "fraud", "value_date": "2026-02-15"}
    return client.post(url, {**data, field: value})


@pytest.mark.parametrize(("form", "field", "value"), FORM_CASES)
def test_a_bad_form_value_is_shown_on_its_field_and_changes_nothing(
    admin_user_client, form, field, value
):
    product = ProductFactory(code=PRODUCT_CODE)
    loans = {
        "active": active_loan(product=product, start=date(2026, 1, 15)),
        "approved": loan_book_approved(
            borrower=BorrowerFactory(),
            product=product,
            principal="10000.00",
            annual_rate="0.18",
            term_months=12,
            origin=LoanOrigin.MIGRATED,
            acting_user=SYSTEM,
        ),
    }
    before = footprint()
    response = form_request(admin_user_client, form, field, value, loans)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, (errors, response.context.get("messages"))
    assert footprint() == before
