"""Reads the admin, API and commands share: quotes, payoff figures, loan lists, borrower lookup."""

from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from lending.allocation import PayoffQuote
from lending.errors import LendingError, LendingErrorCode, translated
from lending.identity import IdentityError, normalize_mobile, parse_national_id
from lending.models import Borrower, Installment, Loan, LoanProduct, LoanStatus
from lending.models.loans import INSTALLMENT_OUTSTANDING
from lending.money import ZERO
from lending.pii import pii_digest
from lending.pricing import origination_fee
from lending.schedules import (
    DayCount,
    FeeCollection,
    Quote,
    RepaymentMethod,
    ScheduleError,
    ScheduleTerms,
    quote,
)
from lending.services.ledger import loan_installments, payoff_for
from lending.validation import (
    DEFAULT_MAX_FIRST_PERIOD_DAYS,
    check_date,
    check_first_due_date,
    check_loan_terms,
    check_term,
    check_what_if_rate,
    parse_amount,
    parse_rate,
)


def _quote(*, fee_field: str = "fee", **terms) -> Quote:
    try:
        return quote(ScheduleTerms(**terms))
    except ScheduleError as exc:
        field = fee_field if exc.field == "fee" else exc.field
        raise LendingError(LendingErrorCode.INVALID, translated(exc), field=field) from None


def _not_one_of(value, choices, field: str) -> LendingError:
    return LendingError(
        LendingErrorCode.INVALID,
        _("%(value)r is not one of %(allowed)s")
        % {"value": value, "allowed": ", ".join(c.value for c in choices)},
        field=field,
    )


def product_quote(
    *,
    product: LoanProduct,
    amount,
    annual_rate,
    term_months: int,
    start_date: date,
    first_due_date: date | None = None,
) -> Quote:
    """What a borrower sees before signing: schedule, APR and cost of credit on a product."""
    amount = parse_amount(amount, field="amount", currency=product.currency)
    annual_rate = parse_rate(annual_rate, field="rate")
    check_loan_terms(
        product=product, principal=amount, annual_rate=annual_rate, term_months=term_months
    )
    check_date(start_date, field="start_date")
    check_first_due_date(
        first_due_date,
        start_date=start_date,
        term_months=term_months,
        method=product.repayment_method,
        max_first_period_days=product.max_first_period_days,
    )
    return _quote(
        principal=amount,
        annual_rate=annual_rate,
        term_months=term_months,
        start_date=start_date,
        method=RepaymentMethod(product.repayment_method),
        day_count=DayCount(product.day_count),
        origination_fee=product.origination_fee_for(amount),
        fee_collection=FeeCollection(product.fee_collection),
        first_due_date=first_due_date,
        currency=product.currency,
    )


def what_if_quote(
    *,
    amount,
    annual_rate,
    term_months: int,
    start_date: date,
    method: str,
    day_count: str = DayCount.ACT_360.value,
    fee_rate=Decimal(0),
    first_due_date: date | None = None,
) -> Quote:
    """A quote without a product: any method, day count and upfront percent fee, within the
    bounds any loan keeps (validation: amount, term, a sanity ceiling on the rate, dates, the
    default longest first period)."""
    amount = parse_amount(amount, field="amount")
    annual_rate = check_what_if_rate(parse_rate(annual_rate, field="rate"), field="rate")
    check_term(term_months, field="term")
    fee_rate = parse_rate(fee_rate, field="fee_rate")
    if fee_rate >= 1:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("a fee of %(percent)s %% leaves nothing to pay out: it must be below 1 (0.02 = 2 %%)")
            % {"percent": f"{fee_rate * 100:.2f}"},
            field="fee_rate",
        )
    try:
        method = RepaymentMethod(method)
    except ValueError:
        raise _not_one_of(method, RepaymentMethod, "method") from None
    try:
        day_count = DayCount(day_count)
    except ValueError:
        raise _not_one_of(day_count, DayCount, "day_count") from None
    check_date(start_date, field="start_date")
    check_first_due_date(
        first_due_date,
        start_date=start_date,
        term_months=term_months,
        method=method,
        max_first_period_days=DEFAULT_MAX_FIRST_PERIOD_DAYS,
    )
    return _quote(
        fee_field="fee_rate",
        principal=amount,
        annual_rate=annual_rate,
        term_months=term_months,
        start_date=start_date,
        method=method,
        day_count=day_count,
        origination_fee=origination_fee("percent", fee_rate, amount, "CNY"),
        first_due_date=first_due_date,
    )


def loan_payoff_quote(loan: Loan, as_of: date) -> PayoffQuote:
    """The amount that closes an active loan on `as_of` (interest only to that date)."""
    return payoff_for(loan, loan_installments(loan), as_of)


def loans_for_list() -> QuerySet[Loan]:
    return Loan.objects.select_related("borrower", "product")


def active_loans() -> QuerySet[Loan]:
    return Loan.objects.filter(status=LoanStatus.ACTIVE)


def borrower_find(*, identifier: str) -> list[Borrower]:
    """Borrowers whose national ID or mobile is exactly `identifier` (typed as staff paste it),
    found through the keyed hash: the value itself is never searched for or logged."""
    identifier = "".join(str(identifier or "").split())
    try:
        digest, field = pii_digest(parse_national_id(identifier).number), "national_id_digest"
    except IdentityError:
        try:
            digest, field = pii_digest(normalize_mobile(identifier)), "mobile_digest"
        except IdentityError:
            raise LendingError(
                LendingErrorCode.INVALID,
                _("enter a full 18-character national ID or an 11-digit mobile number"),
                field="identifier",
            ) from None
    return list(Borrower.objects.filter(**{field: digest}))


def overdue_filter(as_of) -> Q:
    """An installment overdue as of a date (or an expression such as OuterRef("dpd_as_of")):
    due before it and not settled. The night's measure, the collections case's overdue amount
    and the overdue export all read it from here."""
    return Q(due_date__lt=as_of, settled_on__isnull=True)


def overdue_amounts(loan_ids, as_of: date) -> dict[int, object]:
    """Everything overdue per loan as of a date."""
    rows = (
        Installment.objects.filter(overdue_filter(as_of), loan_id__in_array=list(loan_ids))
        .values("loan_id")
        .annotate(amount=Sum(INSTALLMENT_OUTSTANDING))
        .values_list("loan_id", "amount")
    )
    return {loan_id: amount or ZERO for loan_id, amount in rows}
