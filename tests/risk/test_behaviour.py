"""Tests for risk.behaviour: the policy's `behaviour` section and the nightly review's rules for
one limit (DESIGN §7). Pure: no database.

Worked examples use the default rules (freeze at 1 dpd, cut at 30 dpd to 50 %, restore after 3
on-time installments, propose +20 % after 6, cap 200,000) and the default policy's rounding of
100; each figure is worked out in the comment next to it.
"""

import copy
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from risk.behaviour import (
    CUT,
    DEFAULT_RULES,
    FREEZE,
    HOLD_CUT,
    HOLD_FROZEN,
    HOLD_NONE,
    PROPOSE,
    RELEASE,
    RESTORE,
    BehaviourRules,
    LimitState,
    cured_on,
    is_on_time,
    on_time_streak,
    review,
)
from risk.policy import DEFAULT_POLICY, PolicyError, parse_policy

D = Decimal
ROUNDING = D("100")
MONTHS = [date(2026, m, 15) for m in range(1, 13)]
LATE_BY = timedelta(days=5)


def with_behaviour(section) -> dict:
    definition = copy.deepcopy(DEFAULT_POLICY)
    definition["behaviour"] = section
    return definition


def issues(definition: dict) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(definition)
    return [(issue.rule, issue.message) for issue in caught.value.errors]


def paid(*flags: bool) -> tuple[tuple[date, date, bool], ...]:
    """Installments due on the 15th of January, February, …: paid on the due date when on time,
    five days late (the 20th) when not."""
    return tuple(
        (due, due if on_time else due + LATE_BY, on_time)
        for due, on_time in zip(MONTHS, flags, strict=False)
    )


def paid_on_the_day(*months: int) -> tuple[tuple[date, date, bool], ...]:
    """Installments due on the 15th of the given months (1 = January), each paid that day."""
    return tuple((MONTHS[m - 1], MONTHS[m - 1], True) for m in months)


def state(**changes) -> LimitState:
    base = LimitState(
        amount=D("10000.00"),
        status="active",
        hold=HOLD_NONE,
        worst_dpd=0,
        worst_loan="L0001",
        installments=(),
    )
    return replace(base, **changes)


def kinds(actions) -> list[str]:
    return [a.kind for a in actions]


# --------------------------------------------------------------------------- the section


def test_module_imports_no_django():
    code = (
        "import sys, risk.behaviour; "
        "bad = [m for m in sys.modules if m.split('.')[0] == 'django']; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_policy_without_the_section_uses_the_defaults():
    assert "behaviour" not in DEFAULT_POLICY
    rules = parse_policy(DEFAULT_POLICY).behaviour
    assert rules == DEFAULT_RULES
    assert (rules.freeze_dpd, rules.cut_dpd, rules.cut_to) == (1, 30, D("0.5"))
    assert (rules.restore_after_on_time, rules.increase_after_on_time) == (3, 6)
    assert (rules.increase_by, rules.increase_cap) == (D("0.2"), D("200000"))


def test_a_partial_section_keeps_the_defaults_for_what_it_leaves_out():
    rules = parse_policy(
        with_behaviour({"cut_to": 0.25, "increase_after_on_time": None, "restore_after_on_time": 0})
    ).behaviour
    assert rules == replace(
        DEFAULT_RULES, cut_to=D("0.25"), increase_after_on_time=None, restore_after_on_time=0
    )


@pytest.mark.parametrize(
    ("section", "rule", "words"),
    [
        ({"freeze_dpd": 0}, "behaviour.freeze_dpd", "must be at least 1 (got 0)"),
        ({"freeze_dpd": "1"}, "behaviour.freeze_dpd", "must be a whole number"),
        ({"freeze_dpd": 5, "cut_dpd": 3}, "behaviour.cut_dpd", "below freeze_dpd 5"),
        ({"cut_to": "1"}, "behaviour.cut_to", "below 1"),
        ({"cut_to": "-0.1"}, "behaviour.cut_to", "at least 0"),
        ({"cut_to": "half"}, "behaviour.cut_to", "must be a number"),
        ({"restore_after_on_time": -1}, "behaviour.restore_after_on_time", "at least 0"),
        ({"restore_after_on_time": None}, "behaviour.restore_after_on_time", "whole number"),
        ({"increase_after_on_time": 0}, "behaviour.increase_after_on_time", "at least 1"),
        ({"increase_by": "0"}, "behaviour.increase_by", "above 0"),
        ({"increase_by": "1.5"}, "behaviour.increase_by", "at most 1"),
        ({"increase_cap": "200000.01"}, "behaviour.increase_cap", "household cap of 200,000.00"),
        ({"colour": "red"}, "behaviour.colour", "unknown key 'colour'"),
        ([1, 30], "behaviour", "must be a JSON object"),
    ],
)
def test_a_bad_section_is_refused_naming_the_rule(section, rule, words):
    [(found_rule, message)] = issues(with_behaviour(section))
    assert found_rule == rule
    assert words in message


def test_every_problem_is_listed_with_the_rest_of_the_policy():
    definition = with_behaviour({"freeze_dpd": 0, "cut_to": "2", "increase_cap": "0"})
    definition["rounding"] = "-1"
    assert [rule for rule, _ in issues(definition)] == [
        "rounding",
        "behaviour.freeze_dpd",
        "behaviour.cut_to",
        "behaviour.increase_cap",
    ]


# --------------------------------------------------------------------------- on time


@pytest.mark.parametrize(
    ("settled_on", "written_off", "expected"),
    [
        (date(2026, 3, 10), False, True),  # early
        (date(2026, 3, 15), False, True),  # on the due date
        (date(2026, 3, 16), False, False),  # a day late
        (None, False, False),  # fallen due and unpaid
        (date(2026, 3, 1), True, False),  # settled by a write-off
    ],
)
def test_on_time_means_settled_by_the_due_date_and_not_written_off(
    settled_on, written_off, expected
):
    assert is_on_time(date(2026, 3, 15), settled_on, written_off=written_off) is expected


def test_the_streak_counts_on_time_installments_due_since_the_cure():
    # Jan on time, Feb late (paid Feb 20), then Mar, Apr, May on time: 3.
    assert on_time_streak(paid(True, False, True, True, True)) == 3
    # Counted after a proposal made on Apr 15 as well: only May.
    assert on_time_streak(paid(True, False, True, True, True), after=MONTHS[3]) == 1
    assert on_time_streak(paid(True, True)) == 2
    assert on_time_streak(paid(True, True, False)) == 0
    assert on_time_streak(()) == 0


def test_two_loans_due_the_same_day_one_late_break_the_streak_there():
    jan, feb, mar = MONTHS[:3]
    two_loans = ((jan, jan, True), (feb, feb, True), (feb, feb + LATE_BY, False), (mar, mar, True))
    assert on_time_streak(two_loans) == 1  # only March counts


def test_installments_paid_on_time_on_another_loan_while_one_is_late_do_not_count():
    # Loan A's Oct 1 installment is paid on Dec 10; loan B pays Oct 5, Nov 5, Dec 5 on the day.
    a = (date(2026, 10, 1), date(2026, 12, 10), False)
    b = [(date(2026, m, 5), date(2026, m, 5), True) for m in (10, 11, 12)]
    assert cured_on([a, *b]) == date(2026, 12, 10)
    # The night of the cure: B's three were paid while A was still late, so none counts.
    assert on_time_streak([a, *b]) == 0
    # B's Jan 5 installment is the first due after the cure.
    assert on_time_streak([a, *b, (date(2027, 1, 5), date(2027, 1, 5), True)]) == 1


def test_the_cure_is_the_last_late_installment_settled_or_its_due_date_if_later():
    assert cured_on(paid(True, True)) is None  # never late
    # Feb paid on Feb 20, Mar on Mar 20: the later settlement.
    assert cured_on(paid(True, False, False)) == date(2026, 3, 20)
    # A write-off on Mar 1 settled an installment due Apr 15: the hold lasts to its due date.
    assert cured_on([(MONTHS[3], date(2026, 3, 1), False)]) == MONTHS[3]
    # Unpaid, due tonight (nothing past due): nothing due after it has fallen due yet.
    assert cured_on([(MONTHS[0], MONTHS[0], True), (MONTHS[1], None, False)]) == MONTHS[1]


def _installment(due: date, settled_after: int | None, written_off: bool):
    """(due, settled on, on time) as the service builds it: `settled_after` days after the due
    date (negative: early), None for unpaid."""
    settled = None if settled_after is None else due + timedelta(days=settled_after)
    return (due, settled, is_on_time(due, settled, written_off=written_off))


installment_lists = st.lists(
    st.builds(
        _installment,
        st.dates(date(2025, 1, 1), date(2027, 12, 31)),
        st.none() | st.integers(-20, 60),
        st.booleans(),
    ),
    max_size=30,
)


def _last_day(items) -> date:
    return max((d for row in items for d in row[:2] if d is not None), default=date(2025, 1, 1))


@given(installment_lists, st.randoms())
def test_the_streak_ignores_the_order_installments_come_in(items, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert on_time_streak(shuffled) == on_time_streak(items)


@given(installment_lists)
def test_a_later_late_installment_resets_and_a_later_on_time_one_adds_one(items):
    later = _last_day(items) + timedelta(days=1)
    assert on_time_streak([*items, (later, later + LATE_BY, False)]) == 0
    assert on_time_streak([*items, (later, later, True)]) == on_time_streak(items) + 1
    assert on_time_streak(items) <= sum(on_time for *_, on_time in items)


@given(installment_lists, st.integers(0, 400))
def test_an_installment_due_by_the_cure_never_counts_however_it_was_paid(items, days_before):
    cured = cured_on(items)
    assume(cured is not None)
    due = cured - timedelta(days=days_before)
    assert on_time_streak([*items, (due, due, True)]) == on_time_streak(items)


# --------------------------------------------------------------------------- freeze and cut


def test_one_day_past_due_freezes_without_an_adverse_action_notice():
    [action] = review(state(worst_dpd=1, worst_loan="L0042"), DEFAULT_RULES, ROUNDING)
    assert (action.kind, action.status, action.hold) == (FREEZE, "frozen", HOLD_FROZEN)
    assert action.amount == D("10000.00")  # a freeze keeps the amount
    assert action.reason == "current delinquency: loan L0042 is 1 day past due (freeze at 1)"


def test_not_past_due_changes_nothing():
    assert review(state(), DEFAULT_RULES, ROUNDING) == []


def test_a_frozen_limit_is_not_frozen_again_before_the_cut():
    assert (
        review(state(worst_dpd=29, status="frozen", hold=HOLD_FROZEN), DEFAULT_RULES, ROUNDING)
        == []
    )


def test_thirty_days_past_due_cuts_to_half_rounded_down_to_100():
    # 10,000.00 × 0.5 = 5,000.00.
    [action] = review(
        state(worst_dpd=30, status="frozen", hold=HOLD_FROZEN), DEFAULT_RULES, ROUNDING
    )
    assert (action.kind, action.amount, action.status, action.hold) == (
        CUT,
        D("5000.00"),
        "frozen",
        HOLD_CUT,
    )
    assert action.reason == (
        "current delinquency: loan L0001 is 30 days past due (cut at 30); "
        "limit cut to 50%, 10,000.00 → 5,000.00"
    )
    # 12,345.00 × 0.5 = 6,172.50, rounded down to a multiple of 100: 6,100.00; an active limit
    # that jumps straight past the cut is frozen by the same change.
    [action] = review(state(amount=D("12345.00"), worst_dpd=45), DEFAULT_RULES, ROUNDING)
    assert (action.kind, action.amount, action.status) == (CUT, D("6100.00"), "frozen")


def test_a_limit_is_cut_once_per_delinquency():
    held = state(amount=D("5000.00"), worst_dpd=60, status="frozen", hold=HOLD_CUT)
    assert review(held, DEFAULT_RULES, ROUNDING) == []
    # A person unfroze it while the loan is still late: frozen again, but not cut again.
    [action] = review(replace(held, status="active"), DEFAULT_RULES, ROUNDING)
    assert (action.kind, action.amount, action.hold) == (FREEZE, D("5000.00"), HOLD_CUT)


def test_a_limit_a_person_froze_is_left_to_them():
    assert review(state(worst_dpd=90, status="frozen"), DEFAULT_RULES, ROUNDING) == []
    cured = state(status="frozen", installments=paid(*[True] * 12))
    assert review(cured, DEFAULT_RULES, ROUNDING) == []


def test_cuts_switched_off_only_freeze():
    rules = replace(DEFAULT_RULES, cut_dpd=None)
    assert kinds(review(state(worst_dpd=90), rules, ROUNDING)) == [FREEZE]


# --------------------------------------------------------------------------- restore


def test_restore_after_cure_and_three_on_time_installments_keeps_the_cut_amount():
    held = state(amount=D("5000.00"), status="frozen", hold=HOLD_CUT)
    # Jan late (the delinquency), then Feb and Mar on time: 2 of 3.
    assert (
        review(replace(held, installments=paid(False, True, True)), DEFAULT_RULES, ROUNDING) == []
    )
    [action] = review(
        replace(held, installments=paid(False, True, True, True)), DEFAULT_RULES, ROUNDING
    )
    assert (action.kind, action.status, action.hold, action.amount) == (
        RESTORE,
        "active",
        HOLD_NONE,
        D("5000.00"),
    )
    assert action.on_time == 3
    assert action.reason == (
        "cured on 2026-01-20, and 3 installments due since then paid on time (restore after 3)"
    )


def test_no_restore_on_the_night_of_the_cure_for_installments_paid_while_late():
    # Loan A's Jan 15 installment is paid on Apr 20; loan B paid Feb, Mar and Apr on the day.
    held = state(amount=D("5000.00"), status="frozen", hold=HOLD_CUT)
    late_a = (MONTHS[0], date(2026, 4, 20), False)
    b = paid_on_the_day(2, 3, 4)
    assert review(replace(held, installments=(late_a, *b)), DEFAULT_RULES, ROUNDING) == []
    # May, Jun and Jul fall due after the cure and are paid on time: restored on Jul 15.
    after_cure = paid_on_the_day(5, 6, 7)
    [action] = review(
        replace(held, installments=(late_a, *b, *after_cure)), DEFAULT_RULES, ROUNDING
    )
    assert (action.kind, action.on_time) == (RESTORE, 3)
    assert action.reason == (
        "cured on 2026-04-20, and 3 installments due since then paid on time (restore after 3)"
    )


def test_no_restore_while_a_loan_is_still_late():
    rules = replace(DEFAULT_RULES, freeze_dpd=3)  # 2 dpd is below the freeze but not cured
    held = state(status="frozen", hold=HOLD_FROZEN, worst_dpd=2, installments=paid(*[True] * 6))
    assert review(held, rules, ROUNDING) == []


def test_restore_after_zero_installments_restores_on_cure():
    rules = replace(DEFAULT_RULES, restore_after_on_time=0)
    held = state(status="frozen", hold=HOLD_FROZEN, installments=paid(False))
    assert kinds(review(held, rules, ROUNDING)) == [RESTORE]


def test_a_written_off_loan_keeps_the_limit_frozen_and_earns_no_increase():
    # Written off on Feb 1 after the Jan installment went unpaid; another loan pays Feb – Dec.
    lost = (MONTHS[0], date(2026, 2, 1), False)
    good = (lost, *paid_on_the_day(*range(2, 13)))
    held = state(amount=D("5000.00"), status="frozen", hold=HOLD_CUT, written_off=True)
    for k in (0, 3):
        rules = replace(DEFAULT_RULES, restore_after_on_time=k)
        assert review(replace(held, installments=good), rules, ROUNDING) == []
    # A person lifted the freeze: the review lets go of its hold, and proposes nothing.
    unfrozen = replace(held, status="active", installments=good)
    assert kinds(review(unfrozen, DEFAULT_RULES, ROUNDING)) == [RELEASE]
    assert review(replace(unfrozen, hold=HOLD_NONE), DEFAULT_RULES, ROUNDING) == []
    # A new delinquency on another loan still freezes.
    assert kinds(
        review(replace(unfrozen, hold=HOLD_NONE, worst_dpd=1), DEFAULT_RULES, ROUNDING)
    ) == [FREEZE]


def test_a_hold_on_a_limit_a_person_unfroze_is_released_once_cured():
    [action] = review(state(hold=HOLD_CUT), DEFAULT_RULES, ROUNDING)
    assert (action.kind, action.status, action.hold) == (RELEASE, "active", HOLD_NONE)


def test_a_restore_with_a_long_streak_also_proposes_an_increase():
    held = state(status="frozen", hold=HOLD_FROZEN, installments=paid(False, *[True] * 6))
    restore, propose = review(held, DEFAULT_RULES, ROUNDING)
    assert (restore.kind, propose.kind, propose.amount) == (RESTORE, PROPOSE, D("12000.00"))


# --------------------------------------------------------------------------- increase


def test_six_on_time_installments_propose_twenty_percent_more():
    assert review(state(installments=paid(*[True] * 5)), DEFAULT_RULES, ROUNDING) == []
    [action] = review(state(installments=paid(*[True] * 6)), DEFAULT_RULES, ROUNDING)
    # 10,000.00 × 1.2 = 12,000.00.
    assert (action.kind, action.amount, action.on_time) == (PROPOSE, D("12000.00"), 6)
    assert action.reason == (
        "6 installments paid on time in a row (propose after 6): 10,000.00 + 20% → 12,000.00"
    )


@pytest.mark.parametrize(
    ("amount", "proposed"),
    [
        ("10050.00", "12000.00"),  # 12,060 rounded down to 12,000
        ("180000.00", "200000.00"),  # 216,000 capped at 200,000
        ("199999.00", "200000.00"),
        ("200000.00", None),  # at the cap: nothing to propose
        ("0.00", None),  # nothing to multiply
    ],
)
def test_the_proposal_is_rounded_down_and_capped(amount, proposed):
    actions = review(
        state(amount=D(amount), installments=paid(*[True] * 6)), DEFAULT_RULES, ROUNDING
    )
    assert [a.amount for a in actions] == ([D(proposed)] if proposed else [])


def test_no_proposal_while_one_is_open_or_before_six_more_since_the_last():
    good = state(installments=paid(*[True] * 9))
    assert review(replace(good, open_proposal=True), DEFAULT_RULES, ROUNDING) == []
    # Proposed on Apr 15 (decided since): May–Sep is 5 more, not 6.
    assert review(replace(good, last_proposed_on=MONTHS[3]), DEFAULT_RULES, ROUNDING) == []
    assert kinds(review(replace(good, last_proposed_on=MONTHS[2]), DEFAULT_RULES, ROUNDING)) == [
        PROPOSE
    ]


def test_the_increase_streak_starts_at_the_cure_too():
    # Jan 15 paid on Jul 1; another loan paid every month on the day. Jul 15 – Nov 15 is 5
    # installments after the cure, not 10 after the late one's due date.
    late = (MONTHS[0], date(2026, 7, 1), False)
    others = paid_on_the_day(*range(2, 13))
    assert review(state(installments=(late, *others[:-1])), DEFAULT_RULES, ROUNDING) == []
    [action] = review(state(installments=(late, *others)), DEFAULT_RULES, ROUNDING)
    assert (action.kind, action.on_time) == (PROPOSE, 6)  # Jul 15 – Dec 15


def test_no_proposal_for_a_frozen_limit_or_with_proposals_switched_off():
    good = state(installments=paid(*[True] * 12))
    assert review(replace(good, status="frozen"), DEFAULT_RULES, ROUNDING) == []
    rules = replace(DEFAULT_RULES, increase_after_on_time=None)
    assert review(good, rules, ROUNDING) == []


# --------------------------------------------------------------------------- properties


limit_states = st.builds(
    LimitState,
    amount=st.integers(0, 25_000_000).map(lambda n: D(n) / 100),  # in fen, up to 250,000
    status=st.sampled_from(["active", "frozen"]),
    hold=st.sampled_from([HOLD_NONE, HOLD_FROZEN, HOLD_CUT]),
    worst_dpd=st.integers(0, 120),
    worst_loan=st.just("L1"),
    installments=installment_lists.map(tuple),
    last_proposed_on=st.none() | st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    open_proposal=st.booleans(),
    written_off=st.booleans(),
)
rule_sets = st.builds(
    BehaviourRules,
    freeze_dpd=st.integers(1, 10),
    cut_dpd=st.none() | st.integers(10, 90),
    cut_to=st.sampled_from([D("0"), D("0.5"), D("0.75")]),
    restore_after_on_time=st.integers(0, 6),
    increase_after_on_time=st.none() | st.integers(1, 12),
    increase_by=st.sampled_from([D("0.1"), D("0.2"), D("1")]),
    increase_cap=st.sampled_from([D("50000"), D("200000")]),
)


@given(limit_states, rule_sets)
def test_reviewing_what_the_review_left_finds_nothing_more(start, rules):
    actions = review(start, rules, ROUNDING)
    assert len(actions) <= 2
    after = start
    for action in actions:
        if action.kind == PROPOSE:
            after = replace(after, open_proposal=True)
        else:
            after = replace(after, amount=action.amount, status=action.status, hold=action.hold)
    assert review(after, rules, ROUNDING) == []


@given(limit_states, rule_sets)
def test_only_a_proposal_raises_and_never_past_the_cap(start, rules):
    for action in review(start, rules, ROUNDING):
        if action.kind == PROPOSE:
            assert start.amount < action.amount <= rules.increase_cap
            assert action.amount % ROUNDING == 0
        else:
            assert action.amount <= start.amount
        if action.kind in (FREEZE, CUT):
            assert start.worst_dpd >= rules.freeze_dpd and action.status == "frozen"


@given(limit_states, rule_sets)
def test_a_written_off_borrower_is_never_restored_nor_proposed_an_increase(start, rules):
    # Nothing past due: the state in which a restore or a proposal could come.
    actions = review(replace(start, written_off=True, worst_dpd=0), rules, ROUNDING)
    assert not {RESTORE, PROPOSE} & set(kinds(actions))
