"""The nightly roll-count step: the bucket history counted once per night (kpis.roll_counts)
and stored, so the pages that show roll rates read a few dozen rows (kpis.roll_rates)."""

from datetime import date

from debt_collection.kpis import STORED_ROLL_MONTHS, roll_counts
from debt_collection.models import RollCount


def roll_counts_store(*, business_date: date) -> dict:
    """Book-level, after every step that moves a bucket; a re-run night replaces its rows."""
    counts = roll_counts(until=business_date, months=STORED_ROLL_MONTHS)
    RollCount.objects.filter(business_date=business_date).delete()
    RollCount.objects.bulk_create(
        RollCount(
            business_date=business_date, month_end=end, from_bucket=here, to_bucket=there, loans=n
        )
        for (end, here, there), n in counts.items()
    )
    return {"roll_counts": len(counts)}
