"""The nightly snapshot on a small book: its figures to the cent, a re-run that changes
nothing, and the backfill that rebuilds the same figures from the ledger."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from lending.access import SYSTEM
from lending.errors import LendingError
from lending.models import AuditEvent
from portfolio.models import PortfolioSnapshot, SnapshotBucket, SnapshotSource
from portfolio.services import portfolio_snapshot, snapshot_backfill
from tests.lending.test_close_of_business import close, close_each
from tests.portfolio.books import LATE_NIGHT, START, small_book

pytestmark = pytest.mark.django_db

FIELDS = (
    "active_loans",
    "principal_outstanding",
    "total_outstanding",
    "overdue_loans",
    "overdue_principal",
    "overdue_amount",
    "overdue_rate",
    "disbursed_loans",
    "disbursed_principal",
)


def figures(day: date) -> dict:
    snapshot = PortfolioSnapshot.objects.get(business_date=day)
    buckets = {
        b.bucket: (b.loans, b.principal_outstanding, b.total_outstanding, b.overdue_amount)
        for b in snapshot.buckets.all()
    }
    return {**{f: getattr(snapshot, f) for f in FIELDS}, "buckets": buckets}


def test_the_night_writes_the_books_figures():
    book = small_book()
    close(LATE_NIGHT)
    a, b, c = (book[k] for k in "abc")
    for loan in (a, b, c):
        loan.refresh_from_db()
    late = a.installments.get(seq=1)
    b_principal = Decimal("6000.00") - b.installments.get(seq=1).principal_due
    snap = figures(LATE_NIGHT)

    assert snap["active_loans"] == 3
    assert snap["disbursed_loans"] == 1
    assert snap["disbursed_principal"] == Decimal("3000.00")
    assert snap["principal_outstanding"] == Decimal("13000.00") + b_principal
    assert snap["overdue_loans"] == 1
    assert snap["overdue_principal"] == Decimal("10000.00")
    # Everything past due and unpaid: A's first installment (with its first day's penalty).
    assert snap["overdue_amount"] == late.outstanding > 0
    expected_rate = (Decimal("10000") / (Decimal("13000") + b_principal)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )
    assert snap["overdue_rate"] == expected_rate
    assert snap["buckets"]["M1"][:2] == (1, Decimal("10000.00"))
    assert snap["buckets"]["M1"][3] == late.outstanding
    assert snap["buckets"]["M0"][:2] == (2, Decimal("3000.00") + b_principal)
    assert snap["buckets"]["M0"][2] == b.total_outstanding + c.total_outstanding
    assert snap["buckets"]["M2"] == (0, 0, 0, 0)
    assert snap["total_outstanding"] == sum(x.total_outstanding for x in (a, b, c))
    run_steps = list(PortfolioSnapshot.objects.values_list("source", flat=True))
    assert run_steps == [SnapshotSource.NIGHT]


def test_running_the_step_again_keeps_one_snapshot_with_the_same_figures():
    small_book()
    close(LATE_NIGHT)
    before = figures(LATE_NIGHT)
    portfolio_snapshot(business_date=LATE_NIGHT)
    portfolio_snapshot(business_date=LATE_NIGHT)
    assert figures(LATE_NIGHT) == before
    assert PortfolioSnapshot.objects.count() == 1
    assert SnapshotBucket.objects.count() == 8  # one per bucket of the default table


def test_the_backfill_rebuilds_what_the_nights_wrote():
    small_book()
    last = LATE_NIGHT + timedelta(days=4)
    close_each(LATE_NIGHT, last)
    nights = {
        LATE_NIGHT + timedelta(days=n): figures(LATE_NIGHT + timedelta(days=n)) for n in range(5)
    }
    written = snapshot_backfill(acting_user=SYSTEM, start=LATE_NIGHT, end=last, replace=True)
    assert written == 5
    for day, night in nights.items():
        assert figures(day) == night, day
    assert set(PortfolioSnapshot.objects.values_list("source", flat=True)) == {
        SnapshotSource.BACKFILL
    }


def test_the_backfill_fills_dates_before_the_first_night_and_keeps_the_nights():
    small_book()
    close(LATE_NIGHT)
    night = figures(LATE_NIGHT)
    written = snapshot_backfill(acting_user=SYSTEM, start=START, end=LATE_NIGHT)
    assert written == (LATE_NIGHT - START).days  # every date but the night's own
    assert figures(LATE_NIGHT) == night
    opening = figures(START)
    assert opening["active_loans"] == 2
    assert opening["disbursed_loans"] == 2
    assert opening["disbursed_principal"] == Decimal("16000.00")
    assert opening["principal_outstanding"] == Decimal("16000.00")
    # The due date itself is not late yet: nothing overdue on 15 September.
    due_day = figures(date(2026, 9, 15))
    assert due_day["overdue_amount"] == 0
    assert due_day["overdue_rate"] == 0
    assert due_day["buckets"]["M0"][0] == 2
    event = AuditEvent.objects.get(action="portfolio.backfill")
    assert event.data["start"] == START.isoformat()


def test_the_backfill_refuses_bad_dates_naming_the_field_and_writes_nothing(role_user):
    small_book()
    with pytest.raises(LendingError) as refused:
        snapshot_backfill(acting_user=SYSTEM, start=LATE_NIGHT, end=START)
    assert refused.value.field == "end"
    with pytest.raises(LendingError) as refused:
        snapshot_backfill(acting_user=SYSTEM, start=START, end=date.today() + timedelta(days=1))
    assert refused.value.field == "end"
    from lending import roles

    with pytest.raises(LendingError) as refused:
        snapshot_backfill(
            acting_user=role_user(roles.COLLECTIONS_MANAGER), start=START, end=LATE_NIGHT
        )
    assert refused.value.code == "permission_denied"
    assert not PortfolioSnapshot.objects.exists()
