"""How money, rates, counts and dates read on screen, in the active language: the one place.

Amounts are quantized by `lending.money` (never float) and grouped with the language's
separators (config/formats: a comma every three digits in English and Chinese alike); rates are
annual fractions shown as percentages (0.240000 → "24.00 %", "24.00%" in Chinese). Everything
is rounded with `lending.money.ROUNDING` (half up) before it is grouped. Dates use
Django's formats for the language (Oct. 16, 2026 / 2026年10月16日). Templates use the filters in
`lending.templatetags.lending_format`, admin columns `lending.admin.columns` (docs/i18n.md).
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.utils import formats, numberformat, timezone
from django.utils.translation import get_language

from lending.money import MINOR_UNITS, ROUNDING, quantize_money, to_decimal

# The symbol written before an amount when the currency is asked for.
SYMBOLS = {"CNY": "¥", "HKD": "HK$", "USD": "$", "EUR": "€", "JPY": "JP¥", "KRW": "₩"}
RATE_PLACES = 2
HUNDRED = Decimal(100)


def _group(value: Decimal, places: int) -> str:
    # Django cuts the digits past `places` off: the callers round first.
    return numberformat.format(
        value,
        formats.get_format("DECIMAL_SEPARATOR"),
        decimal_pos=places,
        grouping=formats.get_format("NUMBER_GROUPING"),
        thousand_sep=formats.get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
        use_l10n=True,
    )


def money(amount, currency: bool | str = False) -> str:
    """1,234.50, or with the currency ¥1,234.50 (`currency=True` is the book's; a code names
    another). An empty amount is empty text; a float is refused (TypeError), like everywhere."""
    if amount is None or amount == "":
        return ""
    code = settings.CURRENCY if currency is True or not currency else currency
    value = quantize_money(to_decimal(amount), code)
    text = _group(abs(value), MINOR_UNITS[code])
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(code, f"{code} ") if currency else ""
    return f"{sign}{symbol}{text}"


def rate(fraction, places: int = RATE_PLACES) -> str:
    """A fraction as a percentage, half up: 0.240000 → "24.00 %" (Chinese: "24.00%"),
    0.123450 → "12.35 %"."""
    if fraction is None or fraction == "":
        return ""
    text = number(to_decimal(fraction) * HUNDRED, places)
    return f"{text}%" if _is_chinese() else f"{text} %"


def count(value) -> str:
    """A whole number with the language's grouping: 12,345."""
    return number(value, 0)


def number(value, places: int = 0) -> str:
    """A quantity that is neither money nor a rate (seconds, say), to `places` decimals, half
    up, with the language's grouping: 1,234.5."""
    if value is None or value == "":
        return ""
    return _group(to_decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUNDING), places)


def local_date(value: dt.date | None) -> str:
    """A date in the language's format: Oct. 16, 2026 / 2026年10月16日."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return formats.date_format(value, "DATE_FORMAT")


def local_datetime(value: dt.datetime | None) -> str:
    """A moment in the server's time zone, in the language's format."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATETIME_FORMAT")


def _is_chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")
