"""Checks on user input shared by services, selectors, the admin and commands."""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lending.errors import LendingError, LendingErrorCode
from lending.money import minor_unit, quantize_money
from lending.schedules import RepaymentMethod, regular_first_due_date

# What the book can hold (DESIGN §4, §10). Every amount column is DecimalField(max_digits=18,
# decimal_places=2): anything larger cannot be stored, and 1e30 cannot even be rounded to the
# cent in Decimal's default 28-digit context (decimal.InvalidOperation). Refused at the door.
MAX_AMOUNT = Decimal("9999999999999999.99")
# Dates a user may give. Python's dates end in 9999, and a schedule adds up to MAX_TERM_MONTHS
# to its start (`schedules.add_months`), so 9999-12-31 overflows ("year 10000"). 2199 leaves
# room for the longest schedule and is far beyond any real contract; 1900 is before any.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)
# The longest term any schedule is built for: 30 years, a mortgage's; the products of this
# book stop at a few years, and a what-if beyond it is a typing error, not a question.
MAX_TERM_MONTHS = 360
# A what-if quote has no product ceiling, so it gets a sanity ceiling of 100 % a year: China's
# courts do not protect more than 4 × the one-year LPR (about 12 %) and the platform's own caps are
# 24 % / 36 % all-in, so a higher figure is almost always a percent typed as a fraction (18 for
# 0.18). Between 36 % and 100 % the quote still answers: it shows what an illegal price costs.
WHAT_IF_MAX_RATE = Decimal("1")
# Product defaults for the bounds a product sets (LoanProduct.max_first_period_days and
# max_overpayment); what-if quotes, which have no product, use the first.
# Two months: room for a loan paid out just after the borrower's chosen due day of the month.
DEFAULT_MAX_FIRST_PERIOD_DAYS = 62
MAX_FIRST_PERIOD_DAYS = 366
DEFAULT_MAX_OVERPAYMENT = Decimal("1000.00")


def _decimal(value, *, field: str, what: str) -> Decimal:
    """`value` as a finite Decimal, or a LendingError naming the field (NaN, inf, text)."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite():
        raise LendingError(
            LendingErrorCode.INVALID,
            _("%(value)r is not %(what)s") % {"value": value, "what": what},
            field=field,
        )
    return number


# Translated when an error shows them, not on every amount parsed (a batch parses thousands).
AN_AMOUNT, A_RATE = gettext_lazy("an amount"), gettext_lazy("a rate")


def parse_amount(value, *, field: str, currency: str = "CNY") -> Decimal:
    """A positive amount in whole minor units, at most MAX_AMOUNT, or a LendingError naming
    the field."""
    amount = _decimal(value, field=field, what=AN_AMOUNT)
    if amount <= 0:
        raise LendingError(LendingErrorCode.INVALID, _("must be greater than zero"), field=field)
    if amount > MAX_AMOUNT:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("%(amount)s is more than the largest amount the book holds (%(max)s)")
            % {"amount": amount, "max": f"{MAX_AMOUNT:,}"},
            field=field,
        )
    if amount != quantize_money(amount, currency):
        raise LendingError(
            LendingErrorCode.INVALID,
            _("has more decimal places than the currency allows (%(unit)s)")
            % {"unit": minor_unit(currency)},
            field=field,
        )
    return amount


def check_loan_terms(
    *, product, principal: Decimal, annual_rate: Decimal, term_months: int
) -> None:
    def out_of_range(field: str, what: str, low, high) -> LendingError:
        return LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("%(what)s is outside product %(product)s's range %(low)s–%(high)s")
            % {"what": what, "product": product.code, "low": low, "high": high},
            field=field,
        )

    check_term(term_months, field="term")
    if not product.min_amount <= principal <= product.max_amount:
        what = _("amount %(value)s") % {"value": principal}
        raise out_of_range("amount", what, product.min_amount, product.max_amount)
    if not product.min_rate <= annual_rate <= product.max_rate:
        what = _("rate %(value)s") % {"value": annual_rate}
        raise out_of_range("rate", what, product.min_rate, product.max_rate)
    if not product.min_term_months <= term_months <= product.max_term_months:
        what = _("term %(value)s") % {"value": term_months}
        raise out_of_range("term", what, product.min_term_months, product.max_term_months)


def check_date(value: date, *, field: str) -> date:
    """A date within MIN_DATE–MAX_DATE: what schedules and day counts can compute with."""
    if not isinstance(value, date):
        raise LendingError(
            LendingErrorCode.INVALID, _("%(value)r is not a date") % {"value": value}, field=field
        )
    if not MIN_DATE <= value <= MAX_DATE:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _(
                "%(value)s is outside the dates the book works with: dates must be on or "
                "after %(min)s and on or before %(max)s"
            )
            % {"value": value, "min": MIN_DATE, "max": MAX_DATE},
            field=field,
        )
    return value


def check_not_future(value: date, *, field: str, today: date | None = None) -> date:
    """Money is posted on dates that have happened: the business date is at most today
    (`today`: the caller's, read once for a batch)."""
    check_date(value, field=field)
    if value > (today or timezone.localdate()):
        raise LendingError(LendingErrorCode.INVALID, _("is in the future"), field=field)
    return value


def check_first_due_date(
    first_due_date: date | None,
    *,
    start_date: date,
    term_months: int,
    method: str,
    max_first_period_days: int,
    field: str = "first_due_date",
) -> date | None:
    """A chosen first due date lies after the start and at most `max_first_period_days` after
    it — or, when the regular first due date is later still (a single payment over several
    months), at most on that date: a long first period charges interest nobody priced. Call
    with a start date and a term already checked (check_date, check_term)."""
    if first_due_date is None:
        return None
    check_date(first_due_date, field=field)
    if first_due_date <= start_date:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("%(date)s is not after the disbursement date %(start)s")
            % {"date": first_due_date, "start": start_date},
            field=field,
        )
    regular = regular_first_due_date(start_date, term_months, RepaymentMethod(method))
    latest = max(start_date + timedelta(days=max_first_period_days), regular)
    if first_due_date > latest:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _(
                "%(date)s is too far after the disbursement date %(start)s: a first due date "
                "may be at most %(days)s days after it (at the latest %(latest)s)"
            )
            % {
                "date": first_due_date,
                "start": start_date,
                "days": max_first_period_days,
                "latest": latest,
            },
            field=field,
        )
    return first_due_date


def check_term(value, *, field: str = "term", maximum: int = MAX_TERM_MONTHS) -> int:
    """A whole number of months, 1 to `maximum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LendingError(
            LendingErrorCode.INVALID,
            _("%(value)r is not a whole number of months") % {"value": value},
            field=field,
        )
    if not 1 <= value <= maximum:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("%(value)s months is outside 1–%(max)s months") % {"value": value, "max": maximum},
            field=field,
        )
    return value


def check_what_if_rate(rate: Decimal, *, field: str = "rate") -> Decimal:
    """A what-if rate at most WHAT_IF_MAX_RATE (see there why)."""
    if rate > WHAT_IF_MAX_RATE:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _(
                "%(rate)s is %(percent)s %% a year, above the %(max)s %% a what-if quote "
                "allows (give rates as fractions: 0.18 for 18 %%)"
            )
            % {
                "rate": rate,
                "percent": f"{rate * 100:.2f}",
                "max": f"{WHAT_IF_MAX_RATE * 100:.0f}",
            },
            field=field,
        )
    return rate


def check_count(value, *, field: str, minimum: int = 1, maximum: int | None = None) -> int:
    """A whole number within bounds (chunk sizes, how many borrowers a demo makes)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LendingError(
            LendingErrorCode.INVALID,
            _("%(value)r is not a whole number") % {"value": value},
            field=field,
        )
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is None:
            message = _("%(value)s is not allowed: must be at least %(min)s")
        else:
            message = _("%(value)s is not allowed: must be between %(min)s and %(max)s")
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            message % {"value": value, "min": minimum, "max": maximum},
            field=field,
        )
    return value


# Seeds feed scikit-learn and NumPy as well as `random`: they take 0 to 2**32 − 1.
MAX_SEED = 2**32 - 1


def check_seed(value, *, field: str = "seed") -> int:
    return check_count(value, field=field, minimum=0, maximum=MAX_SEED)


def clean_text(value: str, *, field: str, max_length: int, required: bool = False) -> str:
    """Trimmed text that fits its column; a required one must not be blank."""
    text = (value or "").strip()
    if required and not text:
        raise LendingError(LendingErrorCode.REQUIRED, _("give a reason"), field=field)
    if "\x00" in text:  # PostgreSQL text cannot hold it: a command or import would fail late
        raise LendingError(
            LendingErrorCode.INVALID, _("must not contain NUL characters"), field=field
        )
    if len(text) > max_length:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("is %(length)s characters long; at most %(max)s are allowed")
            % {"length": len(text), "max": max_length},
            field=field,
        )
    return text


def parse_rate(value, *, field: str) -> Decimal:
    """An annual rate as a fraction (0.18 = 18 %), 0 ≤ rate < 10, at most six decimals."""
    rate = _decimal(value, field=field, what=A_RATE)
    if rate < 0 or rate >= 10:
        raise LendingError(
            LendingErrorCode.INVALID, _("must be a fraction such as 0.18 for 18 %"), field=field
        )
    if rate != rate.quantize(Decimal("0.000001")):
        raise LendingError(
            LendingErrorCode.INVALID, _("has more than six decimal places"), field=field
        )
    return rate
