"""The nightly close of business (DESIGN §6): overdue flagging, penalty accrual, order of dates,
catch-up, chunk failures and retries, repayments between nights, and the management command.

Loans are disbursed on 2026-09-15, so the first installment (principal 766.80, interest 150.00 on
a 10,000 loan at 18 %) falls due on 2026-10-15; each test closes only a handful of dates around
it. Every figure is worked out by hand in the comments next to it.
"""

import contextlib
import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lending.access import SYSTEM
from lending.allocation import Parts
from lending.close_of_business import registry
from lending.close_of_business.registry import register_step
from lending.close_of_business.runner import (
    RUN_COUNTS,
    AlreadyClosed,
    business_day_begin,
    business_day_finish,
    business_day_run_chunk,
    close_business_days,
)
from lending.errors import LendingError, LendingErrorCode
from lending.models import (
    BucketChange,
    BusinessDayRun,
    ChunkStatus,
    Installment,
    Loan,
    RunStatus,
    Transaction,
    TransactionKind,
)
from lending.services.reconcile import reconcile_loans
from lending.services.repayments import repayment_post, repayment_reverse
from tests.factories import ProductFactory
from tests.lending.loan_helpers import active_loan, lines_of

pytestmark = pytest.mark.django_db

D = Decimal
SEP_15 = date(2026, 9, 15)
DUE = date(2026, 10, 15)  # first due date of a loan disbursed on SEP_15
FIRST_INSTALLMENT = D("916.80")  # 766.80 principal + 150.00 interest
JSON_KEYS = {
    "business_date",
    "status",
    "loans_examined",
    "installments_newly_overdue",
    "loans_newly_overdue",
    "loans_cured",
    "bucket_moves",
    "accruals_posted",
    "accrual_total",
    "loans_capped",
    "seconds",
}


def oct_(day: int) -> date:
    return date(2026, 10, day)


def close(business_date: date, **kwargs) -> BusinessDayRun:
    """Close one date (the next in order, or the first ever) and return its run."""
    runs = close_business_days(until=business_date, acting_user=SYSTEM, **kwargs)
    assert [r.business_date for r in runs] == [business_date]
    assert runs[0].status == RunStatus.DONE, runs[0].error
    return BusinessDayRun.objects.get(pk=runs[0].pk)


def close_each(first: date, last: date) -> dict[date, BusinessDayRun]:
    runs = {}
    day = first
    while day <= last:
        runs[day] = close(day)
        day += timedelta(days=1)
    return runs


def accruals(loan) -> list[tuple[date, Decimal]]:
    return list(
        Transaction.objects.filter(loan=loan, kind=TransactionKind.PENALTY_ACCRUAL)
        .order_by("value_date")
        .values_list("value_date", "penalty")
    )


def assert_one_accrual_per_loan_day() -> None:
    doubles = (
        Transaction.objects.filter(kind=TransactionKind.PENALTY_ACCRUAL)
        .values("loan_id", "value_date")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not doubles.exists(), list(doubles)


def assert_reconciles() -> None:
    report = reconcile_loans(acting_user=SYSTEM)
    assert report.clean, [str(d) for d in report.differences]


def first_installment(loan) -> Installment:
    return Installment.objects.get(loan=loan, seq=1)


def command(*args) -> str:
    out = StringIO()
    call_command("close_business_day", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


class _Rollback(Exception):
    """Raised inside transaction.atomic() to undo everything done in it."""


def rolled_back(work):
    """Run `work()` in a savepoint that is always rolled back; return what it returned."""
    result = []
    with contextlib.suppress(_Rollback), transaction.atomic():
        result.append(work())
        raise _Rollback
    return result[0]


@pytest.fixture
def temporary_step():
    """Register close-of-business steps for one test; they are removed afterwards."""
    added = []

    def add(name, func, *, position, chunked=True):
        register_step(name, func, position=position, chunked=chunked)
        added.append(name)

    yield add
    for name in added:
        registry._steps.pop(name, None)


# 1. Overdue flagging ------------------------------------------------------------------------


def test_due_today_is_not_late_and_the_day_after_is_one_dpd_in_m1():
    late = active_loan(start=SEP_15)
    on_time = active_loan(start=SEP_15)
    repayment_post(loan_id=on_time.pk, amount="916.80", value_date=DUE, acting_user=SYSTEM)
    not_yet_due = active_loan(start=date(2026, 9, 20))  # first due 2026-10-20

    run = close(DUE)
    late.refresh_from_db()
    assert (late.dpd, late.bucket, late.dpd_as_of) == (0, "M0", DUE)
    assert not BucketChange.objects.exists()
    # Only loans due or overdue are examined: the one paid on time now falls due 2026-11-15.
    assert (run.loans_examined, run.loans_newly_overdue, run.bucket_moves) == (1, 0, 0)
    assert (run.installments_newly_overdue, run.accruals_posted) == (0, 0)
    assert run.accrual_total == D("0.00")

    run = close(oct_(16))
    late.refresh_from_db()
    assert (late.dpd, late.bucket, late.dpd_as_of) == (1, "M1", oct_(16))
    change = BucketChange.objects.get()
    assert change.loan_id == late.pk
    assert (change.business_date, change.from_bucket, change.to_bucket, change.dpd) == (
        oct_(16),
        "M0",
        "M1",
        1,
    )
    assert change.overdue_amount == FIRST_INSTALLMENT  # flagged before that night's penalty
    assert run.loans_examined == 1
    assert run.loans_newly_overdue == 1
    assert run.installments_newly_overdue == 1
    assert run.bucket_moves == 1
    assert run.loans_cured == 0
    for other in (on_time, not_yet_due):
        other.refresh_from_db()
        assert (other.dpd, other.bucket, other.dpd_as_of) == (0, "M0", None)

    run = close(oct_(17))
    late.refresh_from_db()
    assert (late.dpd, late.bucket) == (2, "M1")
    assert BucketChange.objects.count() == 1  # still M1: no move
    assert (run.loans_newly_overdue, run.installments_newly_overdue, run.bucket_moves) == (0, 0, 0)


def test_an_arrear_within_the_tolerance_is_not_overdue():
    product = ProductFactory(arrears_tolerance=D("1.00"))
    # 916.80 due; what is left unpaid: 0.80 and 1.00 are tolerated, 1.01 is not.
    left_080 = active_loan(start=SEP_15, product=product)
    left_100 = active_loan(start=SEP_15, product=product)
    left_101 = active_loan(start=SEP_15, product=product)
    # The product drops its tolerance after booking: the loans keep the one they were booked with.
    product.arrears_tolerance = D("0.00")
    product.save()
    for loan, paid in ((left_080, "916.00"), (left_100, "915.80"), (left_101, "915.79")):
        repayment_post(loan_id=loan.pk, amount=paid, value_date=DUE, acting_user=SYSTEM)

    close(DUE)
    run = close(oct_(16))

    for loan in (left_080, left_100):
        loan.refresh_from_db()
        assert (loan.dpd, loan.bucket, loan.dpd_as_of) == (0, "M0", oct_(16))
        assert first_installment(loan).penalty_accrued == 0
    left_101.refresh_from_db()
    assert (left_101.dpd, left_101.bucket) == (1, "M1")
    change = BucketChange.objects.get()
    assert (change.loan_id, change.overdue_amount) == (left_101.pk, D("1.01"))
    assert (run.loans_examined, run.loans_newly_overdue, run.bucket_moves) == (3, 1, 1)
    assert run.installments_newly_overdue == 1
    # Penalty on 1.01 principal: 1.01 × 0.27 / 360 = 0.0007575, kept exactly (as the penalty
    # × 360: 1.01 × 0.27 × 1 day = 0.2727), rounds to 0.00.
    installment = first_installment(left_101)
    assert installment.penalty_accrued == D("0.2727")
    assert installment.penalty_due == D("0.00")
    assert installment.penalty_accrued_through == oct_(16)
    assert accruals(left_101) == []
    assert (run.accruals_posted, run.accrual_total) == (0, D("0.00"))


# 2. Penalty, by hand to the cent -------------------------------------------------------------


# Installment 1: principal 766.80, interest 150.00, due 2026-10-15; contract rate 18 %; ACT/360.
# The last figure is the exact accrual kept, Σ base × rate × days (the penalty × 360).
PENALTY_CASES = {
    # 1.5 × 18 % = 27 %: 766.80 × 0.27 / 360 = 0.5751 a day from the due date.
    # exact 0.5751, 1.1502, 1.7253, 2.3004, 2.8755 → rounded 0.58, 1.15, 1.73, 2.30, 2.88.
    "contract_multiple": (
        {},
        {16: "0.58", 17: "0.57", 18: "0.58", 19: "0.57", 20: "0.58"},
        "1035.18",  # 766.80 × 0.27 × 5 days (2.8755 × 360)
    ),
    # Base principal + interest: 916.80 × 0.27 / 360 = 0.6876 a day:
    # exact 0.6876, 1.3752, 2.0628, 2.7504, 3.4380 → 0.69, 1.38, 2.06, 2.75, 3.44.
    "principal_and_interest": (
        {"penalty_base": "overdue_principal_interest"},
        {16: "0.69", 17: "0.69", 18: "0.68", 19: "0.69", 20: "0.69"},
        "1237.68",  # 916.80 × 0.27 × 5 days (3.438 × 360)
    ),
    # Absolute 36 %: 766.80 × 0.36 / 360 = 0.7668 a day; 3 days' grace, counted from the due
    # date once exceeded: nothing on the 16th–18th, on the 19th 4 days (3.0672 → 3.07),
    # on the 20th 3.8340 → 3.83, i.e. 0.76 more.
    "grace_from_due_date": (
        {
            "penalty_rate_type": "absolute",
            "penalty_rate_value": D("0.36"),
            "grace_days": 3,
            "penalty_start": "due_date",
        },
        {19: "3.07", 20: "0.76"},
        "1380.24",  # 766.80 × 0.36 × 5 days (3.834 × 360)
    ),
    # The same counted from the end of grace: 0.7668 → 0.77, then 1.5336 → 1.53, i.e. 0.76.
    "grace_from_grace_end": (
        {
            "penalty_rate_type": "absolute",
            "penalty_rate_value": D("0.36"),
            "grace_days": 3,
            "penalty_start": "grace_end",
        },
        {19: "0.77", 20: "0.76"},
        "552.096",  # 766.80 × 0.36 × 2 days (1.5336 × 360)
    ),
}


def test_penalty_is_accrued_to_the_cent_once_per_loan_and_day():
    loans = {
        name: active_loan(start=SEP_15, **product_fields)
        for name, (product_fields, _, _) in PENALTY_CASES.items()
    }
    runs = close_each(DUE, oct_(20))

    for name, (_, expected, accrued) in PENALTY_CASES.items():
        loan = loans[name]
        posted = {day: D(amount) for day, amount in expected.items()}
        assert accruals(loan) == [(oct_(day), amount) for day, amount in posted.items()], name
        total = sum(posted.values(), D(0))
        installment = first_installment(loan)
        assert installment.penalty_accrued == D(accrued), name
        assert installment.penalty_due == total, name
        assert installment.penalty_accrued_through == oct_(20), name
        loan.refresh_from_db()
        assert loan.penalty_outstanding == total, name
        assert (loan.dpd, loan.bucket) == (5, "M1"), name
        # Every accrual is one line, on the overdue installment; the next one gets nothing.
        lines = Transaction.objects.filter(
            loan=loan, kind=TransactionKind.PENALTY_ACCRUAL
        ).values_list("lines__installment__seq", "lines__penalty", "penalty")
        assert all(seq == 1 and line == txn for seq, line, txn in lines), name
        assert not Installment.objects.filter(loan=loan, seq__gt=1, penalty_due__gt=0).exists()

    for day in range(16, 21):
        run = runs[oct_(day)]
        amounts = [D(case[1][day]) for case in PENALTY_CASES.values() if day in case[1]]
        assert (run.accruals_posted, run.accrual_total) == (len(amounts), sum(amounts)), day
        assert run.loans_examined == 4
        assert run.loans_capped == 0
    assert runs[DUE].accruals_posted == 0
    assert_one_accrual_per_loan_day()
    assert_reconciles()


def test_penalty_stops_at_the_all_in_cost_cap_the_loan_was_booked_with():
    product = ProductFactory(cost_cap_value=D("0.100261"))
    loan = active_loan(start=SEP_15, product=product)
    interest = Installment.objects.filter(loan=loan).aggregate(s=Sum("interest_due"))["s"]
    assert interest == D("1001.61")
    # Cap 10,000 × 10.0261 % × 365/365 = 1002.61: exactly 1.00 left for penalty.
    # The product is edited after booking (a 36 % cap): the loan keeps the cap it was booked
    # with (DESIGN §5); only a loan booked after the edit has the room of the new one.
    product.cost_cap_value = D("0.36")
    product.save()
    booked_after = active_loan(start=SEP_15, product=product)
    loan.refresh_from_db()
    assert (loan.cost_cap_type, loan.cost_cap_value) == ("fixed", D("0.100261"))
    assert booked_after.cost_cap_value == D("0.36")

    close(DUE)
    first, second, third = close(oct_(16)), close(oct_(17)), close(oct_(18))

    # 0.58 fits; the next 0.57 does not: only the 0.42 left is posted, then nothing.
    assert accruals(loan) == [(oct_(16), D("0.58")), (oct_(17), D("0.42"))]
    assert accruals(booked_after) == [
        (oct_(16), D("0.58")),
        (oct_(17), D("0.57")),
        (oct_(18), D("0.58")),
    ]
    assert [(r.accruals_posted, r.loans_capped) for r in (first, second, third)] == [
        (2, 0),
        (2, 1),
        (1, 1),
    ]
    installment = first_installment(loan)
    assert installment.penalty_due == D("1.00")
    # no fraction carried past the cap: the accrual is what was posted, 1.00 × 360
    assert installment.penalty_accrued == D("360.00")
    loan.refresh_from_db()
    assert loan.penalty_outstanding == D("1.00")
    assert_reconciles()


# 3. Order of dates ----------------------------------------------------------------------------


def test_rerunning_a_closed_date_posts_nothing_and_says_so():
    loan = active_loan(start=SEP_15)
    close(DUE)
    closed = close(oct_(16))

    def state():
        loan.refresh_from_db()
        return (
            Transaction.objects.count(),
            BucketChange.objects.count(),
            list(BusinessDayRun.objects.values_list("business_date", "status", "attempts")),
            list(Installment.objects.values_list("pk", "penalty_accrued", "penalty_due")),
            (loan.dpd, loan.bucket, loan.dpd_as_of, loan.penalty_outstanding),
        )

    before = state()
    with pytest.raises(AlreadyClosed) as raised:
        business_day_begin(business_date=oct_(16), acting_user=SYSTEM)
    assert raised.value.code == LendingErrorCode.OUT_OF_ORDER
    assert raised.value.message == "2026-10-16 is already closed; nothing was posted"
    assert raised.value.run.pk == closed.pk
    with pytest.raises(AlreadyClosed):
        close_business_days(until=oct_(16), acting_user=SYSTEM)
    assert "2026-10-16 is already closed; nothing was posted." in command("--date", "2026-10-16")
    summary = json.loads(command("--date", "2026-10-16", "--json"))
    assert summary["already_closed"] is True
    assert summary["posted"] == "nothing"
    assert (summary["business_date"], summary["status"]) == ("2026-10-16", "done")
    assert (summary["accruals_posted"], summary["accrual_total"]) == (1, "0.58")
    assert state() == before


def test_a_date_before_the_last_closed_one_is_refused():
    active_loan(start=SEP_15)
    close(DUE)
    close(oct_(16))
    runs_before = BusinessDayRun.objects.count()

    with pytest.raises(LendingError) as raised:
        business_day_begin(business_date=oct_(14), acting_user=SYSTEM)
    assert raised.value.code == LendingErrorCode.OUT_OF_ORDER
    assert "before the last closed date 2026-10-16" in raised.value.message
    with pytest.raises(LendingError) as raised:
        close_business_days(until=oct_(14), acting_user=SYSTEM)
    assert not isinstance(raised.value, AlreadyClosed)
    assert raised.value.code == LendingErrorCode.OUT_OF_ORDER
    with pytest.raises(CommandError, match=r"^--date: 2026-10-14 is before the last closed"):
        command("--date", "2026-10-14")
    assert BusinessDayRun.objects.count() == runs_before


def test_skipping_ahead_is_refused_but_catch_up_closes_day_by_day():
    loan = active_loan(start=SEP_15)
    close(DUE)
    close(oct_(16))
    transactions_before = Transaction.objects.count()

    with pytest.raises(LendingError) as raised:
        business_day_begin(business_date=oct_(18), acting_user=SYSTEM)
    assert raised.value.code == LendingErrorCode.OUT_OF_ORDER
    assert "close 2026-10-17 first" in raised.value.message
    assert not BusinessDayRun.objects.filter(business_date=oct_(18)).exists()
    assert Transaction.objects.count() == transactions_before

    runs = close_business_days(until=oct_(19), acting_user=SYSTEM)
    assert [(r.business_date, r.status) for r in runs] == [
        (oct_(17), "done"),
        (oct_(18), "done"),
        (oct_(19), "done"),
    ]
    loan.refresh_from_db()
    assert (loan.dpd, loan.bucket, loan.dpd_as_of) == (4, "M1", oct_(19))
    assert accruals(loan) == [
        (oct_(16), D("0.58")),
        (oct_(17), D("0.57")),
        (oct_(18), D("0.58")),
        (oct_(19), D("0.57")),
    ]
    # 766.80 × 0.27 × 4 days = 828.144 (the penalty 4 × 0.5751 = 2.3004, × 360)
    assert first_installment(loan).penalty_accrued == D("828.144")


def test_a_date_that_has_not_ended_or_a_second_start_is_refused():
    active_loan(start=SEP_15)
    today = timezone.localdate()
    with pytest.raises(LendingError) as raised:
        business_day_begin(business_date=today, acting_user=SYSTEM)
    assert raised.value.code == LendingErrorCode.OUT_OF_ORDER
    assert "has not ended yet" in raised.value.message
    assert not BusinessDayRun.objects.exists()

    close(DUE)
    business_day_begin(business_date=oct_(16), acting_user=SYSTEM)  # left running
    with pytest.raises(LendingError) as raised:
        business_day_begin(business_date=oct_(16), acting_user=SYSTEM)
    assert raised.value.code == LendingErrorCode.RUN_IN_PROGRESS
    with pytest.raises(LendingError) as raised:
        close_business_days(until=oct_(17), acting_user=SYSTEM)
    assert raised.value.code == LendingErrorCode.RUN_IN_PROGRESS
    assert BusinessDayRun.objects.filter(business_date=oct_(16)).count() == 1
    assert not BusinessDayRun.objects.filter(business_date=oct_(17)).exists()


# 4. One by one equals catching up -----------------------------------------------------------


def book_snapshot() -> dict:
    return {
        "loans": sorted(
            Loan.objects.values_list(
                "pk",
                "dpd",
                "bucket",
                "dpd_as_of",
                "next_due_date",
                "principal_outstanding",
                "interest_outstanding",
                "penalty_outstanding",
            )
        ),
        "installments": sorted(
            Installment.objects.values_list(
                "pk",
                "penalty_accrued",
                "penalty_due",
                "penalty_settled",
                "penalty_accrued_through",
                "settled_on",
            )
        ),
        "accruals": sorted(
            Transaction.objects.filter(kind=TransactionKind.PENALTY_ACCRUAL).values_list(
                "loan_id", "value_date", "penalty", "lines__installment_id", "lines__penalty"
            )
        ),
        "moves": sorted(
            BucketChange.objects.values_list(
                "loan_id", "business_date", "from_bucket", "to_bucket", "dpd", "overdue_amount"
            )
        ),
        "runs": list(
            BusinessDayRun.objects.order_by("business_date").values_list(
                "business_date", "status", *RUN_COUNTS
            )
        ),
    }


loan_specs = st.fixed_dictionaries(
    {
        "first_due_day": st.sampled_from([13, 14, 15]),
        # Paid on the due date out of 916.80: nothing, part, or all but a tolerated 0.80.
        "paid": st.sampled_from([None, "500.00", "916.00"]),
        "grace_days": st.integers(0, 3),
        "rate": st.sampled_from([("contract_multiple", D("1.5")), ("absolute", D("0.36"))]),
        "penalty_base": st.sampled_from(["overdue_principal", "overdue_principal_interest"]),
        "penalty_start": st.sampled_from(["due_date", "grace_end"]),
    }
)


@settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(loan_specs, min_size=1, max_size=3), nights=st.integers(2, 5))
def test_closing_day_by_day_equals_catching_up_in_one_call(specs, nights):
    baseline = oct_(12)  # before any due date: the first date closed
    dates = [baseline + timedelta(days=n) for n in range(1, nights + 1)]

    def example():
        for spec in specs:
            rate_type, rate_value = spec["rate"]
            loan = active_loan(
                start=date(2026, 9, spec["first_due_day"]),
                arrears_tolerance=D("1.00"),
                grace_days=spec["grace_days"],
                penalty_rate_type=rate_type,
                penalty_rate_value=rate_value,
                penalty_base=spec["penalty_base"],
                penalty_start=spec["penalty_start"],
            )
            if spec["paid"]:
                repayment_post(
                    loan_id=loan.pk,
                    amount=spec["paid"],
                    value_date=oct_(spec["first_due_day"]),
                    acting_user=SYSTEM,
                )
        close(baseline)

        def one_by_one():
            for day in dates:
                close(day)
            return book_snapshot()

        def catch_up():
            runs = close_business_days(until=dates[-1], acting_user=SYSTEM)
            assert [r.business_date for r in runs] == dates
            return book_snapshot()

        each, at_once = rolled_back(one_by_one), rolled_back(catch_up)
        assert [run[:2] for run in each["runs"]] == [(day, "done") for day in [baseline, *dates]]
        assert each == at_once
        assert_one_accrual_per_loan_day()

    rolled_back(example)  # the next example starts from an empty book again


# 5. Chunks that fail ----------------------------------------------------------------------------


def three_overdue_loans():
    loans = [active_loan(start=SEP_15) for _ in range(3)]
    close(DUE)
    return loans


def test_a_chunk_that_fails_once_is_retried_and_posts_once(temporary_step):
    loans = three_overdue_loans()
    calls = []

    def flaky(*, business_date, loan_ids):
        calls.append(list(loan_ids))
        if len(calls) == 1:
            raise RuntimeError("worker lost")
        return {}

    temporary_step("test_flaky", flaky, position=990)
    run = close(oct_(16), chunk_size=1)

    assert calls == [[loans[0].pk], [loans[0].pk], [loans[1].pk], [loans[2].pk]]
    assert (run.chunks_total, run.chunks_done) == (3, 3)
    assert set(run.chunks.values_list("status", flat=True)) == {ChunkStatus.DONE}
    for loan in loans:
        assert accruals(loan) == [(oct_(16), D("0.58"))]
        assert BucketChange.objects.filter(loan=loan).count() == 1
        loan.refresh_from_db()
        assert (loan.dpd, loan.penalty_outstanding) == (1, D("0.58"))
    assert (run.loans_examined, run.loans_newly_overdue, run.bucket_moves) == (3, 3, 3)
    assert (run.accruals_posted, run.accrual_total) == (3, D("1.74"))
    assert_one_accrual_per_loan_day()
    assert_reconciles()


def test_a_retried_chunk_records_both_attempts(temporary_step):
    three_overdue_loans()
    calls = []

    def flaky(*, business_date, loan_ids):
        calls.append(loan_ids)
        if len(calls) == 1:
            raise RuntimeError("worker lost")
        return {}

    temporary_step("test_flaky", flaky, position=990)
    run = close(oct_(16), chunk_size=1)
    assert list(run.chunks.order_by("number").values_list("attempts", flat=True)) == [2, 1, 1]


def test_a_chunk_that_keeps_failing_fails_the_date_and_a_retry_posts_it_once(temporary_step):
    first, broken_loan, third = three_overdue_loans()
    broken = {"on": True}

    def breaks_on_one_loan(*, business_date, loan_ids):
        if broken["on"] and broken_loan.pk in loan_ids:
            raise RuntimeError(f"cannot process loan {broken_loan.pk}")
        return {}

    temporary_step("test_broken", breaks_on_one_loan, position=991)
    runs = close_business_days(until=oct_(16), acting_user=SYSTEM, chunk_size=1)
    run = BusinessDayRun.objects.get(pk=runs[0].pk)

    assert run.status == RunStatus.FAILED
    assert run.failed_loan_ids == [broken_loan.pk]
    assert run.error.startswith("chunk 2: ")
    assert "cannot process loan" in run.error
    assert list(run.chunks.order_by("number").values_list("status", flat=True)) == [
        ChunkStatus.DONE,
        ChunkStatus.FAILED,
        ChunkStatus.DONE,
    ]
    # The failed chunk's transaction was rolled back: nothing of the night for that loan.
    broken_loan.refresh_from_db()
    assert (broken_loan.dpd, broken_loan.bucket, broken_loan.dpd_as_of) == (0, "M0", DUE)
    assert accruals(broken_loan) == []
    assert not BucketChange.objects.filter(loan=broken_loan).exists()
    assert first_installment(broken_loan).penalty_accrued == 0
    for loan in (first, third):
        assert accruals(loan) == [(oct_(16), D("0.58"))]
        loan.refresh_from_db()
        assert (loan.dpd, loan.bucket) == (1, "M1")
    # A failed date blocks the next one.
    with pytest.raises(LendingError) as raised:
        business_day_begin(business_date=oct_(17), acting_user=SYSTEM)
    assert raised.value.code == LendingErrorCode.OUT_OF_ORDER

    broken["on"] = False
    run = business_day_begin(business_date=oct_(16), acting_user=SYSTEM)
    assert (run.status, run.attempts, run.failed_loan_ids) == (RunStatus.RUNNING, 2, [])
    pending = list(run.chunks.exclude(status=ChunkStatus.DONE).order_by("number"))
    assert [(c.number, c.loan_ids, c.status) for c in pending] == [
        (2, [broken_loan.pk], ChunkStatus.PENDING)
    ]
    for chunk in pending:
        business_day_run_chunk(chunk_id=chunk.pk)
    run = business_day_finish(run_id=run.pk)
    run.refresh_from_db()

    assert (run.status, run.error, run.failed_loan_ids) == (RunStatus.DONE, "", [])
    assert (run.chunks_total, run.chunks_done) == (3, 3)
    assert (run.loans_examined, run.loans_newly_overdue, run.bucket_moves) == (3, 3, 3)
    assert (run.accruals_posted, run.accrual_total) == (3, D("1.74"))
    for loan in (first, broken_loan, third):
        assert accruals(loan) == [(oct_(16), D("0.58"))]
        assert BucketChange.objects.filter(loan=loan).count() == 1
        loan.refresh_from_db()
        assert (loan.dpd, loan.bucket, loan.penalty_outstanding) == (1, "M1", D("0.58"))
    assert_one_accrual_per_loan_day()
    assert_reconciles()
    assert close(oct_(17)).accruals_posted == 3  # the next date closes normally


# 6. Repayments between nights -------------------------------------------------------------


def test_a_repayment_after_accrual_pays_penalty_first_and_clearing_arrears_cures_at_once():
    loan = active_loan(start=SEP_15)
    still_late = active_loan(start=SEP_15)
    close_each(DUE, oct_(20))
    loan.refresh_from_db()
    assert (loan.dpd, loan.bucket, loan.penalty_outstanding) == (5, "M1", D("2.88"))
    interest_before = loan.interest_outstanding

    penalty_only = repayment_post(
        loan_id=loan.pk, amount="2.88", value_date=oct_(21), acting_user=SYSTEM
    ).transaction
    assert (penalty_only.penalty, penalty_only.fee) == (D("2.88"), D("0.00"))
    assert (penalty_only.interest, penalty_only.principal) == (D("0.00"), D("0.00"))
    installment = first_installment(loan)
    assert (installment.penalty_due, installment.penalty_settled) == (D("2.88"), D("2.88"))
    assert installment.settled_on is None
    loan.refresh_from_db()
    assert loan.penalty_outstanding == D("0.00")
    assert loan.interest_outstanding == interest_before
    assert (loan.dpd, loan.bucket) == (5, "M1")  # still late: 916.80 unpaid
    assert BucketChange.objects.filter(loan=loan).count() == 1

    arrears = repayment_post(
        loan_id=loan.pk, amount=str(FIRST_INSTALLMENT), value_date=oct_(21), acting_user=SYSTEM
    ).transaction
    assert (arrears.principal, arrears.interest, arrears.penalty) == (
        D("766.80"),
        D("150.00"),
        D("0.00"),
    )
    assert first_installment(loan).settled_on == oct_(21)
    loan.refresh_from_db()
    assert (loan.dpd, loan.bucket, loan.next_due_date) == (0, "M0", date(2026, 11, 15))
    moves = list(
        BucketChange.objects.filter(loan=loan)
        .order_by("id")
        .values_list("business_date", "from_bucket", "to_bucket", "dpd", "overdue_amount")
    )
    # The cure is dated by the payment's value date, not by the day it was keyed in.
    assert moves == [
        (oct_(16), "M0", "M1", 1, FIRST_INSTALLMENT),
        (oct_(21), "M1", "M0", 0, D("0.00")),
    ]

    night = close(oct_(21))
    # The loan was already cured by the payment: the night does not count or record it again.
    assert (night.loans_examined, night.loans_cured, night.bucket_moves) == (1, 0, 0)
    assert BucketChange.objects.filter(loan=loan).count() == 2
    assert [day for day, _ in accruals(loan)] == [oct_(day) for day in range(16, 21)]
    # 766.80 × 0.27 × 6 days = 1,242.216; / 360 = 3.4506 → 3.45 − 2.88
    assert accruals(still_late)[-1] == (oct_(21), D("0.57"))
    loan.refresh_from_db()
    assert (loan.dpd, loan.bucket, loan.penalty_outstanding) == (0, "M0", D("0.00"))
    assert_one_accrual_per_loan_day()
    assert_reconciles()


def test_a_payment_reversed_on_a_loan_the_night_skipped_makes_it_overdue_at_once():
    loan = active_loan(start=SEP_15)
    close(oct_(14))
    payment = repayment_post(
        loan_id=loan.pk, amount=str(FIRST_INSTALLMENT), value_date=DUE, acting_user=SYSTEM
    ).transaction
    # Paid up to November: the next nights do not even look at the loan.
    nights = close_each(DUE, oct_(18))
    assert [nights[day].loans_examined for day in sorted(nights)] == [0, 0, 0, 0]

    repayment_reverse(transaction_id=payment.pk, reason="bounced", acting_user=SYSTEM)

    loan.refresh_from_db()
    # As of the last closed date (18 October) the installment due on the 15th is 3 days late.
    assert (loan.dpd, loan.bucket, loan.dpd_as_of) == (3, "M1", oct_(18))
    # The history says when it went late: the night of the 16th, one day past due — a move
    # dated by that night, appended now.
    move = BucketChange.objects.get(loan=loan)
    assert (move.business_date, move.from_bucket, move.to_bucket, move.dpd) == (
        oct_(16),
        "M0",
        "M1",
        1,
    )
    assert move.overdue_amount == FIRST_INSTALLMENT


def test_the_penalty_of_the_days_a_bounced_payment_stood_is_charged_with_the_reversal():
    bounced, never_paid = active_loan(start=SEP_15), active_loan(start=SEP_15)
    close(oct_(14))
    payment = repayment_post(
        loan_id=bounced.pk, amount=str(FIRST_INSTALLMENT), value_date=DUE, acting_user=SYSTEM
    ).transaction
    close_each(DUE, oct_(18))
    repayment_reverse(transaction_id=payment.pk, reason="bounced", acting_user=SYSTEM)
    close(oct_(19))

    # The twin accrued night by night (16th to 19th). The reversal re-lives the bounced loan
    # from the 15th: the three days the payment stood are charged with the reversal, the 19th
    # by its night — the same penalty to the cent.
    twin_days = accruals(never_paid)
    assert [day for day, _ in twin_days] == [oct_(16), oct_(17), oct_(18), oct_(19)]
    assert accruals(bounced) == [twin_days[-1]]
    (charged,) = Transaction.objects.filter(loan=bounced, kind=TransactionKind.REACCRUAL)
    assert charged.penalty == sum((amount for _, amount in twin_days[:3]), D(0))
    assert first_installment(bounced).penalty_due == first_installment(never_paid).penalty_due
    assert (
        first_installment(bounced).penalty_accrued == first_installment(never_paid).penalty_accrued
    )
    assert_one_accrual_per_loan_day()
    assert_reconciles()


def test_nights_within_the_arrears_tolerance_owe_no_penalty_when_the_loan_falls_late_again():
    loan = active_loan(start=SEP_15, arrears_tolerance=D("1.00"))
    close(oct_(14))
    # 916.00 of 916.80: interest first, so 0.80 of principal stays unpaid — within tolerance.
    repayment_post(loan_id=loan.pk, amount="916.00", value_date=DUE, acting_user=SYSTEM)
    close_each(DUE, date(2026, 11, 15))
    installment = first_installment(loan)
    assert (installment.penalty_accrued, installment.penalty_accrued_through) == (
        D("0"),
        date(2026, 11, 15),  # 31 nights counted, none of them owed penalty
    )

    # The second installment is not paid: now the loan is overdue, 32 days from 15 October.
    close(date(2026, 11, 16))
    loan.refresh_from_db()
    assert loan.dpd == 32
    installment = first_installment(loan)
    # One day on the 0.80 (0.80 × 27 % / 360 = 0.0006, kept × 360: 0.80 × 0.27 × 1 = 0.216),
    # not 32: the tolerated nights stay free.
    assert installment.penalty_accrued == D("0.216")
    assert_one_accrual_per_loan_day()
    assert_reconciles()


def test_a_partial_payment_inside_grace_is_charged_from_its_value_date_in_the_catch_up():
    # Absolute 36 %, 3 days' grace counted from the due date (15 October).
    product = ProductFactory(
        penalty_rate_type="absolute",
        penalty_rate_value=D("0.36"),
        grace_days=3,
        penalty_start="due_date",
    )
    loan = active_loan(start=SEP_15, product=product)
    # Edited after booking: no grace, from its end. The loan keeps the grace it was booked with.
    product.grace_days, product.penalty_start = 0, "grace_end"
    product.save()
    close(oct_(14))
    close_each(DUE, oct_(16))
    # 500.00 with value 17 October, inside grace: interest 150.00, then principal 350.00;
    # 416.80 of principal is left.
    repayment_post(loan_id=loan.pk, amount="500.00", value_date=oct_(17), acting_user=SYSTEM)
    close_each(oct_(17), oct_(20))

    # Nothing inside grace (16th–18th); the 19th catches up 4 days, each on its own base:
    #   16th on 766.80, 17th–19th on 416.80: 0.36 × (766.80 + 3 × 416.80) = 0.36 × 2,017.20
    #   = 726.192 → / 360 = 2.0172 → 2.02. (Charging every day on the 19th's 416.80 gave
    #   0.36 × 4 × 416.80 / 360 = 1.6672 → 1.67: the catch-up now uses each day's base.)
    # The 20th: + 416.80 × 0.36 = 150.048 → 876.24 / 360 = 2.434 → 2.43, i.e. 0.41 more.
    assert accruals(loan) == [(oct_(19), D("2.02")), (oct_(20), D("0.41"))]
    installment = first_installment(loan)
    assert installment.principal_due - installment.principal_settled == D("416.80")
    assert installment.penalty_accrued == D("876.240")
    assert installment.penalty_due == D("2.43")
    assert_one_accrual_per_loan_day()
    assert_reconciles()


def test_a_payment_valued_after_a_night_not_yet_closed_pays_that_nights_penalty_first():
    # 27 % (1.5 × 18 %): 766.80 × 0.27 = 207.036 a day (0.5751 of penalty).
    loan, twin = active_loan(start=SEP_15), active_loan(start=SEP_15)
    close_each(DUE, oct_(16))
    # The 17th is still open when 500.00 with value 18 October comes in. The penalty owed
    # through the day before is charged with it and paid first: 16th 207.036 → 0.58; 17th on
    # the same 766.80, 414.072 → 1.1502 → 1.15, 0.57 more. Then interest 150.00 and principal
    # 348.85 — 417.95 of principal left from the 18th.
    payment = repayment_post(
        loan_id=loan.pk, amount="500.00", value_date=oct_(18), acting_user=SYSTEM
    ).transaction
    assert lines_of(payment)[1] == Parts(D("348.85"), D("150.00"), D("0"), D("1.15"))
    (charged,) = Transaction.objects.filter(loan=loan, kind=TransactionKind.REACCRUAL)
    assert (charged.value_date, charged.penalty, charged.caused_by) == (
        oct_(18),
        D("0.57"),
        payment,
    )
    close_each(oct_(17), oct_(19))

    # The night of the 17th finds that day accrued and posts nothing; 18th on 417.95:
    # + 112.8465 = 526.9185 → 1.4636… → 1.46, 0.31 more; 19th: 639.765 → 1.7771 → 1.78, 0.32.
    assert accruals(loan) == [(oct_(16), D("0.58")), (oct_(18), D("0.31")), (oct_(19), D("0.32"))]
    assert accruals(twin)[:2] == [(oct_(16), D("0.58")), (oct_(17), D("0.57"))]
    installment = first_installment(loan)
    assert installment.principal_due - installment.principal_settled == D("417.95")
    assert installment.penalty_accrued == D("639.7650")
    assert installment.penalty_due == D("1.78")
    assert_one_accrual_per_loan_day()
    assert_reconciles()


# 7. The command ------------------------------------------------------------------------------


def test_the_command_prints_one_json_object_per_date():
    active_loan(start=SEP_15)
    close(DUE)

    out = command("--date", "2026-10-16", "--json")
    lines = out.splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert set(summary) >= JSON_KEYS
    assert {key: summary[key] for key in JSON_KEYS - {"seconds"}} == {
        "business_date": "2026-10-16",
        "status": "done",
        "loans_examined": 1,
        "installments_newly_overdue": 1,
        "loans_newly_overdue": 1,
        "loans_cured": 0,
        "bucket_moves": 1,
        "accruals_posted": 1,
        "accrual_total": "0.58",
        "loans_capped": 0,
    }
    assert isinstance(summary["seconds"], float)
    assert summary["seconds"] >= 0

    out = command("--until", "2026-10-18", "--json")
    caught_up = [json.loads(line) for line in out.splitlines()]
    assert [(s["business_date"], s["accrual_total"]) for s in caught_up] == [
        ("2026-10-17", "0.57"),
        ("2026-10-18", "0.58"),
    ]


def test_the_json_accrual_total_is_a_string_even_on_an_empty_night():
    active_loan(start=SEP_15)  # first due 2026-10-15: nothing is due on 2026-10-10
    summary = json.loads(command("--date", "2026-10-10", "--json"))
    assert summary["loans_examined"] == 0
    assert isinstance(summary["accrual_total"], str)
    assert D(summary["accrual_total"]) == 0


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "2026-02-30"])
def test_a_bad_date_is_a_command_error_naming_the_flag(value):
    with pytest.raises(CommandError, match=r"^--date: .* is not a date"):
        command("--date", value)
    assert not BusinessDayRun.objects.exists()


def test_a_date_that_has_not_ended_is_a_command_error_naming_the_flag():
    with pytest.raises(CommandError, match=r"^--date: .*has not ended yet"):
        command("--date", timezone.localdate().isoformat())
    with pytest.raises(CommandError, match=r"^--until: .*has not ended yet"):
        command("--until", (timezone.localdate() + timedelta(days=3)).isoformat())
    assert not BusinessDayRun.objects.exists()
