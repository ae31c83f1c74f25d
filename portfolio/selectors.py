"""Reads for the dashboard. History comes from the snapshots and the bucket history, never a
scan of every loan: the page costs the same on a book of a thousand loans or a million."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from debt_collection import kpis
from lending.models import BucketChange, BusinessDayRun, Loan, LoanStatus
from lending.money import quantize_money
from lending.services.delinquency import bucket_table
from portfolio.models import PortfolioSnapshot, SnapshotBucket, SnapshotVintage
from portfolio.vintage import Cohort, VintageCell, add_months, vintage_curves

DISBURSED = (LoanStatus.ACTIVE, LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF)
BAD_DPD = 30  # vintage curves count loans that reached 30+ days past due


def latest_snapshot() -> PortfolioSnapshot | None:
    return PortfolioSnapshot.objects.order_by("-business_date").first()


def as_of_date() -> date:
    """The date the dashboard describes: the last snapshot's, else yesterday."""
    snapshot = latest_snapshot()
    return snapshot.business_date if snapshot else timezone.localdate() - timedelta(days=1)


def outstanding_by_bucket(snapshot: PortfolioSnapshot | None = None) -> list[SnapshotBucket]:
    """The buckets of the latest snapshot (the book as the last night left it), in order."""
    snapshot = snapshot or latest_snapshot()
    if snapshot is None:
        return []
    return list(snapshot.buckets.order_by("position"))


def overdue_rate_history(*, until: date, days: int = 365) -> list[PortfolioSnapshot]:
    return list(
        PortfolioSnapshot.objects.filter(
            business_date__gt=until - timedelta(days=days), business_date__lte=until
        ).order_by("business_date")
    )


def roll_rates(*, until: date, months: int = 6):
    """Month over month roll rates by bucket: collections' own (debt_collection.kpis)."""
    return kpis.roll_rates(until=until, months=months)


def bad_bucket_codes() -> list[str]:
    """The buckets wholly past 30 dpd, as configured (M2 and later by default)."""
    return [b.code for b in bucket_table(checked=False) if b.min_dpd > BAD_DPD]


# The vintage curves every snapshot stores (the dashboard's).
VINTAGE_MONTHS = 12
VINTAGE_MAX_MOB = 12


def vintages(*, as_of: date) -> list[VintageCell]:
    """The vintage curves as of a date: the cells its snapshot stored (a few hundred rows,
    whatever the book), else counted from the loans and their bucket history."""
    stored = SnapshotVintage.objects.filter(snapshot__business_date=as_of).order_by(
        "vintage", "mob"
    )
    cells = [
        VintageCell(f"{c.vintage:%Y-%m}", c.mob, c.loans, c.bad_loans, c.principal, c.bad_principal)
        for c in stored
    ]
    return cells or count_vintages(as_of=as_of)


def count_vintages(
    *, as_of: date, months: int = VINTAGE_MONTHS, max_mob: int = VINTAGE_MAX_MOB
) -> list[VintageCell]:
    """Vintage curves for the loans disbursed in the `months` months before `as_of`'s month:
    cohort sizes by one grouped statement, the loans that went bad by another (0.5 s at
    200,000 loans: the night stores them, `services.portfolio_snapshot`)."""
    first = add_months(as_of.replace(day=1), -months)
    loans = Loan.objects.filter(status__in=DISBURSED, start_date__gte=first, start_date__lte=as_of)
    cohorts = {
        row["vintage"]: Cohort(row["loans"], quantize_money(row["principal"] or 0))
        for row in loans.annotate(vintage=TruncMonth("start_date"))
        .values("vintage")
        .annotate(loans=Count("pk"), principal=Sum("principal"))
    }
    bad = (
        BucketChange.objects.filter(
            to_bucket__in=bad_bucket_codes(),
            business_date__lte=as_of,
            # The cohorts' conditions on the one join the figures need (a `loan__in` subquery
            # joined the loans twice: 1.2 s → 1.0 s at a million loans).
            loan__status__in=DISBURSED,
            loan__start_date__gte=first,
            loan__start_date__lte=as_of,
        )
        .values("loan_id", "loan__start_date", "loan__principal")
        .annotate(first=Min("business_date"))
        .values_list("loan__start_date", "loan__principal", "first")
    )
    return vintage_curves(cohorts, bad, as_of=as_of, max_mob=max_mob)


def collections_summary(*, as_of: date) -> dict:
    """The collections KPIs in a few figures (debt_collection.kpis)."""
    by_bucket = kpis.open_cases_by_bucket()
    cure = kpis.cure_rate(since=as_of - timedelta(days=29), until=as_of)
    promises = kpis.promises()
    return {
        "open_cases": sum(row["cases"] for row in by_bucket),
        "open_overdue": sum((row["overdue"] for row in by_bucket), Decimal(0)),
        "cure_cases": cure.cases,
        "cured": cure.cured,
        "cure_rate": cure.rate,
        "promises_pending": promises["pending"],
        "promises_kept": promises["kept"],
        "promises_broken": promises["broken"],
        "kept_rate": promises["kept_rate"],
    }


def recent_nights(limit: int = 14) -> list[BusinessDayRun]:
    return list(BusinessDayRun.objects.order_by("-business_date")[:limit])[::-1]
