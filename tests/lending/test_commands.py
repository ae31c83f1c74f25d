"""The quote and reconcile commands as scripts and operators use them."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lending.models import Installment
from tests.factories import ProductFactory
from tests.lending.loan_helpers import active_loan


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_what_if_quote_json_has_the_stable_shape_and_published_figures():
    out = run(
        "quote",
        "--method",
        "equal_installment",
        "--amount",
        "10000",
        "--rate",
        "0.18",
        "--term",
        "12",
        "--start",
        "2026-01-15",
        "--json",
    )
    quote = json.loads(out)
    assert set(quote) == {
        "installments",
        "apr",
        "effective_annual_rate",
        "total_interest",
        "total_fees",
        "total_cost",
    }
    first = quote["installments"][0]
    assert set(first) == {
        "seq",
        "due_date",
        "principal",
        "interest",
        "fee",
        "total",
        "balance_after",
    }
    assert first == {
        "seq": 1,
        "due_date": "2026-02-15",
        "principal": "766.80",
        "interest": "150.00",
        "fee": "0.00",
        "total": "916.80",
        "balance_after": "9233.20",
    }
    assert quote["apr"] == "0.1800"
    assert quote["total_interest"] == "1001.61"
    assert quote["total_cost"] == "1001.61"


def test_what_if_fee_raises_apr_and_total_cost():
    quote = json.loads(
        run(
            "quote",
            "--method",
            "equal_installment",
            "--amount",
            "10000",
            "--rate",
            "0.18",
            "--term",
            "12",
            "--start",
            "2026-01-15",
            "--fee-rate",
            "0.02",
            "--json",
        )
    )
    assert Decimal(quote["apr"]) > Decimal("0.18")
    assert quote["total_fees"] == "200.00"
    assert quote["total_cost"] == "1201.61"


@pytest.mark.django_db
def test_product_quote_uses_the_product_and_refuses_out_of_range_amounts():
    ProductFactory(code="phone12", max_amount=Decimal("50000.00"))
    quote = json.loads(
        run(
            "quote",
            "--product",
            "phone12",
            "--amount",
            "10000",
            "--rate",
            "0.18",
            "--term",
            "12",
            "--start",
            "2026-01-15",
            "--json",
        )
    )
    assert quote["installments"][0]["total"] == "916.80"
    with pytest.raises(CommandError, match="--amount: amount 90000 is outside"):
        run(
            "quote",
            "--product",
            "phone12",
            "--amount",
            "90000",
            "--rate",
            "0.18",
            "--term",
            "12",
            "--start",
            "2026-01-15",
        )
    with pytest.raises(CommandError, match="--product: no product with code 'nope'"):
        run(
            "quote",
            "--product",
            "nope",
            "--amount",
            "1000",
            "--rate",
            "0.18",
            "--term",
            "12",
            "--start",
            "2026-01-15",
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amount", "-5"], "--amount: must be greater than zero"),
        (["--amount", "10.001"], "--amount: has more decimal places"),
        (["--rate", "abc"], "--rate: 'abc' is not a rate"),
        (["--start", "2026-02-30"], "--start: '2026-02-30' is not a date"),
        (["--first-due", "soon"], "--first-due: 'soon' is not a date"),
    ],
)
def test_quote_bad_input_names_the_flag(args, message):
    base = {"--amount": "1000", "--rate": "0.18", "--start": "2026-01-15"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = ["quote", "--method", "equal_principal", "--term", "12"]
    for flag, value in base.items():
        argv += [flag, value]
    with pytest.raises(CommandError, match=message):
        run(*argv)


def test_quote_table_shows_apr_in_percent():
    out = run(
        "quote",
        "--method",
        "equal_installment",
        "--amount",
        "10000",
        "--rate",
        "0.18",
        "--term",
        "12",
        "--start",
        "2026-01-15",
    )
    assert "APR 18.00 %" in out
    assert "916.81" in out  # the last installment absorbs the rounding


@pytest.mark.django_db
def test_reconcile_reports_a_tampered_balance_and_repairs_it():
    loan = active_loan()
    assert "0 difference(s)" in run("reconcile")
    Installment.objects.filter(loan=loan, seq=2).update(interest_due=Decimal("1.00"))
    with pytest.raises(SystemExit) as exit_info:
        run("reconcile")
    assert exit_info.value.code == 1
    out = run("reconcile", "--repair")
    assert f"{loan.reference} installment #2: interest_due is 1.00, transactions say 138.50" in out
    assert Installment.objects.get(loan=loan, seq=2).interest_due == Decimal("138.50")
    assert "0 difference(s)" in run("reconcile")


@pytest.mark.django_db
def test_reconcile_unknown_loan_reference_is_an_error():
    with pytest.raises(CommandError, match="--loan: no loan with reference LN404"):
        run("reconcile", "--loan", "LN404")
