"""The pure replay (lending.replay): money is never created or lost, nothing is settled beyond
what is owed, and the penalty it charges is the exact accrual rounded once."""

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from lending.allocation import DEFAULT_ORDER, Parts
from lending.delinquency import DEFAULT_BUCKETS
from lending.penalty import CostCap, PenaltyTerms, penalty_of
from lending.replay import Fixed, Payment, ReplayTerms, replay
from lending.schedules import DayCount, ScheduleTerms, build_schedule

START = date(2026, 1, 15)


def terms_for(grace: int, tolerance: D, cap: D) -> ReplayTerms:
    return ReplayTerms(
        penalty=PenaltyTerms(
            base="overdue_principal",
            annual_rate=D("0.27"),
            grace_days=grace,
            start="due_date",
            day_count=DayCount.ACT_360,
        ),
        allocation_order=DEFAULT_ORDER,
        annual_rate=D("0.18"),
        day_count=DayCount.ACT_360,
        currency="CNY",
        arrears_tolerance=tolerance,
        cost_cap=CostCap(D("3000.00"), cap, START, date(2026, 7, 15)),
        upfront_fee=D("0"),
        buckets=DEFAULT_BUCKETS,
    )


SCHEDULE = build_schedule(ScheduleTerms(D("3000.00"), D("0.18"), 6, START))
ROWS = [(row.seq, row.period_start, row.due_date) for row in SCHEDULE]
DISBURSEMENT = Fixed(
    START,
    charge=True,
    lines={row.seq: Parts(row.principal, row.interest, row.fee) for row in SCHEDULE},
)

payments = st.lists(
    st.tuples(st.integers(0, 240), st.decimals(D("0.01"), D("900.00"), places=2)),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    paid=payments,
    grace=st.integers(0, 5),
    tolerance=st.sampled_from([D("0"), D("10.00")]),
    cap=st.sampled_from([D("0.24"), D("0.36"), D("10")]),
    nights=st.integers(0, 240),
)
def test_replay_keeps_every_cent_and_charges_the_rounded_exact_accrual(
    paid, grace, tolerance, cap, nights
):
    events = [DISBURSEMENT] + [
        Payment(n, START + timedelta(day), amount) for n, (day, amount) in enumerate(paid)
    ]
    terms = terms_for(grace, tolerance, cap)
    result = replay(ROWS, events, terms, nights=(START, START + timedelta(nights)))

    settled = sum((i.settled.total for i in result.installments.values()), D(0))
    assert settled + result.credit == sum((amount for _, amount in paid), D(0))
    for record in result.installments.values():
        outstanding = record.outstanding
        assert min(outstanding.principal, outstanding.interest, outstanding.penalty) >= 0
        assert (record.settled_on is not None) == (outstanding.total == 0)
        # The penalty charged is the exact accrual rounded once — less only at the cap.
        exact = penalty_of(record.penalty_accrued, DayCount.ACT_360, "CNY")
        assert record.due.penalty <= exact
        if cap == D("10"):
            assert record.due.penalty == exact
    # Each payment's allocation is what it settled, and what it left is credit.
    for n, (_, amount) in enumerate(paid):
        lines, left = result.allocations[n]
        assert Parts.sum(lines.values()).total + left == amount


def test_a_night_inside_the_tolerance_costs_nothing_and_counts_as_accrued():
    first_due = SCHEDULE[0].due_date
    # All but 5.00 of the first installment paid on time: within a 10.00 tolerance.
    payment = Payment(1, first_due, SCHEDULE[0].principal + SCHEDULE[0].interest - D("5.00"))
    night = first_due + timedelta(3)
    result = replay(
        ROWS, [DISBURSEMENT, payment], terms_for(0, D("10.00"), D("10")), nights=(START, night)
    )
    first = result.installments[1]
    assert (first.due.penalty, first.accrued_through) == (D("0"), night)
    assert result.flags[night].dpd == 0


def test_money_valued_before_a_refund_already_paid_out_leaves_the_refunded_credit_alone():
    """A payment on the first day left credit the borrower was refunded later; a payment
    valued between them and posted after the refund pays what was due with its own money: the
    refunded credit had left the lender, so the replay must not spend it (found by the ledger
    invariants' state machine: the payment was refused `not_reversible`)."""
    terms = terms_for(0, D("0"), D("10"))
    first_due = ROWS[0][2]
    ahead = Payment("ahead", START, D("0.01"))
    refund = Fixed(first_due + timedelta(400), charge=False, credit=D("-0.01"))
    late = Payment("late", first_due + timedelta(32), D("0.01"))
    result = replay(ROWS, [DISBURSEMENT, ahead, refund, late], terms, nights=None)
    assert result.credit == 0
    lines, left = result.allocations["late"]
    assert left == 0 and sum((p.total for p in lines.values()), D(0)) == D("0.01")
    assert result.installments[1].settled.total == D("0.01")
