"""Keeping a loan's dpd and bucket current, and recording every bucket move."""

from datetime import date
from decimal import Decimal

from django.db.models import Q

from lending.close_of_business.bulk import new_instance
from lending.delinquency import (
    DEFAULT_BUCKETS,
    Bucket,
    bucket_for,
    bucket_table_errors,
    days_past_due,
)
from lending.models import BucketChange, BusinessDayRun, DelinquencyBucket, Installment, Loan
from lending.money import ZERO

UNREAD = object()


def last_closed_or_read(last_closed) -> date | None:
    """The last closed business date as the caller already read it (a posting reads it once
    and passes it on: it cannot change inside the posting's transaction), or read now."""
    return BusinessDayRun.objects.last_closed_date() if last_closed is UNREAD else last_closed


def bucket_table(*, checked: bool = True) -> tuple[Bucket, ...]:
    """The buckets staff configured, or the defaults when none exist.

    The admin validates the table on every save and delete; it is checked again here because a
    table edited some other way with a gap would leave loans in no bucket: the night stops with
    the reason instead of leaving their dpd stale.
    """
    rows = DelinquencyBucket.objects.order_by("min_dpd").values_list("code", "min_dpd", "max_dpd")
    table = tuple(Bucket(*row) for row in rows) or DEFAULT_BUCKETS
    errors = bucket_table_errors(table) if checked else []
    if errors:
        raise ValueError("the delinquency bucket table is unusable: " + "; ".join(errors))
    return table


def delinquent_bucket_codes() -> list[str]:
    """Every bucket but the first (the current one), as configured — unchecked, for finding
    loans: the night validates the table itself and fails with the reason."""
    codes = list(DelinquencyBucket.objects.order_by("min_dpd").values_list("code", flat=True))
    return (codes or [bucket.code for bucket in DEFAULT_BUCKETS])[1:]


def may_be_late(business_date: date) -> Q:
    """Loans that can be overdue on the date, found through indexes (`dpd` has none): an unpaid
    installment due before it, or already in a delinquent bucket in case a change outside the
    services left the next due date ahead. Callers check dpd on the rows this finds."""
    return Q(next_due_date__lt=business_date) | Q(bucket__in=delinquent_bucket_codes())


def bucket_move(
    loan: Loan, business_date: date, to_bucket: str, dpd: int, overdue: Decimal
) -> BucketChange:
    """The record of a loan leaving its bucket (unsaved: the night inserts them in bulk). Roll
    rates and vintage curves are built from these rows."""
    return new_instance(
        BucketChange,
        loan=loan,
        business_date=business_date,
        from_bucket=loan.bucket,
        to_bucket=to_bucket,
        dpd=dpd,
        overdue_amount=overdue if dpd else ZERO,
    )


def overdue_position(installments: list[Installment], as_of: date) -> tuple[date | None, Decimal]:
    """The oldest unpaid due date before `as_of`, and everything overdue on it."""
    late = [i for i in installments if i.due_date < as_of and i.outstanding > 0]
    if not late:
        return None, ZERO
    return min(i.due_date for i in late), sum((i.outstanding for i in late), ZERO)


def loan_refresh_delinquency(
    loan: Loan, installments: list[Installment], *, recorded_on: date, last_closed=UNREAD
) -> BucketChange | None:
    """Recompute dpd and bucket after money moved during the day (the loan is locked).

    dpd is measured as of the last closed business date — for every loan, not only the ones the
    night looked at: a payment reversed today on a loan the night skipped (it was paid up) makes
    it overdue now, not tomorrow. A payment that clears the arrears returns the loan to the first
    bucket at once.
    """
    last_closed = last_closed_or_read(last_closed)
    if last_closed is None and loan.dpd_as_of is None:
        return None  # no night has closed yet: dpd is not measured before the first one
    change, moved = delinquency_update(
        loan,
        installments,
        recorded_on=recorded_on,
        last_closed=last_closed,
        table=bucket_table(checked=False),
    )
    if change is not None:
        change.save()
    if moved:
        loan.save(update_fields=DELINQUENCY_FIELDS)
    return change


DELINQUENCY_FIELDS = ["dpd", "bucket", "dpd_as_of", "updated_at"]


def delinquency_update(
    loan: Loan,
    installments: list[Installment],
    *,
    recorded_on: date,
    last_closed: date | None,
    table: tuple[Bucket, ...],
) -> tuple[BucketChange | None, bool]:
    """loan_refresh_delinquency in memory: the bucket move to record (unsaved) and whether the
    loan's dpd fields changed (set on `loan`, not saved)."""
    measured = [last_closed, loan.dpd_as_of]
    if not any(measured):
        return None, False
    as_of = max(day for day in measured if day)
    oldest, amount = overdue_position(installments, as_of)
    dpd = days_past_due(
        oldest_unpaid_due=oldest,
        overdue_amount=amount,
        tolerance=loan.arrears_tolerance,
        as_of=as_of,
    )
    try:
        bucket = bucket_for(dpd, table)
    except ValueError:
        # A table broken outside the admin must not refuse the borrower's money: keep the
        # bucket; the night stops with the reason until the table is mended.
        bucket = loan.bucket
    change = None
    if bucket != loan.bucket:
        change = bucket_move(loan, recorded_on, bucket, dpd, amount)
    if (dpd, bucket, as_of) == (loan.dpd, loan.bucket, loan.dpd_as_of):
        return change, False
    loan.dpd, loan.bucket, loan.dpd_as_of = dpd, bucket, as_of
    return change, True
