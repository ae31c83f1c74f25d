"""Tests for lending.penalty: penalty interest on overdue installments and the all-in cost cap.

Every expected figure is worked out by hand in a comment next to it (DESIGN §4, §6). The exact
penalty is kept as `penalty_accrued` = Σ base × annual rate × days — the penalty times the
day-count basis (360 or 365), a finite decimal — and divided by the basis only to round: amounts
are ROUND_HALF_UP to the cent, posted by cumulative rounding (round(new ÷ basis) − round(old ÷
basis)). Each day of a catch-up is charged on that day's base (`base_changes`).
The LPR look-up lives in the nightly step (`lending.close_of_business.lending_steps`); the terms
and the cap come from the loan's own frozen copy of its contract (`Loan.penalty_terms`,
`Loan.cost_cap`). Importing them needs Django settings (pytest-django sets them) but no
database: the model instances below are never saved.
"""

import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lending.close_of_business.lending_steps import lpr_on
from lending.models import Loan, LoanProduct
from lending.models.products import CONTRACT_TERMS
from lending.penalty import (
    BaseChange,
    CostCap,
    LoanAccrual,
    OverdueInstallment,
    PenaltyTerms,
    accrue_loan,
    counted_from,
    day_penalty_accrued,
    days_before,
    days_to_accrue,
    penalty_of,
    penalty_rate,
    penalty_start_date,
)
from lending.schedules import DAY_COUNT_BASIS, DayCount, FeeCollection

D = Decimal
P = "overdue_principal"
PI = "overdue_principal_interest"
DUE = date(2025, 3, 10)


def terms(
    *,
    base: str = P,
    rate: str = "0.27",
    grace: int = 0,
    start: str = "due_date",
    day_count: DayCount = DayCount.ACT_360,
) -> PenaltyTerms:
    return PenaltyTerms(
        base=base, annual_rate=D(rate), grace_days=grace, start=start, day_count=day_count
    )


def inst(
    installment_id: int = 1,
    *,
    due: date = DUE,
    principal: str = "10000.00",
    interest: str = "150.00",
    accrued: str = "0",
    through: date | None = None,
    changes: tuple[BaseChange, ...] = (),
) -> OverdueInstallment:
    """`accrued` is Σ base × rate × days so far (the penalty × the basis); `principal` and
    `interest` are what is outstanding today; `changes` the postings valued since."""
    return OverdueInstallment(
        installment_id=installment_id,
        due_date=due,
        principal_outstanding=D(principal),
        interest_outstanding=D(interest),
        penalty_accrued=D(accrued),
        accrued_through=through,
        base_changes=changes,
    )


def run_days(
    installments: list[OverdueInstallment],
    t: PenaltyTerms,
    first: date,
    days: int,
    headroom=None,
) -> list[LoanAccrual]:
    """Run the nightly accrual for `days` consecutive business dates from `first`, carrying each
    installment's exact accrual and accrued-through date forward as the nightly step does.
    `headroom` is None (no cap) or a callable(as_of, posted so far) -> headroom."""
    results = []
    posted_so_far = D("0")
    for offset in range(days):
        as_of = first + timedelta(days=offset)
        room = None if headroom is None else headroom(as_of, posted_so_far)
        result = accrue_loan(installments, t, as_of, room)
        for installment in installments:
            if installment.installment_id in result.new_accrued:
                installment.penalty_accrued = result.new_accrued[installment.installment_id]
                installment.accrued_through = as_of
        posted_so_far += result.total
        results.append(result)
    return results


# ----------------------------------------------------------------------------- penalty_rate


def test_penalty_rate_absolute_is_the_value_itself():
    # An absolute 24 % is 24 % whatever the contract rate.
    assert penalty_rate("absolute", D("0.24"), D("0.18")) == D("0.24")


def test_penalty_rate_contract_multiple_is_contract_rate_times_multiplier():
    # 0.18 × 1.5 = 0.27 (contract + 50 %); 0.12 × 2 = 0.24.
    assert penalty_rate("contract_multiple", D("1.5"), D("0.18")) == D("0.27")
    assert penalty_rate("contract_multiple", D("2"), D("0.12")) == D("0.24")


def booked(product: LoanProduct, **loan_fields) -> Loan:
    """A loan booked under `product`: it copies the contract terms, as booking does."""
    return Loan(
        product=product, **{name: getattr(product, name) for name in CONTRACT_TERMS}, **loan_fields
    )


def test_terms_of_a_loan_use_the_effective_rate_and_its_booked_terms():
    # Loan.penalty_terms: a contract-multiple product on an 18 % loan accrues at 27 %.
    product = LoanProduct(
        penalty_base=PI,
        penalty_rate_type="contract_multiple",
        penalty_rate_value=D("1.5"),
        grace_days=3,
        penalty_start="grace_end",
    )
    loan = booked(product, annual_rate=D("0.18"), day_count=DayCount.ACT_365F.value)
    expected = PenaltyTerms(
        base=PI, annual_rate=D("0.27"), grace_days=3, start="grace_end", day_count=DayCount.ACT_365F
    )
    assert loan.penalty_terms() == expected
    # A product edit after booking changes nothing for the loan (DESIGN §5: terms are frozen).
    product.penalty_rate_type, product.penalty_rate_value = "absolute", D("0.24")
    product.penalty_base, product.grace_days, product.penalty_start = P, 0, "due_date"
    assert loan.penalty_terms() == expected
    # The loan's own terms decide: an absolute 24 % on the loan is 24 %.
    loan.penalty_rate_type, loan.penalty_rate_value = "absolute", D("0.24")
    assert loan.penalty_terms().annual_rate == D("0.24")


# ----------------------------------------------------------------------------- base


def test_base_overdue_principal_one_day():
    # 10,000.00 overdue principal × 0.27 (0.18 × 1.5) / 360 × 1 day = 2,700 / 360 = 7.50;
    # the 150.00 overdue interest is not part of this base.
    t = terms(base=P, rate=str(penalty_rate("contract_multiple", D("1.5"), D("0.18"))))
    result = accrue_loan([inst()], t, DUE + timedelta(days=1), None)
    assert result.posted == {1: D("7.50")}
    assert result.new_accrued == {1: D("2700.00")}  # 10,000 × 0.27 × 1 day (= 7.50 × 360)
    assert result.capped is False


def test_base_overdue_principal_plus_interest_one_day():
    # (10,000.00 + 150.00) × 0.27 / 360 × 1 = 2,740.50 / 360 = 7.6125 exact → posts 7.61.
    result = accrue_loan([inst()], terms(base=PI), DUE + timedelta(days=1), None)
    assert result.posted == {1: D("7.61")}
    assert result.new_accrued[1] == D("2740.50")  # 10,150 × 0.27 × 1 day


def test_base_principal_plus_interest_second_day_posts_the_rounding_catch_up():
    # Day 2: exact 7.6125 × 2 = 15.225 → round 15.23; posts 15.23 − 7.61 = 7.62.
    installment = inst(accrued="2740.50", through=DUE + timedelta(days=1))
    result = accrue_loan([installment], terms(base=PI), DUE + timedelta(days=2), None)
    assert result.posted == {1: D("7.62")}
    assert result.new_accrued[1] == D("5481.00")  # 10,150 × 0.27 × 2 days (15.225 × 360)


def test_base_principal_ignores_interest_only_remainder():
    # Only interest is overdue (principal 0): the principal base is 0 → nothing;
    # the principal+interest base: 150.00 × 0.27 / 360 = 0.1125 → 0.11.
    installment = inst(principal="0.00", interest="150.00")
    as_of = DUE + timedelta(days=1)
    assert accrue_loan([installment], terms(base=P), as_of, None).posted == {}
    assert accrue_loan([installment], terms(base=PI), as_of, None).posted == {1: D("0.11")}


# ----------------------------------------------------------------------------- rate type


def test_absolute_rate_one_day():
    # 10,000.00 × 0.24 / 360 = 6.6666… → 6.67.
    rate = penalty_rate("absolute", D("0.24"), D("0.18"))
    result = accrue_loan([inst()], terms(rate=str(rate)), DUE + timedelta(days=1), None)
    assert result.posted == {1: D("6.67")}


def test_contract_multiple_rate_one_day():
    # 0.12 contract × 1.5 = 0.18; 10,000.00 × 0.18 / 360 = 5.00.
    rate = penalty_rate("contract_multiple", D("1.5"), D("0.12"))
    result = accrue_loan([inst()], terms(rate=str(rate)), DUE + timedelta(days=1), None)
    assert result.posted == {1: D("5.00")}


# ----------------------------------------------------------------------------- grace


def test_grace_three_days_counted_from_the_due_date():
    # Due 10 Mar, grace 3: 11, 12, 13 Mar are inside grace → nothing.
    # 14 Mar (4 days overdue, grace exceeded) catches up all 4 days since the due date:
    #   10,000 × 0.27 × 4 / 360 = 30.00; 15 Mar adds 1 day = 7.50 (total 37.50).
    installment = inst()
    results = run_days([installment], terms(grace=3, start="due_date"), DUE + timedelta(1), 5)
    assert [r.total for r in results] == [D("0"), D("0"), D("0"), D("30.00"), D("7.50")]
    assert installment.penalty_accrued == D("13500.00")  # 10,000 × 0.27 × 5 days (37.50 × 360)


def test_grace_three_days_counted_from_the_end_of_grace():
    # Same loan, counting from the end of grace: 14 Mar posts 1 day = 7.50; 15 Mar 7.50.
    installment = inst()
    results = run_days([installment], terms(grace=3, start="grace_end"), DUE + timedelta(1), 5)
    assert [r.total for r in results] == [D("0"), D("0"), D("0"), D("7.50"), D("7.50")]
    assert installment.penalty_accrued == D("5400.00")  # 10,000 × 0.27 × 2 days (15.00 × 360)


@pytest.mark.parametrize(
    ("start", "expected"),
    # overdue days 1..6 with grace 3: 0,0,0 then 4 (catch-up) or 1, then 1 a day.
    [("due_date", [0, 0, 0, 4, 1, 1]), ("grace_end", [0, 0, 0, 1, 1, 1])],
)
def test_days_to_accrue_around_grace(start, expected):
    t = terms(grace=3, start=start)
    installment, days = inst(), []
    for n in range(1, 7):
        as_of = DUE + timedelta(days=n)
        days.append(days_to_accrue(installment, t, as_of))
        if days[-1]:  # as the night does: accrued through the date only once something accrued
            installment.accrued_through = as_of
    assert days == expected


@pytest.mark.parametrize(
    ("start", "accrued_through", "expected"),
    [
        # Paid on the due date, the payment reversed 20 days later: never accrued, so the
        # night after the reversal (overdue 21 days, grace 3) catches up from the start.
        ("due_date", None, 21),
        ("grace_end", None, 18),
        # Accrued through day 5, then paid, then the payment reversed: the gap is charged.
        ("due_date", DUE + timedelta(days=5), 16),
        ("grace_end", DUE + timedelta(days=5), 16),
    ],
)
def test_days_missed_while_a_reversed_payment_stood_are_caught_up(start, accrued_through, expected):
    installment = inst(through=accrued_through)
    assert days_to_accrue(installment, terms(grace=3, start=start), DUE + timedelta(21)) == expected


def test_no_grace_first_day_is_one_day_either_way():
    # grace 0: the first overdue day accrues 1 day under both settings; the due date itself 0.
    for start in ("due_date", "grace_end"):
        t = terms(grace=0, start=start)
        assert days_to_accrue(inst(), t, DUE) == 0
        assert days_to_accrue(inst(), t, DUE + timedelta(days=1)) == 1


def test_grace_catch_up_rerun_posts_nothing():
    # 14 Mar already accrued (the 4-day catch-up, 30.00: accrued 10,000 × 0.27 × 4 = 10,800):
    # re-running 14 Mar posts nothing.
    installment = inst(accrued="10800", through=DUE + timedelta(days=4))
    result = accrue_loan([installment], terms(grace=3), DUE + timedelta(days=4), None)
    assert result.posted == {}
    assert result.new_accrued == {}


@pytest.mark.parametrize(
    ("start", "through", "begins", "counted"),
    [
        # Due 10 Mar, grace 3: from the due date the penalty starts on 10 Mar, from the end of
        # grace on 13 Mar; a date charges the days after the one counted from.
        ("due_date", None, DUE, DUE),
        ("grace_end", None, DUE + timedelta(days=3), DUE + timedelta(days=3)),
        # Accrued through a date inside grace (a tolerated night): the start still wins.
        ("grace_end", DUE + timedelta(days=2), DUE + timedelta(days=3), DUE + timedelta(days=3)),
        # Accrued through a later date: counting goes on from there.
        ("due_date", DUE + timedelta(days=5), DUE, DUE + timedelta(days=5)),
        ("grace_end", DUE + timedelta(days=5), DUE + timedelta(days=3), DUE + timedelta(days=5)),
    ],
)
def test_penalty_start_and_the_day_counted_from(start, through, begins, counted):
    t = terms(grace=3, start=start)
    assert penalty_start_date(DUE, t) == begins
    assert counted_from(DUE, through, t) == counted


# ----------------------------------------------------------------------------- each day's base


@pytest.mark.parametrize(
    ("value_date", "before"),
    [
        # Counted from 10 Mar, 4 days (11–14 Mar): how many of them precede the posting's value
        # date, i.e. were charged on the base without it. A posting valued on a day changes that
        # day's base.
        (date(2025, 3, 9), 0),
        (date(2025, 3, 10), 0),
        (date(2025, 3, 11), 0),  # the first day charged is already on the new base
        (date(2025, 3, 12), 1),
        (date(2025, 3, 14), 3),
        (date(2025, 3, 15), 4),  # valued after the night: none of its days had it
        (date(2025, 3, 30), 4),
    ],
)
def test_days_before_a_change(value_date, before):
    assert days_before(BaseChange(value_date, D("-1")), DUE, 4) == before


def test_a_partial_payment_inside_grace_is_charged_from_its_value_date_only():
    # Due 10 Mar, grace 3 counted from the due date; 4,000.00 of principal paid with value
    # 12 Mar (inside grace), so 6,000.00 is outstanding when 14 Mar catches up 4 days:
    #   11 Mar on 10,000 and 12–14 Mar on 6,000: 0.27 × (10,000 + 3 × 6,000) = 0.27 × 28,000
    #   = 7,560 → 7,560 / 360 = 21.00 (today's base on all four days would give 18.00).
    paid = (BaseChange(date(2025, 3, 12), D("-4000.00")),)
    installment = inst(principal="6000.00", changes=paid)
    t = terms(grace=3, start="due_date")
    result = accrue_loan([installment], t, DUE + timedelta(days=4), None)
    assert result.new_accrued == {1: D("7560.00")}
    assert result.posted == {1: D("21.00")}
    # From the end of grace only 14 Mar is charged, on the 6,000 of that day: 6,000 × 0.27 × 1
    # = 1,620 → 4.50.
    result = accrue_loan([installment], terms(grace=3, start="grace_end"), DUE + timedelta(4), None)
    assert result.new_accrued == {1: D("1620.00")}
    assert result.posted == {1: D("4.50")}


def test_a_change_of_interest_moves_the_principal_and_interest_base_only():
    # Same catch-up; the payment (value 12 Mar) settled the 150.00 interest and 3,850.00
    # principal: 6,150.00 principal and no interest are left.
    paid = (BaseChange(date(2025, 3, 12), D("-3850.00"), D("-150.00")),)
    installment = inst(principal="6150.00", interest="0.00", changes=paid)
    as_of = DUE + timedelta(days=4)
    # Principal and interest: 0.27 × (10,150 + 3 × 6,150) = 0.27 × 28,600 = 7,722 → 21.45.
    result = accrue_loan([installment], terms(base=PI, grace=3), as_of, None)
    assert result.new_accrued == {1: D("7722.00")}
    assert result.posted == {1: D("21.45")}
    # Principal only: 0.27 × (10,000 + 3 × 6,150) = 0.27 × 28,450 = 7,681.5 → 21.3375 → 21.34.
    result = accrue_loan([installment], terms(base=P, grace=3), as_of, None)
    assert result.new_accrued == {1: D("7681.50")}
    assert result.posted == {1: D("21.34")}


def test_a_payment_valued_after_the_night_does_not_lower_that_nights_base():
    # Accrued through 12 Mar (2 days: 5,400 = 15.00). 4,000.00 paid with value 14 Mar is posted
    # before the night of 13 Mar runs (a late night): 13 Mar is still charged on 10,000.
    paid = (BaseChange(date(2025, 3, 14), D("-4000.00")),)
    installment = inst(principal="6000.00", accrued="5400", through=date(2025, 3, 12), changes=paid)
    late = accrue_loan([installment], terms(), date(2025, 3, 13), None)
    # 5,400 + 10,000 × 0.27 = 8,100 → 22.50: posts 7.50, as if the payment had not come yet.
    assert late.new_accrued == {1: D("8100.00")}
    assert late.posted == {1: D("7.50")}
    installment.penalty_accrued, installment.accrued_through = (
        late.new_accrued[1],
        date(2025, 3, 13),
    )
    # 14 Mar, the payment's value date, is on 6,000: 8,100 + 1,620 = 9,720 → 27.00, posts 4.50.
    on_the_day = accrue_loan([installment], terms(), date(2025, 3, 14), None)
    assert on_the_day.new_accrued == {1: D("9720.00")}
    assert on_the_day.posted == {1: D("4.50")}
    # Both nights caught up at once come to the same: 4,320 more → 9,720, posts 12.00.
    at_once = inst(principal="6000.00", accrued="5400", through=date(2025, 3, 12), changes=paid)
    both = accrue_loan([at_once], terms(), date(2025, 3, 14), None)
    assert both.new_accrued == {1: D("9720.00")}
    assert both.posted == {1: D("12.00")}


def test_a_reversed_payment_and_changes_before_the_days_change_nothing():
    # A payment of 4,000.00 valued 12 Mar and its reversal (same value date): the base is
    # 10,000 on every day, 4 days × 2,700 = 10,800 → 30.00. Changes valued on or before the
    # first day charged (10, 11 Mar) are already in every day's base.
    changes = (
        BaseChange(date(2025, 3, 12), D("-4000.00")),
        BaseChange(date(2025, 3, 12), D("4000.00")),
        BaseChange(date(2025, 3, 10), D("-2500.00")),
        BaseChange(date(2025, 3, 11), D("2500.00")),
    )
    installment = inst(changes=changes)
    result = accrue_loan([installment], terms(grace=3), DUE + timedelta(days=4), None)
    assert result.new_accrued == {1: D("10800.00")}
    assert result.posted == {1: D("30.00")}


@settings(max_examples=120, deadline=None)
@given(
    bases=st.lists(
        st.tuples(
            st.decimals(min_value=D("0"), max_value=D("50000"), places=2),
            st.decimals(min_value=D("0"), max_value=D("2000"), places=2),
        ),
        min_size=1,
        max_size=20,
    ),
    later=st.lists(
        st.tuples(
            st.integers(1, 5),
            st.decimals(min_value=D("-5000"), max_value=D("5000"), places=2),
            st.decimals(min_value=D("-200"), max_value=D("200"), places=2),
        ),
        max_size=3,
    ),
    earlier=st.lists(
        st.tuples(
            st.integers(-5, 1),
            st.decimals(min_value=D("-5000"), max_value=D("5000"), places=2),
        ),
        max_size=3,
    ),
    rate=st.decimals(min_value=D("0.000001"), max_value=D("0.6"), places=6),
    base=st.sampled_from([P, PI]),
    day_count=st.sampled_from(list(DayCount)),
)
def test_a_catch_up_charges_each_day_on_that_days_base(
    bases, later, earlier, rate, base, day_count
):
    # `bases[k]` is the (principal, interest) outstanding on day k + 1 of a catch-up counted from
    # the due date; today's outstanding also holds postings valued after the night (`later`) and
    # the catch-up sees postings valued on or before its first day (`earlier`).
    t = terms(base=base, rate=str(rate), day_count=day_count)
    days = len(bases)
    as_of = DUE + timedelta(days=days)
    changes = [
        BaseChange(DUE + timedelta(days=k + 1), p - bases[k - 1][0], i - bases[k - 1][1])
        for k, (p, i) in enumerate(bases)
        if k
    ]
    changes += [BaseChange(as_of + timedelta(days=n), p, i) for n, p, i in later]
    changes += [BaseChange(DUE + timedelta(days=n), p) for n, p in earlier]
    principal, interest = bases[-1]
    principal += sum((p for _, p, _ in later), D("0"))
    interest += sum((i for _, _, i in later), D("0"))
    catch_up = inst(principal=str(principal), interest=str(interest), changes=tuple(changes))

    def base_of(p, i):
        return p + i if base == PI else p

    expected = sum((base_of(p, i) * rate for p, i in bases), D("0"))
    assert day_penalty_accrued(catch_up, t, as_of) == expected
    at_once = accrue_loan([catch_up], t, as_of, None)
    assert at_once.new_accrued.get(1, D("0")) == expected
    # … the same as closing each night on the outstanding of that day, to the cent.
    one_by_one = [inst(principal=str(p), interest=str(i)) for p, i in bases]
    accrued, through, posted = D("0"), None, D("0")
    for day, nightly in enumerate(one_by_one, start=1):
        nightly.penalty_accrued, nightly.accrued_through = accrued, through
        result = accrue_loan([nightly], t, DUE + timedelta(days=day), None)
        accrued, through = result.new_accrued[1], DUE + timedelta(days=day)
        posted += result.total
    assert accrued == expected
    assert at_once.total == posted == penalty_of(expected, day_count, "CNY")
    basis = DAY_COUNT_BASIS[day_count]
    assert Fraction(posted) == half_up_to_the_cent(Fraction(expected) / basis)


# ----------------------------------------------------------------------------- day count


@pytest.mark.parametrize(
    ("day_count", "posted"),
    [
        # 10,000 × 0.27 / 360 = 7.50
        (DayCount.ACT_360, D("7.50")),
        # 10,000 × 0.27 / 365 = 2,700 / 365 = 7.39726… → 7.40
        (DayCount.ACT_365F, D("7.40")),
        # 30/360 divides by 360 too: 7.50
        (DayCount.THIRTY_360, D("7.50")),
    ],
)
def test_day_count_one_day(day_count, posted):
    result = accrue_loan([inst()], terms(day_count=day_count), DUE + timedelta(days=1), None)
    assert result.posted == {1: posted}
    # The accrual is 10,000 × 0.27 × 1 day = 2,700 whatever the basis: the basis only enters
    # when it is rounded (2,700 / 365 is no finite decimal; 2,700 is).
    assert result.new_accrued[1] == D("2700.00")
    assert penalty_of(result.new_accrued[1], day_count, "CNY") == posted


@pytest.mark.parametrize(
    ("day_count", "total"),
    [
        # February 2025 has 28 actual days; penalty days are actual days under every basis.
        # ACT/360: 2,700 × 28 / 360 = 210.00
        (DayCount.ACT_360, D("210.00")),
        # ACT/365F: 2,700 × 28 / 365 = 75,600 / 365 = 207.1232… → 207.12
        # (rounding each day would give 28 × 7.40 = 207.20)
        (DayCount.ACT_365F, D("207.12")),
        # 30/360: 28 actual days, not 30 → 210.00 (a 30-day month would be 225.00)
        (DayCount.THIRTY_360, D("210.00")),
    ],
)
def test_day_count_over_february_counts_actual_days(day_count, total):
    installment = inst(due=date(2025, 1, 31))
    results = run_days([installment], terms(day_count=day_count), date(2025, 2, 1), 28)
    assert sum((r.total for r in results), D("0")) == total


# ----------------------------------------------------------------------------- cumulative rounding


def test_thirty_days_cumulative_rounding_on_principal_plus_interest():
    # 10,150 × 0.27 / 360 = 7.6125 a day; 30 days exact = 228.375 → 228.38 in total.
    # Rounding each day would give 30 × 7.61 = 228.30. Days alternate 7.61 / 7.62 / 7.61 / 7.61:
    # cumulative exact 7.6125, 15.225, 22.8375, 30.45 → rounded 7.61, 15.23, 22.84, 30.45.
    installment = inst()
    results = run_days([installment], terms(base=PI), DUE + timedelta(days=1), 30)
    posted = [r.total for r in results]
    assert posted[:4] == [D("7.61"), D("7.62"), D("7.61"), D("7.61")]
    assert sum(posted, D("0")) == D("228.38")
    assert installment.penalty_accrued == D("82215.00")  # 10,150 × 0.27 × 30 (228.375 × 360)


def test_a_half_cent_tie_rounds_up_night_by_night_and_caught_up():
    # 1,002.00 × 0.10 / 360 = 0.27833… a day; three days are exactly 0.835, which rounds up to
    # 0.84. Kept as the penalty × 360 the accrual is 300.6 exactly; the old figure, divided and
    # kept to 12 places, was 0.834999999999 and posted 0.83 (issue 9).
    t = terms(rate="0.10")
    nightly = inst(principal="1002.00", interest="0")
    results = run_days([nightly], t, DUE + timedelta(days=1), 3)
    # exact 0.2783…, 0.5566…, 0.835 → rounded 0.28, 0.56, 0.84
    assert [r.total for r in results] == [D("0.28"), D("0.28"), D("0.28")]
    assert nightly.penalty_accrued == D("300.600")  # 1,002 × 0.10 × 3 days
    caught_up = accrue_loan([inst(principal="1002.00", interest="0")], t, DUE + timedelta(3), None)
    assert caught_up.new_accrued == {1: D("300.600")}
    assert caught_up.posted == {1: D("0.84")}


def test_rerun_of_an_accrued_date_posts_nothing():
    # accrued_through = the date: nothing twice; a later accrued_through likewise.
    as_of = DUE + timedelta(days=5)
    for through in (as_of, as_of + timedelta(days=1)):
        installment = inst(accrued="13500", through=through)  # 5 days: 10,000 × 0.27 × 5
        result = accrue_loan([installment], terms(), as_of, None)
        assert result.posted == {}
        assert result.total == D("0")
        assert result.new_accrued == {}
        assert day_penalty_accrued(installment, terms(), as_of) == D("0")


def test_rerun_in_a_multi_installment_loan_only_accrues_the_missing_one():
    # Installment 1 already has 16 Mar; installment 2 (due 12 Mar) does not: only 2 posts 7.50.
    # Accrued so far: 1 = 6 days × 2,700 = 16,200 (45.00); 2 = 3 days × 2,700 = 8,100 (22.50).
    as_of = date(2025, 3, 16)
    first = inst(1, accrued="16200", through=as_of)
    second = inst(2, due=date(2025, 3, 12), accrued="8100", through=as_of - timedelta(days=1))
    result = accrue_loan([first, second], terms(), as_of, None)
    assert result.posted == {2: D("7.50")}
    assert result.new_accrued == {2: D("10800.00")}  # 10,000 × 0.27 × 4 days (30.00 × 360)


def half_up_to_the_cent(value: Fraction) -> Fraction:
    """A non-negative exact amount rounded half up to the cent (0.835 → 0.84)."""
    return Fraction(math.floor(value * 100 + Fraction(1, 2)), 100)


@settings(max_examples=120, deadline=None)
@given(
    principal=st.decimals(min_value=D("0.01"), max_value=D("2000000"), places=2),
    interest=st.decimals(min_value=D("0"), max_value=D("50000"), places=2),
    rate=st.decimals(min_value=D("0.000001"), max_value=D("0.6"), places=6),
    days=st.integers(min_value=1, max_value=60),
    base=st.sampled_from([P, PI]),
    day_count=st.sampled_from(list(DayCount)),
)
# The tie of issue 9: 1,002.00 × 0.10 / 360 = 0.27833… a day, three days exactly 0.835. Kept
# divided to 12 places the sum was 0.834999999999 and posted 0.83; kept × 360 it is 300.6 → 0.84.
@example(
    principal=D("1002.00"),
    interest=D("0"),
    rate=D("0.1"),
    days=3,
    base=P,
    day_count=DayCount.ACT_360,
)
# A tie on ACT/365F: 1,219.10 × 0.25 × 1 day = 304.775 = 0.835 × 365 → 0.84.
@example(
    principal=D("1219.10"),
    interest=D("0"),
    rate=D("0.25"),
    days=1,
    base=P,
    day_count=DayCount.ACT_365F,
)
def test_cumulative_rounding_never_drifts(principal, interest, rate, days, base, day_count):
    installment = inst(principal=str(principal), interest=str(interest))
    t = terms(base=base, rate=str(rate), day_count=day_count)
    first = DUE + timedelta(days=1)
    accrued_sum = D("0")
    posted_sum = D("0")
    for offset in range(days):
        as_of = first + timedelta(days=offset)
        added = day_penalty_accrued(installment, t, as_of)
        accrued_sum += added
        result = accrue_loan([installment], t, as_of, None)
        # posting the day moves the accrual by exactly that day's base × rate × 1 day
        assert result.new_accrued[1] == installment.penalty_accrued + added
        installment.penalty_accrued = result.new_accrued[1]
        installment.accrued_through = as_of
        assert result.total >= 0
        posted_sum += result.total
        # re-running the same day posts nothing
        assert accrue_loan([installment], t, as_of, None).total == 0
    basis = {DayCount.ACT_360: 360, DayCount.ACT_365F: 365, DayCount.THIRTY_360: 360}[day_count]
    amount = Fraction(principal) + (Fraction(interest) if base == PI else 0)
    # The accrual kept is exact — base × rate × days, not a digit lost …
    assert Fraction(installment.penalty_accrued) == amount * Fraction(rate) * days
    assert installment.penalty_accrued == accrued_sum
    # … and what was posted is the true penalty, base × rate × days / basis, rounded half up to
    # the cent: exactly, not merely within half a cent of it.
    true = amount * Fraction(rate) * days / basis
    assert Fraction(posted_sum) == half_up_to_the_cent(true)
    assert posted_sum == penalty_of(installment.penalty_accrued, day_count, "CNY")


# ----------------------------------------------------------------------------- cost cap


CAP_START = date(2025, 1, 1)
CAP_MATURITY = date(2025, 7, 1)  # 181 days after the start


def fixed_cap() -> CostCap:
    # 10,000.00 lent with a 500.00 upfront fee: 9,500.00 received; fixed 24 % ceiling.
    return CostCap(
        amount_received=D("9500.00"),
        annual_rate=D("0.24"),
        start_date=CAP_START,
        maturity_date=CAP_MATURITY,
    )


def test_fixed_cap_allowed_cost_before_maturity_uses_the_term():
    # max(11 Mar, 1 Jul) − 1 Jan = 181 days: 9,500 × 0.24 × 181 / 365 = 412,680 / 365
    # = 1,130.6301… → 1,130.63.
    assert fixed_cap().allowed_cost(date(2025, 3, 11)) == D("1130.63")


def test_fixed_cap_allowed_cost_after_maturity_uses_the_business_date():
    # max(1 Aug, 1 Jul) − 1 Jan = 212 days: 9,500 × 0.24 = 2,280; 2,280 × 212 / 365
    # = 483,360 / 365 = 1,324.2739… → 1,324.27.
    assert fixed_cap().allowed_cost(date(2025, 8, 1)) == D("1324.27")


def test_fixed_cap_headroom():
    # Cost so far: interest 580.00 + fee 500.00 + penalty 40.00 = 1,120.00 → 1,130.63 − 1,120.00
    # = 10.63; a cost above the allowance leaves no headroom (never negative).
    cap = fixed_cap()
    assert cap.headroom(date(2025, 3, 11), D("1120.00")) == D("10.63")
    assert cap.headroom(date(2025, 3, 11), D("1130.63")) == D("0")
    assert cap.headroom(date(2025, 3, 11), D("1200.00")) == D("0")


def test_cap_uses_the_amount_received_and_the_loans_booked_cap():
    # Loan.cost_cap: principal 10,000 − upfront fee 500 = 9,500 received; a fee owed with the
    # first installment is not deducted (10,000 received). A fixed cap needs no LPR.
    product = LoanProduct(cost_cap_type="fixed", cost_cap_value=D("0.24"))
    loan = booked(
        product,
        principal=D("10000.00"),
        origination_fee=D("500.00"),
        fee_collection=FeeCollection.UPFRONT.value,
        start_date=CAP_START,
        maturity_date=CAP_MATURITY,
        currency="CNY",
    )
    assert loan.upfront_fee == D("500.00")
    assert loan.cost_cap(None) == fixed_cap()
    # A product edit after booking changes nothing for the loan: its cap was frozen at booking.
    product.cost_cap_type, product.cost_cap_value = "lpr_multiple", D("4")
    assert loan.cost_cap(None) == fixed_cap()
    loan.fee_collection = FeeCollection.FIRST_INSTALLMENT.value
    assert loan.upfront_fee == D("0")
    assert loan.cost_cap(None).amount_received == D("10000.00")


def test_cap_reached_mid_month_posts_exactly_the_headroom_then_nothing():
    # Headroom 10.63 (above), 7.50 a day (10,000 × 0.27 / 360):
    #   12 Mar: 7.50 fits → posts 7.50, headroom left 3.13, not capped;
    #   13 Mar: 7.50 > 3.13 → posts 3.13, capped;
    #   14 Mar: headroom 0 → posts 0, capped.
    cap = fixed_cap()
    cost_before = D("1120.00")
    installment = inst(due=date(2025, 3, 11))
    results = run_days(
        [installment],
        terms(),
        date(2025, 3, 12),
        3,
        headroom=lambda as_of, posted: cap.headroom(as_of, cost_before + posted),
    )
    assert [r.total for r in results] == [D("7.50"), D("3.13"), D("0")]
    assert [r.capped for r in results] == [False, True, True]
    # the exact figure stops at what was posted: no fraction past the cap is carried forward
    assert installment.penalty_accrued == D("3826.80")  # 10.63 posted × 360


def test_headroom_below_one_day_posts_exactly_the_headroom():
    # 7.50 due, 0.37 of headroom → posts 0.37, capped; exact = 0.00 + 0.37.
    result = accrue_loan([inst()], terms(), DUE + timedelta(days=1), D("0.37"))
    assert result.posted == {1: D("0.37")}
    assert result.new_accrued == {1: D("133.20")}  # 0.37 × 360
    assert result.capped is True


def test_zero_headroom_posts_nothing_and_flags_capped():
    # One day accrued before (7.50 = 2,700 / 360); the second finds no headroom.
    result = accrue_loan([inst(accrued="2700")], terms(), DUE + timedelta(days=2), D("0"))
    assert result.posted == {}
    assert result.total == D("0")
    assert result.capped is True


def test_at_the_cap_a_fraction_of_a_cent_is_not_carried_forward():
    # 1.00 × 0.36 / 365 = 0.000986… a day: nothing to post, but with no headroom left the loan is
    # at its cap, and the exact figure is cut back to what was posted (0.004 → 0.00; kept × 365:
    # 1.46 → 0.00).
    installment = inst(principal="1.00", interest="0", accrued="1.46", through=DUE)
    t = terms(rate="0.36", day_count=DayCount.ACT_365F)
    result = accrue_loan([installment], t, DUE + timedelta(days=1), D("0"))
    assert result.posted == {}
    assert result.capped is True
    assert result.new_accrued == {1: D("0.00")}
    # with headroom the fraction keeps accumulating: 0.004 + 0.000986… = 0.004986… → still 0.00
    # (kept × 365: 1.46 + 1.00 × 0.36 × 1 day = 1.82, exactly)
    free = accrue_loan([installment], t, DUE + timedelta(days=1), D("1.00"))
    assert free.posted == {}
    assert free.capped is False
    assert free.new_accrued[1] == D("1.82")


def test_headroom_exactly_one_day_posts_it_uncapped():
    # 7.50 due, 7.50 of headroom: it all fits.
    result = accrue_loan([inst()], terms(), DUE + timedelta(days=1), D("7.50"))
    assert result.posted == {1: D("7.50")}
    assert result.capped is False


def test_multi_installment_cap_fills_the_oldest_first():
    # Two overdue installments of 10,000 principal each, 7.50 a day each; headroom 10.00.
    # Oldest (due 10 Feb) takes 7.50, the next (due 10 Mar) the remaining 2.50.
    # Ids and list order deliberately disagree with due dates: the due date decides.
    # The older one has accrued 28 days (10 Feb → 10 Mar): 210.00, i.e. 28 × 2,700 = 75,600.
    older = inst(7, due=date(2025, 2, 10), accrued="75600", through=date(2025, 3, 10))
    newer = inst(3, due=date(2025, 3, 10))
    result = accrue_loan([newer, older], terms(), date(2025, 3, 11), D("10.00"))
    assert result.posted == {7: D("7.50"), 3: D("2.50")}
    assert result.total == D("10.00")
    assert result.capped is True
    # 7: 29 days × 2,700 = 78,300 (217.50 × 360); 3: cut to what was posted, 2.50 × 360 = 900.
    assert result.new_accrued == {7: D("78300.00"), 3: D("900.00")}


def test_multi_installment_cap_smaller_than_the_oldest_share():
    # Headroom 5.00 < 7.50: the oldest gets 5.00, the newer nothing.
    older = inst(1, due=date(2025, 2, 10), accrued="75600", through=date(2025, 3, 10))
    newer = inst(2, due=date(2025, 3, 10))
    result = accrue_loan([older, newer], terms(), date(2025, 3, 11), D("5.00"))
    assert result.posted == {1: D("5.00")}
    assert result.capped is True


@settings(max_examples=120, deadline=None)
@given(
    principals=st.lists(
        st.decimals(min_value=D("1"), max_value=D("50000"), places=2), min_size=1, max_size=4
    ),
    headroom=st.decimals(min_value=D("0"), max_value=D("100"), places=2),
)
def test_cap_never_exceeded_and_fills_oldest_first(principals, headroom):
    # One day on several installments (oldest = lowest index): the total posted is
    # min(uncapped total, headroom), and each installment gets min(its amount, what is left).
    # Every principal here is ≥ 1.00, so each installment accrues a positive exact amount.
    installments = [
        inst(i + 1, due=DUE - timedelta(days=30 * i), principal=str(p))
        for i, p in enumerate(principals)
    ]
    t = terms(rate="0.36", day_count=DayCount.ACT_365F)
    as_of = DUE + timedelta(days=1)
    uncapped = accrue_loan(installments, t, as_of, None)
    result = accrue_loan(installments, t, as_of, headroom)
    assert result.total == min(uncapped.total, headroom)
    left = headroom
    capped = False
    for installment in sorted(installments, key=lambda i: i.due_date):
        wanted = uncapped.posted.get(installment.installment_id, D("0"))
        expected = min(wanted, left)
        assert result.posted.get(installment.installment_id, D("0")) == expected
        # capped: something did not fit, or something (even a fraction of a cent) would
        # have accrued with no headroom left
        capped = capped or wanted > left or left == 0
        left -= expected
    assert result.capped == capped


# ----------------------------------------------------------------------------- LPR cap


# One-year LPR history, newest first (as the step reads it): 3.45 % from 21 Aug 2023,
# 3.35 % from 22 Jul 2024, 3.10 % from 21 Oct 2024.
LPR_RATES = [
    (date(2024, 10, 21), D("0.0310")),
    (date(2024, 7, 22), D("0.0335")),
    (date(2023, 8, 21), D("0.0345")),
]


@pytest.mark.parametrize(
    ("contract_date", "rate"),
    [
        (date(2023, 8, 21), D("0.0345")),  # effective that very day
        (date(2024, 5, 1), D("0.0345")),
        (date(2024, 7, 21), D("0.0345")),  # the day before the cut
        (date(2024, 7, 22), D("0.0335")),
        (date(2024, 12, 31), D("0.0310")),
    ],
)
def test_lpr_in_force_on_the_contract_date(contract_date, rate):
    assert lpr_on(LPR_RATES, contract_date) == rate


def test_lpr_before_the_first_rate_is_an_error():
    with pytest.raises(LookupError, match="2023-08-20"):
        lpr_on(LPR_RATES, date(2023, 8, 20))


def test_lpr_cap_four_times_the_lpr():
    # Contract 1 May 2024: LPR 3.45 %, cap 4 × 3.45 % = 13.8 %.
    # 10,000 received for 365 days (1 May 2024 → 1 May 2025): 10,000 × 0.138 × 365 / 365 = 1,380.00.
    product = LoanProduct(cost_cap_type="lpr_multiple", cost_cap_value=D("4"))
    loan = booked(
        product,
        principal=D("10000.00"),
        origination_fee=D("0.00"),
        fee_collection=FeeCollection.UPFRONT.value,
        start_date=date(2024, 5, 1),
        maturity_date=date(2025, 5, 1),
        currency="CNY",
    )
    cap = loan.cost_cap(lpr_on(LPR_RATES, loan.start_date))
    assert cap.annual_rate == D("0.1380")
    assert cap.allowed_cost(date(2024, 9, 1)) == D("1380.00")
    # cost so far 1,375.00 → headroom 5.00; 7.50 of penalty due → 5.00 posted, capped.
    room = cap.headroom(date(2024, 9, 1), D("1375.00"))
    assert room == D("5.00")
    result = accrue_loan([inst(due=date(2024, 8, 31))], terms(), date(2024, 9, 1), room)
    assert result.posted == {1: D("5.00")}
    assert result.capped is True


def test_lpr_cap_uses_the_rate_in_force_on_the_contract_date_not_today():
    # Contract 1 Aug 2024 (LPR 3.35 %) → 4 × 3.35 % = 13.4 %; 10,000 × 0.134 × 365 / 365 = 1,340.00
    # even though 3.10 % is in force on the business date.
    product = LoanProduct(cost_cap_type="lpr_multiple", cost_cap_value=D("4"))
    loan = booked(
        product,
        principal=D("10000.00"),
        origination_fee=D("0.00"),
        fee_collection=FeeCollection.UPFRONT.value,
        start_date=date(2024, 8, 1),
        maturity_date=date(2025, 8, 1),
        currency="CNY",
    )
    cap = loan.cost_cap(lpr_on(LPR_RATES, loan.start_date))
    assert cap.annual_rate == D("0.1340")
    assert cap.allowed_cost(date(2025, 1, 15)) == D("1340.00")
    # Raising the product's multiple after booking leaves the loan's cap at 4 × the LPR.
    product.cost_cap_value = D("6")
    assert loan.cost_cap(lpr_on(LPR_RATES, loan.start_date)).annual_rate == D("0.1340")
