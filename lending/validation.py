"""Checks on user input shared by services, selectors, the admin and commands."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from lending.errors import LendingError, LendingErrorCode
from lending.money import minor_unit, quantize_money


def parse_amount(value, *, field: str, currency: str = "CNY") -> Decimal:
    """A positive amount in whole minor units, or a LendingError naming the field."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise LendingError(
            LendingErrorCode.INVALID, f"{value!r} is not an amount", field=field
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise LendingError(LendingErrorCode.INVALID, "must be greater than zero", field=field)
    if amount != quantize_money(amount, currency):
        raise LendingError(
            LendingErrorCode.INVALID,
            f"has more decimal places than the currency allows ({minor_unit(currency)})",
            field=field,
        )
    return amount


def check_loan_terms(
    *, product, principal: Decimal, annual_rate: Decimal, term_months: int
) -> None:
    def out_of_range(field: str, what: str, low, high) -> LendingError:
        return LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            f"{what} is outside product {product.code}'s range {low}–{high}",
            field=field,
        )

    if not product.min_amount <= principal <= product.max_amount:
        raise out_of_range("amount", f"amount {principal}", product.min_amount, product.max_amount)
    if not product.min_rate <= annual_rate <= product.max_rate:
        raise out_of_range("rate", f"rate {annual_rate}", product.min_rate, product.max_rate)
    if not product.min_term_months <= term_months <= product.max_term_months:
        raise out_of_range(
            "term", f"term {term_months}", product.min_term_months, product.max_term_months
        )


def check_not_future(value: date, *, field: str) -> date:
    """Money is posted on dates that have happened: the business date is at most today."""
    if value > timezone.localdate():
        raise LendingError(LendingErrorCode.INVALID, "is in the future", field=field)
    return value


def clean_text(value: str, *, field: str, max_length: int, required: bool = False) -> str:
    """Trimmed text that fits its column; a required one must not be blank."""
    text = (value or "").strip()
    if required and not text:
        raise LendingError(LendingErrorCode.REQUIRED, "give a reason", field=field)
    if len(text) > max_length:
        raise LendingError(
            LendingErrorCode.INVALID,
            f"is {len(text)} characters long; at most {max_length} are allowed",
            field=field,
        )
    return text


def parse_rate(value, *, field: str) -> Decimal:
    """An annual rate as a fraction (0.18 = 18 %), 0 ≤ rate < 10, at most six decimals."""
    try:
        rate = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise LendingError(
            LendingErrorCode.INVALID, f"{value!r} is not a rate", field=field
        ) from None
    if not rate.is_finite() or rate < 0 or rate >= 10:
        raise LendingError(
            LendingErrorCode.INVALID, "must be a fraction such as 0.18 for 18 %", field=field
        )
    if rate != rate.quantize(Decimal("0.000001")):
        raise LendingError(
            LendingErrorCode.INVALID, "has more than six decimal places", field=field
        )
    return rate
