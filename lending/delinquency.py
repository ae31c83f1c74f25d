"""Days past due and delinquency buckets: pure, no Django (DESIGN §6).

The nightly close and the repayment service both call these, so a loan cured by a payment during
the day lands in the same bucket the night would have put it in.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

NPL_DPD = 90  # non-performing from 90 days past due


@dataclass(frozen=True)
class Bucket:
    code: str
    min_dpd: int
    max_dpd: int | None  # None: open-ended (the last bucket)


DEFAULT_BUCKETS = (
    Bucket("M0", 0, 0),
    Bucket("M1", 1, 30),
    Bucket("M2", 31, 60),
    Bucket("M3", 61, 90),
    Bucket("M4", 91, 120),
    Bucket("M5", 121, 150),
    Bucket("M6", 151, 180),
    Bucket("M7", 181, None),
)


def bucket_table_errors(buckets: Sequence[Bucket]) -> list[str]:
    """Why a bucket table is unusable: it must start at 0, be contiguous and end open."""
    errors = []
    ordered = sorted(buckets, key=lambda b: b.min_dpd)
    if not ordered:
        return ["the table needs at least one bucket"]
    codes = [b.code for b in ordered]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        errors.append(f"bucket code {code} is used more than once; codes must be unique")
    if ordered[0].min_dpd != 0:
        first = ordered[0]
        errors.append(f"the first bucket {first.code} must start at 0 dpd, not {first.min_dpd}")
    for bucket in ordered:
        if bucket.max_dpd is not None and bucket.max_dpd < bucket.min_dpd:
            errors.append(f"{bucket.code} ends ({bucket.max_dpd}) before it starts")
    for before, after in itertools.pairwise(ordered):
        if before.max_dpd is None:
            errors.append(f"{before.code} is open-ended but {after.code} follows it")
        elif after.min_dpd != before.max_dpd + 1:
            kind = "overlaps" if after.min_dpd <= before.max_dpd else "leaves a gap after"
            errors.append(f"{after.code} (from {after.min_dpd}) {kind} {before.code}")
    if ordered[-1].max_dpd is not None:
        errors.append(f"the last bucket {ordered[-1].code} must be open-ended")
    return errors


def bucket_for(dpd: int, buckets: Sequence[Bucket] = DEFAULT_BUCKETS) -> str:
    for bucket in buckets:
        if dpd >= bucket.min_dpd and (bucket.max_dpd is None or dpd <= bucket.max_dpd):
            return bucket.code
    raise ValueError(f"no bucket covers {dpd} dpd")


def days_past_due(
    *,
    oldest_unpaid_due: date | None,
    overdue_amount: Decimal,
    tolerance: Decimal,
    as_of: date,
) -> int:
    """as_of − the oldest unpaid due date, when what is overdue exceeds the arrears tolerance.

    Only installments due before `as_of` count: one due on `as_of` itself is not late yet.
    """
    if oldest_unpaid_due is None or oldest_unpaid_due >= as_of or overdue_amount <= tolerance:
        return 0
    return (as_of - oldest_unpaid_due).days
