"""Tests for lending.penalty: penalty interest on overdue installments and the all-in cost cap.

Every expected figure is worked out by hand in a comment next to it (DESIGN §4, §6): amounts are
ROUND_HALF_UP to the cent, posted by cumulative rounding (round(new exact) − round(old exact)).
The LPR look-up and the glue that turns a product into terms and a cap live in the nightly step
(`lending.close_of_business.lending_steps`); importing it needs Django settings (pytest-django
sets them) but no database: the model instances below are never saved.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.close_of_business.lending_steps import _cap, _terms, _upfront_fee, lpr_on
from lending.models import Loan, LoanProduct
from lending.penalty import (
    CostCap,
    LoanAccrual,
    OverdueInstallment,
    PenaltyTerms,
    accrue_loan,
    day_penalty,
    days_to_accrue,
    penalty_rate,
)
from lending.schedules import DayCount, FeeCollection

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
    exact: str = "0",
    through: date | None = None,
) -> OverdueInstallment:
    return OverdueInstallment(
        installment_id=installment_id,
        due_date=due,
        principal_outstanding=D(principal),
        interest_outstanding=D(interest),
        penalty_exact=D(exact),
        accrued_through=through,
    )


def run_days(
    installments: list[OverdueInstallment],
    t: PenaltyTerms,
    first: date,
    days: int,
    headroom=None,
) -> list[LoanAccrual]:
    """Run the nightly accrual for `days` consecutive business dates from `first`, carrying each
    installment's exact figure and accrued-through date forward as the nightly step does.
    `headroom` is None (no cap) or a callable(as_of, posted so far) -> headroom."""
    results = []
    posted_so_far = D("0")
    for offset in range(days):
        as_of = first + timedelta(days=offset)
        room = None if headroom is None else headroom(as_of, posted_so_far)
        result = accrue_loan(installments, t, as_of, room)
        for installment in installments:
            if installment.installment_id in result.new_exact:
                installment.penalty_exact = result.new_exact[installment.installment_id]
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


def test_terms_from_a_product_use_the_effective_rate():
    # The nightly step's _terms: a contract-multiple product on an 18 % loan accrues at 27 %.
    product = LoanProduct(
        penalty_base=PI,
        penalty_rate_type="contract_multiple",
        penalty_rate_value=D("1.5"),
        grace_days=3,
        penalty_start="grace_end",
    )
    loan = Loan(product=product, annual_rate=D("0.18"), day_count=DayCount.ACT_365F.value)
    built = _terms(loan)
    assert built == PenaltyTerms(
        base=PI, annual_rate=D("0.27"), grace_days=3, start="grace_end", day_count=DayCount.ACT_365F
    )
    product.penalty_rate_type, product.penalty_rate_value = "absolute", D("0.24")
    assert _terms(loan).annual_rate == D("0.24")


# ----------------------------------------------------------------------------- base


def test_base_overdue_principal_one_day():
    # 10,000.00 overdue principal × 0.27 (0.18 × 1.5) / 360 × 1 day = 2,700 / 360 = 7.50;
    # the 150.00 overdue interest is not part of this base.
    t = terms(base=P, rate=str(penalty_rate("contract_multiple", D("1.5"), D("0.18"))))
    result = accrue_loan([inst()], t, DUE + timedelta(days=1), None)
    assert result.posted == {1: D("7.50")}
    assert result.new_exact == {1: D("7.5")}
    assert result.capped is False


def test_base_overdue_principal_plus_interest_one_day():
    # (10,000.00 + 150.00) × 0.27 / 360 × 1 = 2,740.50 / 360 = 7.6125 exact → posts 7.61.
    result = accrue_loan([inst()], terms(base=PI), DUE + timedelta(days=1), None)
    assert result.posted == {1: D("7.61")}
    assert result.new_exact[1] == D("7.6125")


def test_base_principal_plus_interest_second_day_posts_the_rounding_catch_up():
    # Day 2: exact 7.6125 × 2 = 15.225 → round 15.23; posts 15.23 − 7.61 = 7.62.
    installment = inst(exact="7.6125", through=DUE + timedelta(days=1))
    result = accrue_loan([installment], terms(base=PI), DUE + timedelta(days=2), None)
    assert result.posted == {1: D("7.62")}
    assert result.new_exact[1] == D("15.2250")


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
    assert installment.penalty_exact == D("37.5")


def test_grace_three_days_counted_from_the_end_of_grace():
    # Same loan, counting from the end of grace: 14 Mar posts 1 day = 7.50; 15 Mar 7.50.
    installment = inst()
    results = run_days([installment], terms(grace=3, start="grace_end"), DUE + timedelta(1), 5)
    assert [r.total for r in results] == [D("0"), D("0"), D("0"), D("7.50"), D("7.50")]
    assert installment.penalty_exact == D("15.0")


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
    # 14 Mar already accrued (the 4-day catch-up, exact 30): re-running 14 Mar posts nothing.
    installment = inst(exact="30", through=DUE + timedelta(days=4))
    result = accrue_loan([installment], terms(grace=3), DUE + timedelta(days=4), None)
    assert result.posted == {}
    assert result.new_exact == {}


# ----------------------------------------------------------------------------- day count


@pytest.mark.parametrize(
    ("day_count", "exact", "posted"),
    [
        # 10,000 × 0.27 / 360 = 7.50
        (DayCount.ACT_360, D("7.5"), D("7.50")),
        # 10,000 × 0.27 / 365 = 2,700 / 365 = 7.39726… → 7.40
        (DayCount.ACT_365F, D(2700) / D(365), D("7.40")),
        # 30/360 divides by 360 too: 7.50
        (DayCount.THIRTY_360, D("7.5"), D("7.50")),
    ],
)
def test_day_count_one_day(day_count, exact, posted):
    result = accrue_loan([inst()], terms(day_count=day_count), DUE + timedelta(days=1), None)
    assert result.posted == {1: posted}
    assert result.new_exact[1] == exact


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
    assert installment.penalty_exact == D("228.375")


def test_rerun_of_an_accrued_date_posts_nothing():
    # accrued_through = the date: nothing twice; a later accrued_through likewise.
    as_of = DUE + timedelta(days=5)
    for through in (as_of, as_of + timedelta(days=1)):
        installment = inst(exact="37.5", through=through)
        result = accrue_loan([installment], terms(), as_of, None)
        assert result.posted == {}
        assert result.total == D("0")
        assert result.new_exact == {}
        assert day_penalty(installment, terms(), as_of) == D("0")


def test_rerun_in_a_multi_installment_loan_only_accrues_the_missing_one():
    # Installment 1 already has 16 Mar; installment 2 (due 12 Mar) does not: only 2 posts 7.50.
    as_of = date(2025, 3, 16)
    first = inst(1, exact="45", through=as_of)
    second = inst(2, due=date(2025, 3, 12), exact="22.5", through=as_of - timedelta(days=1))
    result = accrue_loan([first, second], terms(), as_of, None)
    assert result.posted == {2: D("7.50")}
    assert result.new_exact == {2: D("30.0")}


@settings(max_examples=120, deadline=None)
@given(
    principal=st.decimals(min_value=D("0.01"), max_value=D("2000000"), places=2),
    interest=st.decimals(min_value=D("0"), max_value=D("50000"), places=2),
    rate=st.decimals(min_value=D("0.000001"), max_value=D("0.6"), places=6),
    days=st.integers(min_value=1, max_value=60),
    base=st.sampled_from([P, PI]),
    day_count=st.sampled_from(list(DayCount)),
)
def test_cumulative_rounding_never_drifts(principal, interest, rate, days, base, day_count):
    installment = inst(principal=str(principal), interest=str(interest))
    t = terms(base=base, rate=str(rate), day_count=day_count)
    first = DUE + timedelta(days=1)
    exact_sum = D("0")
    posted_sum = D("0")
    for offset in range(days):
        as_of = first + timedelta(days=offset)
        exact_sum += day_penalty(installment, t, as_of)
        result = accrue_loan([installment], t, as_of, None)
        # posting the day moves the exact figure by exactly that day's exact penalty
        installment.penalty_exact = result.new_exact[1]
        installment.accrued_through = as_of
        assert result.total >= 0
        posted_sum += result.total
        # re-running the same day posts nothing
        assert accrue_loan([installment], t, as_of, None).total == 0
    assert posted_sum == exact_sum.quantize(D("0.01"), rounding=ROUND_HALF_UP)
    # … and is within half a cent of the true amount, base × rate × days / basis
    basis = {DayCount.ACT_360: 360, DayCount.ACT_365F: 365, DayCount.THIRTY_360: 360}[day_count]
    amount = Fraction(principal) + (Fraction(interest) if base == PI else 0)
    true = amount * Fraction(rate) * days / basis
    assert abs(Fraction(posted_sum) - true) <= Fraction(1, 200)


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


def test_cap_uses_the_amount_received_from_the_product_and_loan():
    # The nightly step's _cap: principal 10,000 − upfront fee 500 = 9,500 received; a fee owed
    # with the first installment is not deducted (10,000 received).
    product = LoanProduct(cost_cap_type="fixed", cost_cap_value=D("0.24"))
    loan = Loan(
        product=product,
        principal=D("10000.00"),
        origination_fee=D("500.00"),
        fee_collection=FeeCollection.UPFRONT.value,
        start_date=CAP_START,
        maturity_date=CAP_MATURITY,
    )
    assert _upfront_fee(loan) == D("500.00")
    assert _cap(loan, []) == fixed_cap()
    loan.fee_collection = FeeCollection.FIRST_INSTALLMENT.value
    assert _upfront_fee(loan) == D("0")
    assert _cap(loan, []).amount_received == D("10000.00")


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
    assert installment.penalty_exact == D("10.63")


def test_headroom_below_one_day_posts_exactly_the_headroom():
    # 7.50 due, 0.37 of headroom → posts 0.37, capped; exact = 0.00 + 0.37.
    result = accrue_loan([inst()], terms(), DUE + timedelta(days=1), D("0.37"))
    assert result.posted == {1: D("0.37")}
    assert result.new_exact == {1: D("0.37")}
    assert result.capped is True


def test_zero_headroom_posts_nothing_and_flags_capped():
    result = accrue_loan([inst(exact="7.5")], terms(), DUE + timedelta(days=2), D("0"))
    assert result.posted == {}
    assert result.total == D("0")
    assert result.capped is True


def test_at_the_cap_a_fraction_of_a_cent_is_not_carried_forward():
    # 1.00 × 0.36 / 365 = 0.000986… a day: nothing to post, but with no headroom left the loan is
    # at its cap, and the exact figure is cut back to what was posted (0.004 → 0.00).
    installment = inst(principal="1.00", interest="0", exact="0.004", through=DUE)
    t = terms(rate="0.36", day_count=DayCount.ACT_365F)
    result = accrue_loan([installment], t, DUE + timedelta(days=1), D("0"))
    assert result.posted == {}
    assert result.capped is True
    assert result.new_exact == {1: D("0.00")}
    # with headroom the fraction keeps accumulating: 0.004 + 0.000986… = 0.004986… → still 0.00
    free = accrue_loan([installment], t, DUE + timedelta(days=1), D("1.00"))
    assert free.posted == {}
    assert free.capped is False
    assert free.new_exact[1] == D("0.004") + D("0.36") / D(365)


def test_headroom_exactly_one_day_posts_it_uncapped():
    # 7.50 due, 7.50 of headroom: it all fits.
    result = accrue_loan([inst()], terms(), DUE + timedelta(days=1), D("7.50"))
    assert result.posted == {1: D("7.50")}
    assert result.capped is False


def test_multi_installment_cap_fills_the_oldest_first():
    # Two overdue installments of 10,000 principal each, 7.50 a day each; headroom 10.00.
    # Oldest (due 10 Feb) takes 7.50, the next (due 10 Mar) the remaining 2.50.
    # Ids and list order deliberately disagree with due dates: the due date decides.
    older = inst(7, due=date(2025, 2, 10), exact="210", through=date(2025, 3, 10))
    newer = inst(3, due=date(2025, 3, 10))
    result = accrue_loan([newer, older], terms(), date(2025, 3, 11), D("10.00"))
    assert result.posted == {7: D("7.50"), 3: D("2.50")}
    assert result.total == D("10.00")
    assert result.capped is True
    assert result.new_exact == {7: D("217.5"), 3: D("2.50")}


def test_multi_installment_cap_smaller_than_the_oldest_share():
    # Headroom 5.00 < 7.50: the oldest gets 5.00, the newer nothing.
    older = inst(1, due=date(2025, 2, 10), exact="210", through=date(2025, 3, 10))
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
    loan = Loan(
        product=product,
        principal=D("10000.00"),
        origination_fee=D("0.00"),
        fee_collection=FeeCollection.UPFRONT.value,
        start_date=date(2024, 5, 1),
        maturity_date=date(2025, 5, 1),
    )
    cap = _cap(loan, LPR_RATES)
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
    loan = Loan(
        product=product,
        principal=D("10000.00"),
        origination_fee=D("0.00"),
        fee_collection=FeeCollection.UPFRONT.value,
        start_date=date(2024, 8, 1),
        maturity_date=date(2025, 8, 1),
    )
    cap = _cap(loan, LPR_RATES)
    assert cap.annual_rate == D("0.1340")
    assert cap.allowed_cost(date(2025, 1, 15)) == D("1340.00")
