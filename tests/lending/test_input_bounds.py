"""Issue 9, bad input: write-off and first-due bounds, the overpayment limit, amounts and dates
beyond what the book holds, what-if sanity limits, and the command options that used to reach a
traceback or a false answer. Each refusal names the field (or option) and changes nothing."""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from lending import roles
from lending.access import SYSTEM
from lending.admin.products import LoanProductAdmin
from lending.close_of_business.runner import close_business_days
from lending.errors import LendingError, LendingErrorCode
from lending.models import (
    AuditEvent,
    BusinessDayRun,
    Installment,
    Loan,
    LoanProduct,
    LoanStatus,
    Transaction,
)
from lending.models.loans import LoanOrigin
from lending.services.loans import loan_book_approved, loan_disburse, loan_write_off
from lending.services.products import product_save
from lending.services.repayments import repayment_post
from lending.validation import MAX_AMOUNT, MAX_DATE
from tests.factories import BorrowerFactory, ProductFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

D = Decimal
START = date(2026, 1, 15)
FAR = "9999-12-31"


def footprint() -> dict:
    return {
        "loans": Loan.objects.count(),
        "active": Loan.objects.filter(status=LoanStatus.ACTIVE).count(),
        "installments": Installment.objects.count(),
        "transactions": Transaction.objects.count(),
        "audit": AuditEvent.objects.count(),
        "runs": BusinessDayRun.objects.count(),
    }


def refused(code, field, call, **kwargs) -> LendingError:
    before = footprint()
    with pytest.raises(LendingError) as raised:
        call(**kwargs)
    assert (raised.value.code, raised.value.field) == (code, field), raised.value
    assert footprint() == before
    return raised.value


def approved(*, term=12, **product_fields) -> Loan:
    return loan_book_approved(
        borrower=BorrowerFactory(),
        product=ProductFactory(**product_fields),
        principal="10000.00",
        annual_rate="0.18",
        term_months=term,
        origin=LoanOrigin.MIGRATED,
        acting_user=SYSTEM,
    )


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- 5. write-off and the first due date ------------------------------------------------------


@pytest.mark.parametrize("value_date", [START - timedelta(days=1), date(1950, 1, 1)])
def test_a_write_off_valued_before_the_disbursement_is_refused(value_date):
    loan = active_loan(start=START)
    error = refused(
        LendingErrorCode.OUT_OF_RANGE,
        "value_date",
        loan_write_off,
        loan_id=loan.pk,
        reason="fraud",
        value_date=value_date,
        acting_user=SYSTEM,
    )
    assert "before the loan was disbursed (2026-01-15)" in error.message
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.ACTIVE


def test_a_write_off_dated_in_year_one_is_refused_naming_the_value_date():
    loan = active_loan(start=START)
    error = refused(
        LendingErrorCode.OUT_OF_RANGE,
        "value_date",
        loan_write_off,
        loan_id=loan.pk,
        reason="fraud",
        value_date=date(1, 1, 1),
        acting_user=SYSTEM,
    )
    assert "1900-01-01" in error.message


def test_a_write_off_on_the_disbursement_date_is_allowed():
    loan = active_loan(start=START)
    loan_write_off(loan_id=loan.pk, reason="fraud", value_date=START, acting_user=SYSTEM)
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.WRITTEN_OFF


def test_the_first_due_date_may_be_at_most_the_products_longest_first_period_away():
    # Default 62 days: 2026-01-15 + 62 days = 2026-03-18.
    loan = approved()
    error = refused(
        LendingErrorCode.OUT_OF_RANGE,
        "first_due_date",
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=START,
        first_due_date=date(2026, 3, 19),
        acting_user=SYSTEM,
    )
    assert "at most 62 days" in error.message and "2026-03-18" in error.message
    loan_disburse(
        loan_id=loan.pk,
        disbursement_date=START,
        first_due_date=date(2026, 3, 18),
        acting_user=SYSTEM,
    )
    assert Loan.objects.get(pk=loan.pk).first_due_date == date(2026, 3, 18)


def test_a_product_sets_its_own_longest_first_period():
    loan = approved(max_first_period_days=20)
    # The regular date (one month on) is always allowed, even past 20 days …
    refused(
        LendingErrorCode.OUT_OF_RANGE,
        "first_due_date",
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=START,
        first_due_date=date(2026, 2, 16),
        acting_user=SYSTEM,
    )
    loan_disburse(
        loan_id=loan.pk,
        disbursement_date=START,
        first_due_date=date(2026, 2, 15),
        acting_user=SYSTEM,
    )


def test_a_salary_advance_due_ten_years_later_is_refused():
    """The issue's case: a 3-month single payment due in 2036 carried 874.35 of interest."""
    loan = approved(term=3, repayment_method="single_payment", max_term_months=3)
    refused(
        LendingErrorCode.OUT_OF_RANGE,
        "first_due_date",
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=START,
        first_due_date=date(2036, 4, 15),
        acting_user=SYSTEM,
    )
    # Its regular maturity (three months on) is more than 62 days away, and still allowed.
    loan_disburse(
        loan_id=loan.pk,
        disbursement_date=START,
        first_due_date=date(2026, 4, 15),
        acting_user=SYSTEM,
    )


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("first_due_date", {"disbursement_date": START, "first_due_date": date(9999, 12, 31)}),
        ("disbursement_date", {"disbursement_date": date(9999, 12, 31)}),
        ("disbursement_date", {"disbursement_date": date(1, 1, 1)}),
    ],
)
def test_far_off_disbursement_dates_are_refused_naming_the_field(field, kwargs):
    loan = approved()
    error = refused(
        LendingErrorCode.OUT_OF_RANGE,
        field,
        loan_disburse,
        loan_id=loan.pk,
        acting_user=SYSTEM,
        **kwargs,
    )
    assert str(MAX_DATE) in error.message
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.APPROVED


@pytest.mark.parametrize(
    ("field", "value"), [("max_first_period_days", 0), ("max_first_period_days", 367)]
)
def test_the_longest_first_period_must_be_a_positive_number_of_days(field, value):
    product = ProductFactory()
    setattr(product, field, value)
    with pytest.raises(LendingError) as raised:
        product_save(product=product, acting_user=SYSTEM)
    assert raised.value.field == field
    assert LoanProduct.objects.get(pk=product.pk).max_first_period_days == 62


def test_the_overpayment_limit_must_not_be_negative():
    product = ProductFactory()
    product.max_overpayment = D("-0.01")
    with pytest.raises(LendingError) as raised:
        product_save(product=product, acting_user=SYSTEM)
    assert raised.value.field == "max_overpayment"


def test_the_product_page_shows_both_bounds_under_pricing(client, role_user):
    pricing = next(o["fields"] for name, o in LoanProductAdmin.fieldsets if str(name) == "Pricing")
    assert ("max_first_period_days", "max_overpayment") in pricing
    client.force_login(role_user(roles.ADMINISTRATOR))
    product = ProductFactory()
    page = client.get(reverse("admin:lending_loanproduct_change", args=[product.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="max_first_period_days"' in html and 'name="max_overpayment"' in html


# --- the overpayment limit ---------------------------------------------------------------------


def test_a_repayment_above_the_payoff_plus_the_limit_is_refused():
    # On the disbursement date nothing has been earned: the payoff is the principal, 10,000.00.
    loan = active_loan(start=START)
    error = refused(
        LendingErrorCode.OUT_OF_RANGE,
        "amount",
        repayment_post,
        loan_id=loan.pk,
        amount="11000.01",
        value_date=START,
        acting_user=SYSTEM,
    )
    assert "payoff on Jan. 15, 2026 (¥10,000.00)" in error.message
    assert "overpayment limit (¥1,000.00)" in error.message
    result = repayment_post(
        loan_id=loan.pk, amount="11000.00", value_date=START, acting_user=SYSTEM
    )
    assert result.closed
    assert Loan.objects.get(pk=loan.pk).credit_balance == D("1000.00")


def test_the_issues_repayment_of_ten_quadrillion_is_refused():
    loan = active_loan(start=START, principal="2499.00")
    refused(
        LendingErrorCode.OUT_OF_RANGE,
        "amount",
        repayment_post,
        loan_id=loan.pk,
        amount="9999999999999999.99",
        value_date=START,
        acting_user=SYSTEM,
    )
    assert Loan.objects.get(pk=loan.pk).credit_balance == 0


def test_a_limit_of_zero_refuses_any_overpayment():
    loan = active_loan(start=START, max_overpayment=D("0"))
    refused(
        LendingErrorCode.OUT_OF_RANGE,
        "amount",
        repayment_post,
        loan_id=loan.pk,
        amount="10000.01",
        value_date=START,
        acting_user=SYSTEM,
    )
    assert repayment_post(
        loan_id=loan.pk, amount="10000.00", value_date=START, acting_user=SYSTEM
    ).closed


@pytest.mark.parametrize("amount", ["1e30", "99999999999999999999.99", "NaN", "Infinity"])
def test_amounts_beyond_the_column_are_refused_before_any_arithmetic(amount):
    loan = active_loan(start=START)
    error = refused(
        LendingErrorCode.OUT_OF_RANGE if amount[0].isdigit() else LendingErrorCode.INVALID,
        "amount",
        repayment_post,
        loan_id=loan.pk,
        amount=amount,
        value_date=START,
        acting_user=SYSTEM,
    )
    if amount[0].isdigit():
        assert f"{MAX_AMOUNT:,}" in error.message


def test_the_loan_page_renders_the_largest_amounts_the_columns_hold(client, role_user):
    loan = active_loan(start=START)
    Loan.objects.filter(pk=loan.pk).update(credit_balance=MAX_AMOUNT)
    client.force_login(role_user(roles.ADMINISTRATOR))
    for name in ("admin:lending_loan_change", "admin:lending_loan_repay"):
        page = client.get(reverse(name, args=[loan.pk]))
        assert page.status_code == 200, name
    assert client.get(reverse("admin:lending_loan_changelist")).status_code == 200


# --- 3. quote --------------------------------------------------------------------------------

WHAT_IF = ["quote", "--method=equal_installment", "--rate=0.18", "--term=12", "--start=2026-01-15"]


def product_args(product, **override) -> list[str]:
    values = {"amount": "10000", "rate": "0.18", "term": "12", "start": "2026-01-15"}
    values.update(override)
    return ["quote", f"--product={product.code}", *(f"--{k}={v}" for k, v in values.items())]


def test_a_quote_for_1e30_names_the_amount_in_both_modes():
    product = ProductFactory()
    with pytest.raises(CommandError, match=r"^--amount: .*largest amount the book holds"):
        run(*WHAT_IF, "--amount=1e30")
    with pytest.raises(CommandError, match=r"^--amount: "):
        run(*product_args(product, amount="1e30"))


@pytest.mark.parametrize(("option", "flag"), [("start", "--start"), ("first-due", "--first-due")])
def test_a_quote_dated_in_year_9999_names_the_option(option, flag):
    product = ProductFactory()
    message = rf"^{flag}: 9999-12-31 is outside .*on or before 2199-12-31"
    with pytest.raises(CommandError, match=message):
        run(*product_args(product, **{option: FAR}))
    with pytest.raises(CommandError, match=message):
        run(*WHAT_IF, "--amount=10000", f"--{option}={FAR}")


def test_a_quote_for_a_first_due_date_too_far_away_names_the_option():
    product = ProductFactory(max_first_period_days=40)
    with pytest.raises(CommandError, match=r"^--first-due: .*at most 40 days"):
        run(*product_args(product, **{"first-due": "2026-02-25"}))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--term=361"], r"^--term: 361 months is outside 1–360"),
        (["--term=10000"], r"^--term: "),
        (["--rate=5"], r"^--rate: .*500.00 % a year, above the 100 %"),
        (["--rate=1.000001"], r"^--rate: "),
        (["--fee-rate=1"], r"^--fee-rate: "),
    ],
)
def test_a_what_if_quote_keeps_within_sane_limits(args, message):
    argv = ["quote", "--method=equal_installment", "--amount=10000", "--start=2026-01-15"]
    defaults = {"--rate": "0.18", "--term": "12"}
    given = {a.split("=")[0] for a in args}
    argv += [f"{k}={v}" for k, v in defaults.items() if k not in given] + args
    with pytest.raises(CommandError, match=message):
        run(*argv)


def test_a_what_if_quote_at_the_limits_is_answered():
    out = run(
        "quote",
        "--method=equal_principal",
        f"--amount={MAX_AMOUNT}",
        "--rate=1",
        "--term=360",
        "--start=2199-12-31",
    )
    assert "2229-12-31" in out  # the 360th month, day 31 clamped into December 2229


def test_an_empty_product_code_names_the_product():
    with pytest.raises(CommandError, match=r"^--product: no product with code ''"):
        run(
            "quote",
            "--product=",
            "--amount=10000",
            "--rate=0.18",
            "--term=12",
            "--start=2026-01-15",
        )


def quote_page(client, product, **override):
    values = {
        "product": product.pk,
        "amount": "10000",
        "rate": "0.18",
        "term": "12",
        "start_date": "2026-01-15",
    }
    values.update(override)
    return client.get(reverse("admin:lending_loanproduct_quote"), values)


@pytest.mark.parametrize("field", ["start_date", "first_due_date"])
def test_the_admin_quote_page_shows_a_far_date_on_its_field(client, role_user, field):
    client.force_login(role_user(roles.ADMINISTRATOR))
    page = quote_page(client, ProductFactory(), **{field: FAR})
    assert page.status_code == 200
    assert "2199-12-31" in page.context["form"].errors[field][0]
    assert page.context["quote"] is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"disbursement_date": FAR}, "disbursement_date"),
        ({"disbursement_date": "2026-01-15", "first_due_date": FAR}, "first_due_date"),
        ({"disbursement_date": "2026-01-15", "first_due_date": "2036-04-15"}, "first_due_date"),
    ],
)
def test_the_disburse_page_shows_a_far_date_on_its_field(client, role_user, data, field):
    loan = approved()
    client.force_login(role_user(roles.ADMINISTRATOR))
    before = footprint()
    page = client.post(reverse("admin:lending_loan_disburse", args=[loan.pk]), data)
    assert page.status_code == 200
    assert page.context["form"].errors[field]
    assert footprint() == before
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.APPROVED


def test_the_write_off_page_refuses_a_date_before_the_disbursement(client, role_user):
    loan = active_loan(start=START)
    client.force_login(role_user(roles.ADMINISTRATOR))
    before = footprint()
    page = client.post(
        reverse("admin:lending_loan_write_off", args=[loan.pk]),
        {"reason": "fraud", "value_date": "2026-01-14"},
    )
    assert page.status_code == 200
    assert "before the loan was disbursed" in page.context["form"].errors["value_date"][0]
    assert footprint() == before


# --- 4. reconcile -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["0", "-1"])
def test_reconcile_refuses_a_chunk_size_below_one(size):
    active_loan(start=START)
    with pytest.raises(
        CommandError, match=rf"^--chunk-size: {size} is not allowed: must be at least 1"
    ):
        run("reconcile", f"--chunk-size={size}")


def test_reconcile_with_a_chunk_of_one_still_compares_every_loan():
    active_loan(start=START)
    active_loan(start=START)
    assert "Reconciled 2 loans" in run("reconcile", "--chunk-size=1")


# --- 5. close_business_day dates ---------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--date", "--until"])
@pytest.mark.parametrize("value", ["", " ", "NaN", "-1", "1e30", "2026-10-16T00:00"])
def test_close_business_day_refuses_an_empty_or_garbage_date(flag, value):
    with pytest.raises(CommandError, match=rf"^{flag}: .* is not a date"):
        run("close_business_day", f"{flag}={value}")
    assert not BusinessDayRun.objects.exists()


@pytest.mark.parametrize("flag", ["--date", "--until"])
@pytest.mark.parametrize("value", [FAR, "1800-01-01"])
def test_close_business_day_refuses_a_date_beyond_the_calendar_it_works_with(flag, value):
    with pytest.raises(CommandError, match=rf"^{flag}: .*on or before 2199-12-31"):
        run("close_business_day", f"{flag}={value}")
    assert not BusinessDayRun.objects.exists()


@pytest.mark.parametrize("value", [FAR, "2199-12-31"])
def test_a_future_date_closes_none_of_the_missed_dates_before_refusing(value):
    """Before: `--date 9999-12-31` caught up every missed date up to today, then refused."""
    active_loan(start=date(2026, 9, 15))
    close_business_days(until=date(2026, 10, 16), acting_user=SYSTEM)
    assert timezone.localdate() > date(2026, 10, 18)  # there are missed dates to close
    with pytest.raises(CommandError, match=r"^--date: "):
        run("close_business_day", f"--date={value}")
    assert list(BusinessDayRun.objects.values_list("business_date", flat=True)) == [
        date(2026, 10, 16)
    ]


@pytest.mark.parametrize("size", ["0", "-1"])
def test_close_business_day_refuses_a_chunk_size_below_one(size):
    with pytest.raises(CommandError, match=r"^--chunk-size: "):
        run("close_business_day", "--date=2026-10-16", f"--chunk-size={size}")
    assert not BusinessDayRun.objects.exists()
