"""Cell values as real spreadsheets hold them, parsed. No Django import.

Every parser takes what a CSV (text) or an XLSX (text, int, float, datetime, bool) gives and
returns a Python value, or raises `Problem` saying what was expected. Range rules (positive,
at most two decimals, not in the future) are the services' (lending.validation): a parser only
turns text into a value.
"""

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from imports.problems import Problem, Term, gettext_noop

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug included)
MAX_SERIAL = 109_574  # 2199-12-31, the last date the book works with (lending.validation)
CURRENCY_MARKS = ("人民币", "CNY", "RMB", "元", "¥")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE_PATTERNS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_TIME = re.compile(r"^(\d{1,2})[:时](\d{1,2})(?:分|:)?(?:(\d{1,2})(?:\.\d+)?秒?)?$")
_TRUE = {"1", "y", "yes", "true", "t", "是", "对", "接通", "已接通", "√", "✓"}
_FALSE = {"0", "n", "no", "false", "f", "否", "不", "未接通", "没接通", "×", "✗"}


def fold(value) -> str:
    """Text as compared and parsed: full-width letters, digits and punctuation folded to their
    ASCII forms (NFKC: "１２，３４５．６７" → "12,345.67", the ideographic space → " "),
    trimmed. None → ""."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def text(value) -> str:
    """A text cell trimmed, with runs of spaces inside made one (names, employers). A number
    Excel stored for a text column (an ID typed without a leading quote) is written whole."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is None:
        return ""
    return " ".join(str(value).split())


def identifier(value) -> str:
    """An identifier (national ID, reference, transaction id): folded, no spaces at all. A
    number a tool wrote from a float ("13800138000.0") is written whole."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    folded = "".join(fold(value).split())
    return folded.split(".")[0] if re.fullmatch(r"\d+\.0+", folded) else folded


def decimal(value, *, what: str = Term(gettext_noop("a number"))) -> Decimal:
    """A number from a cell: 12,345.67, ¥1,000, ￥1000元, CNY 500, "１２３．４５", 1000.5 (an XLSX
    float, taken as the shortest text that reads back the same)."""
    if isinstance(value, bool):
        raise Problem(gettext_noop("expected %(what)s, got %(value)s"), what=what, value=value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        if not number.is_finite():
            raise Problem(gettext_noop("expected %(what)s, got %(value)s"), what=what, value=value)
        return number
    raw = fold(value)
    cleaned = raw
    for mark in CURRENCY_MARKS:
        cleaned = cleaned.replace(mark, "").replace(mark.lower(), "")
    cleaned = "".join(cleaned.split())
    if _GROUPED.match(cleaned):
        cleaned = cleaned.replace(",", "")
    if not _PLAIN.match(cleaned):
        raise Problem(
            gettext_noop("expected %(what)s such as 1,234.56, got %(value)r"), what=what, value=raw
        )
    try:
        return Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise Problem(
            gettext_noop("expected %(what)s, got %(value)r"), what=what, value=raw
        ) from None


def amount(value) -> Decimal:
    return decimal(value, what=Term(gettext_noop("an amount")))


RATE = Term(gettext_noop("a rate"))


def rate(value) -> Decimal:
    """An annual rate as a fraction: 0.18, or with a percent sign 18% / 18 % / 18％ → 0.18."""
    raw = fold(value) if isinstance(value, str) else value
    if isinstance(raw, str) and raw.endswith("%"):
        return decimal(raw[:-1], what=RATE) / 100
    return decimal(raw, what=RATE)


def integer(value, *, what: str = Term(gettext_noop("a whole number"))) -> int:
    """A whole number: 12, 12.0 (XLSX), "12", "12期", "12个月", "3次"."""
    if isinstance(value, str):
        value = re.sub(r"(期|个月|月|次|个)$", "", fold(value))
    number = decimal(value, what=what)
    if number != number.to_integral_value():
        raise Problem(gettext_noop("expected %(what)s, got %(value)s"), what=what, value=number)
    return int(number)


def boolean(value) -> bool:
    """Yes or no: 是/否, Y/N, yes/no, true/false, 1/0, 接通/未接通, an XLSX boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    folded = fold(value).casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise Problem(gettext_noop("expected yes or no (是/否), got %(value)r"), value=fold(value))


def serial_date(serial: float) -> date:
    """An Excel date serial (1900 date system) as a date."""
    if not 1 <= serial <= MAX_SERIAL:
        raise Problem(
            gettext_noop("expected a date such as 2024-10-28, got the number %(value)s"),
            value=serial,
        )
    return EXCEL_EPOCH + timedelta(days=int(serial))


def _date_from_text(raw: str) -> date:
    for pattern in _DATE_PATTERNS:
        match = pattern.match(raw)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise Problem(
                    gettext_noop("%(value)r is not a date that exists"), value=raw
                ) from None
    raise Problem(
        gettext_noop(
            "expected a date such as 2024-10-28, 2024/10/28, 2024年10月28日 or 20241028, "
            "got %(value)r"
        ),
        value=raw,
    )


def parse_date(value) -> date:
    """A date from a cell: an XLSX date, an Excel serial (45593), or the text forms
    2024-10-28, 2024/10/28, 2024.10.28, 2024年10月28日, 20241028 (a midnight time after it,
    as exports write dates, is allowed)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise Problem(gettext_noop("expected a date, got %(value)s"), value=value)
    if isinstance(value, int | float):
        if isinstance(value, int) and 19000101 <= value <= 21991231:
            return _date_from_text(str(value))
        return serial_date(value)
    raw = fold(value)
    head, _, tail = raw.partition(" ")
    if tail and re.fullmatch(r"0{1,2}:00(:00(\.0+)?)?", tail.strip()):
        raw = head
    if re.fullmatch(r"\d{1,6}(\.\d+)?", raw):
        return serial_date(float(raw))
    return _date_from_text(raw)


def parse_datetime(value) -> datetime:
    """A date and time: an XLSX date-time, an Excel serial with a fraction, or text
    "2024-10-28 14:30[:05]", "2024/10/28 14:30", "2024年10月28日 14时30分", ISO 8601 with
    or without an offset. Naive unless the text carries an offset."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        day = serial_date(value)
        seconds = round((value - int(value)) * 86400)
        return datetime.combine(day, time()) + timedelta(seconds=seconds)
    raw = fold(value)
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        pass
    match = re.match(r"^(.*?日|\S+)\s*(\d{1,2}[:时].*)$", raw)
    if not match:
        raise Problem(
            gettext_noop("expected a date and time such as 2024-10-28 14:30, got %(value)r"),
            value=raw,
        )
    day = _date_from_text(match.group(1).strip())
    clock = _TIME.match(match.group(2).strip())
    if not clock:
        raise Problem(
            gettext_noop("expected a date and time such as 2024-10-28 14:30, got %(value)r"),
            value=raw,
        )
    hour, minute, second = (int(g or 0) for g in clock.groups())
    try:
        return datetime.combine(day, time(hour, minute, second))
    except ValueError:
        raise Problem(gettext_noop("%(value)r is not a time that exists"), value=raw) from None


def choice(value, options: dict[str, str], *, what: str) -> str:
    """One of a set of values: `options` maps every accepted spelling (the stored value, its
    English and Chinese labels) to the stored value; compared folded and case-blind."""
    folded = fold(value).casefold()
    lookup = {fold(k).casefold(): v for k, v in options.items()}
    if folded in lookup:
        return lookup[folded]
    allowed = ", ".join(dict.fromkeys(options.values()))
    raise Problem(
        gettext_noop("expected %(what)s: one of %(allowed)s, got %(value)r"),
        what=what,
        allowed=allowed,
        value=fold(value),
    )
