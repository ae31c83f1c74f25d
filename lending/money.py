"""Money arithmetic: the one place amounts are rounded (DESIGN §4). No Django import.

Amounts are Decimal, never float. `quantize_money` rounds to the currency's minor unit; every
other module calls it instead of rounding itself. One rounding mode for every figure the
project rounds, `ROUNDING` (half up, away from zero: 0.005 → 0.01, 0.03125 → 0.0313): money,
stored rates, shares (`share`) and the percentages shown (`lending.formatting.rate`).
docs/dashboard.md says why.
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor units for the currencies a book may be kept in.
MINOR_UNITS = {"CNY": 2, "HKD": 2, "USD": 2, "EUR": 2, "JPY": 0, "KRW": 0}
DEFAULT_CURRENCY = "CNY"
ZERO = Decimal("0")
RATE_PLACES = Decimal("0.000001")
SHARE_PLACES = Decimal("0.0001")  # a share to four places is a percentage to two: 12.35 %
ROUNDING = ROUND_HALF_UP


def minor_unit(currency: str = DEFAULT_CURRENCY) -> Decimal:
    try:
        places = MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"unknown currency {currency!r}") from None
    return Decimal(1).scaleb(-places)


def quantize_money(amount: Decimal | int | str, currency: str = DEFAULT_CURRENCY) -> Decimal:
    """Round to the currency's minor unit, half up (0.005 -> 0.01)."""
    return to_decimal(amount).quantize(minor_unit(currency), rounding=ROUNDING)


def to_multiple(amount: Decimal, unit: Decimal, *, up: bool = False) -> Decimal:
    """A multiple of `unit`: the largest not above `amount` (60,150 → 60,100 for 100), or with
    `up` the smallest not below it; then the money form. Limits round down, so a rounded limit
    never exceeds what the rules allow."""
    rounding = ROUND_CEILING if up else ROUND_FLOOR
    return quantize_money((amount / unit).to_integral_value(rounding=rounding) * unit)


def quantize_rate(rate: Decimal) -> Decimal:
    """Rates are stored with six places (0.180000 = 18 %)."""
    return to_decimal(rate).quantize(RATE_PLACES, rounding=ROUNDING)


def share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """`part` ÷ `whole` to four places, half up (1 of 32 → 0.0313); None when `whole` is nil
    (no loan to be a share of: shown as a dash, never as 0 %)."""
    if not whole:
        return None
    return (to_decimal(part) / to_decimal(whole)).quantize(SHARE_PLACES, rounding=ROUNDING)


def to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal or a string")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"not a number: {value!r}") from None


def money_str(amount: Decimal) -> str:
    """Fixed-point text for JSON and messages: never exponent notation."""
    return format(amount, "f")
