"""lending.allocation: the repayment waterfall and the payoff quote, pure (no database)."""

import copy
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.allocation import (
    COMPONENTS,
    DEFAULT_ORDER,
    InstallmentState,
    Parts,
    allocate,
    due_installments,
    parse_allocation_order,
    payoff_floor,
    payoff_quote,
)
from lending.schedules import DayCount

D = Decimal
ZERO = D("0.00")
BASE_DATE = date(2026, 1, 15)

# --- strategies ---------------------------------------------------------------------------------

cents = st.integers(min_value=0, max_value=200_000).map(lambda c: D(c).scaleb(-2))
orders = st.permutations(COMPONENTS).map(tuple)


@st.composite
def installment_state(draw, seq: int) -> InstallmentState:
    due = Parts(*(draw(cents) for _ in COMPONENTS))
    # Settled is anything from nothing up to everything, per component.
    settled = Parts(
        *(
            draw(st.integers(0, int(getattr(due, c) * 100)).map(lambda x: D(x).scaleb(-2)))
            for c in COMPONENTS
        )
    )
    due_date = BASE_DATE + timedelta(days=draw(st.integers(0, 400)))
    return InstallmentState(
        seq=seq,
        due_date=due_date,
        period_start=due_date - timedelta(days=30),
        due=due,
        settled=settled,
    )


@st.composite
def installment_lists(draw, max_size: int = 6) -> list[InstallmentState]:
    size = draw(st.integers(0, max_size))
    seqs = draw(st.permutations(range(1, size + 1)))
    return [draw(installment_state(seq)) for seq in seqs]


@st.composite
def waterfall_cases(draw):
    installments = draw(installment_lists())
    owed = sum((i.outstanding.total for i in installments), ZERO)
    # Amounts below, at and above what is owed: leftovers matter as much as shortfalls.
    amount = draw(
        st.one_of(
            cents,
            st.just(owed),
            st.integers(0, int(owed * 100) + 5_000).map(lambda c: D(c).scaleb(-2)),
        )
    )
    return amount, installments, draw(orders)


def oldest_first(installments):
    return sorted(installments, key=lambda i: (i.due_date, i.seq))


# --- allocate: properties -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(waterfall_cases())
def test_allocation_never_exceeds_outstanding_and_conserves_the_amount(case):
    amount, installments, order = case
    before = copy.deepcopy(installments)
    allocations, leftover = allocate(amount, installments, order)

    assert installments == before, "allocate must not change its input"
    by_seq = {i.seq: i for i in installments}
    for seq, parts in allocations.items():
        assert not parts.is_zero(), "only installments that receive money are returned"
        for c in COMPONENTS:
            assert ZERO <= getattr(parts, c) <= getattr(by_seq[seq].outstanding, c)
    allocated = sum((p.total for p in allocations.values()), ZERO)
    assert allocated + leftover == amount
    assert leftover >= 0
    owed = sum((i.outstanding.total for i in installments), ZERO)
    # Money is left over only once everything owed is paid; otherwise nothing is left.
    assert leftover == max(ZERO, amount - owed)


@settings(max_examples=300, deadline=None)
@given(waterfall_cases())
def test_allocation_follows_the_order_within_an_installment(case):
    amount, installments, order = case
    allocations, _ = allocate(amount, installments, order)
    for installment in installments:
        taken = allocations.get(installment.seq, Parts())
        for position, component in enumerate(order):
            if getattr(taken, component) > 0:
                for earlier in order[:position]:
                    assert getattr(taken, earlier) == getattr(installment.outstanding, earlier), (
                        f"{component} of #{installment.seq} was paid before {earlier} was cleared"
                    )


@settings(max_examples=300, deadline=None)
@given(waterfall_cases())
def test_allocation_pays_the_oldest_installment_first(case):
    amount, installments, order = case
    allocations, _ = allocate(amount, installments, order)
    ordered = oldest_first(installments)
    for position, installment in enumerate(ordered):
        if installment.seq in allocations:
            for older in ordered[:position]:
                paid = allocations.get(older.seq, Parts())
                assert paid == older.outstanding, (
                    f"#{installment.seq} received money while older #{older.seq} stayed unpaid"
                )


def inst(
    seq,
    due_date,
    *,
    principal="0",
    interest="0",
    fee="0",
    penalty="0",
    settled=None,
    period_start=None,
):
    return InstallmentState(
        seq=seq,
        due_date=due_date,
        period_start=period_start or due_date - timedelta(days=30),
        due=Parts(D(principal), D(interest), D(fee), D(penalty)),
        settled=settled or Parts(),
    )


def test_default_order_pays_penalty_then_fee_then_interest_then_principal():
    installments = [
        inst(2, date(2026, 3, 15), principal="778.30", interest="138.50", penalty="5.00"),
        inst(
            1,
            date(2026, 2, 15),
            principal="766.80",
            interest="150.00",
            fee="50.00",
            penalty="12.34",
        ),
    ]
    allocations, leftover = allocate(D("1000.00"), installments, DEFAULT_ORDER)
    assert allocations == {
        1: Parts(principal=D("766.80"), interest=D("150.00"), fee=D("50.00"), penalty=D("12.34")),
        2: Parts(interest=D("15.86"), penalty=D("5.00")),
    }
    assert leftover == ZERO


def test_custom_order_pays_principal_first():
    installments = [
        inst(
            1,
            date(2026, 2, 15),
            principal="766.80",
            interest="150.00",
            fee="50.00",
            penalty="12.34",
        ),
    ]
    order = parse_allocation_order("principal,interest,fee,penalty")
    allocations, leftover = allocate(D("800.00"), installments, order)
    assert allocations == {1: Parts(principal=D("766.80"), interest=D("33.20"))}
    assert leftover == ZERO


def test_overpaid_component_is_not_refunded_by_the_waterfall():
    """A component already settled beyond what is due takes nothing and gives nothing back."""
    over = inst(
        1,
        date(2026, 2, 15),
        principal="100.00",
        interest="10.00",
        settled=Parts(interest=D("12.00")),
    )
    allocations, leftover = allocate(D("150.00"), [over], DEFAULT_ORDER)
    assert allocations == {1: Parts(principal=D("100.00"))}
    assert leftover == D("50.00")


def test_due_installments_are_those_due_on_or_before_the_date():
    installments = [inst(1, date(2026, 2, 15)), inst(2, date(2026, 3, 15))]
    assert [i.seq for i in due_installments(installments, date(2026, 2, 14))] == []
    assert [i.seq for i in due_installments(installments, date(2026, 2, 15))] == [1]
    assert [i.seq for i in due_installments(installments, date(2026, 3, 15))] == [1, 2]


# --- parse_allocation_order ---------------------------------------------------------------------


def test_parse_allocation_order_accepts_each_component_once_with_spaces():
    assert parse_allocation_order(" penalty , fee,interest ,principal") == DEFAULT_ORDER
    assert parse_allocation_order("principal,interest,fee,penalty") == (
        "principal",
        "interest",
        "fee",
        "penalty",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("penalty,fee,interest,capital", "unknown component(s) capital"),
        ("Penalty,fee,interest,principal", "unknown component(s) Penalty"),
        ("penalty,fee,interest", "exactly once"),
        ("penalty,fee,interest,principal,fee", "exactly once"),
        ("penalty,penalty,interest,principal", "exactly once"),
        ("", "exactly once"),
        (" , ,", "exactly once"),
    ],
)
def test_parse_allocation_order_refuses_bad_orders(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_allocation_order(text)


# --- payoff_quote -------------------------------------------------------------------------------

# A hand-made three-month loan: 1,000.00 at 12 % ACT/360 from 2026-01-01.
HAND_MADE = [
    inst(
        1,
        date(2026, 2, 1),
        period_start=date(2026, 1, 1),
        principal="300.00",
        interest="10.00",
        fee="20.00",
        penalty="1.50",
    ),
    inst(2, date(2026, 3, 1), period_start=date(2026, 2, 1), principal="300.00", interest="7.00"),
    inst(3, date(2026, 4, 1), period_start=date(2026, 3, 1), principal="400.00", interest="4.00"),
]


def test_payoff_quote_charges_interest_only_to_the_payoff_date():
    quote = payoff_quote(
        HAND_MADE, as_of=date(2026, 2, 11), annual_rate=D("0.12"), day_count=DayCount.ACT_360
    )
    # Installment 1 is due: owed in full. Installment 2 runs: 700.00 × 12 % × 10 / 360 = 2.333…
    # → 2.33 of its 7.00. Installment 3 has not started: none of its 4.00.
    assert quote.per_installment == {
        1: Parts(principal=D("300.00"), interest=D("10.00"), fee=D("20.00"), penalty=D("1.50")),
        2: Parts(principal=D("300.00"), interest=D("2.33")),
        3: Parts(principal=D("400.00")),
    }
    assert quote.unearned_interest == {2: D("4.67"), 3: D("4.00")}
    assert quote.gross == D("1033.83")
    assert quote.amount == D("1033.83")


def test_payoff_quote_uses_the_day_count_and_deducts_credit():
    quote = payoff_quote(
        HAND_MADE,
        as_of=date(2026, 2, 11),
        annual_rate=D("0.12"),
        day_count=DayCount.ACT_365F,
        credit_balance=D("33.83"),
    )
    # 700.00 × 12 % × 10 / 365 = 2.3013… → 2.30
    assert quote.per_installment[2] == Parts(principal=D("300.00"), interest=D("2.30"))
    assert quote.gross == D("1033.80")
    assert quote.amount == D("999.97")


def test_payoff_quote_never_goes_below_zero_when_credit_covers_it():
    quote = payoff_quote(
        HAND_MADE,
        as_of=date(2026, 2, 11),
        annual_rate=D("0.12"),
        day_count=DayCount.ACT_360,
        credit_balance=D("5000.00"),
    )
    assert quote.amount == ZERO


def test_payoff_quote_on_a_due_date_owes_that_installment_and_no_later_interest():
    quote = payoff_quote(
        HAND_MADE, as_of=date(2026, 3, 1), annual_rate=D("0.12"), day_count=DayCount.ACT_360
    )
    assert quote.per_installment[2] == Parts(principal=D("300.00"), interest=D("7.00"))
    assert quote.per_installment[3] == Parts(principal=D("400.00"))
    assert quote.unearned_interest == {3: D("4.00")}


def test_payoff_quote_leaves_out_what_is_settled_and_keeps_interest_paid_in_advance():
    settled = [
        inst(
            1,
            date(2026, 2, 1),
            period_start=date(2026, 1, 1),
            principal="300.00",
            interest="10.00",
            fee="20.00",
            penalty="1.50",
            settled=Parts(D("300.00"), D("10.00"), D("20.00"), D("1.50")),
        ),
        # 5.00 of installment 2's interest was paid, more than the 2.33 earned by Feb 11.
        inst(
            2,
            date(2026, 3, 1),
            period_start=date(2026, 2, 1),
            principal="300.00",
            interest="7.00",
            settled=Parts(interest=D("5.00")),
        ),
        HAND_MADE[2],
    ]
    quote = payoff_quote(
        settled, as_of=date(2026, 2, 11), annual_rate=D("0.12"), day_count=DayCount.ACT_360
    )
    assert 1 not in quote.per_installment
    assert quote.per_installment[2] == Parts(principal=D("300.00"))
    # Only the 2.00 not yet paid is cancelled; the 5.00 paid is never clawed back below zero.
    assert quote.unearned_interest == {2: D("2.00"), 3: D("4.00")}
    assert quote.amount == D("700.00")


# --- payoff_floor ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    installment_lists(),
    st.integers(-60, 500).map(lambda days: BASE_DATE + timedelta(days=days)),
    st.integers(0, 3600).map(lambda bp: D(bp).scaleb(-4)),
    st.sampled_from(list(DayCount)),
    cents,
)
def test_no_payoff_quote_is_below_its_floor(installments, as_of, rate, day_count, credit):
    """A repayment below the floor is taken for no payoff without working the quote out: the
    floor must never pass the quote, or a payment that pays the loan off would not close it."""
    quote = payoff_quote(
        installments, as_of=as_of, annual_rate=rate, day_count=day_count, credit_balance=credit
    )
    principal = sum((i.outstanding.principal for i in installments), ZERO)
    assert payoff_floor(principal, credit) <= quote.amount


def test_the_floor_is_the_quote_when_only_principal_is_left():
    principal_only = [
        InstallmentState(
            seq=n,
            due_date=date(2026, 1 + n, 1),
            period_start=date(2026, n, 1),
            due=Parts(principal=D("300.00")),
        )
        for n in (1, 2, 3)
    ]
    quote = payoff_quote(
        principal_only, as_of=date(2026, 2, 11), annual_rate=D("0"), day_count=DayCount.ACT_360
    )
    assert payoff_floor(D("900.00"), ZERO) == quote.amount == D("900.00")
    assert payoff_floor(D("900.00"), D("1000.00")) == ZERO  # credit covers it all
