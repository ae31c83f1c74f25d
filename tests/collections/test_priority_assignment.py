"""Priority score and its parts; assignment by workload (pure)."""

from collections import Counter
from datetime import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from debt_collection.assignment import Member, assign
from debt_collection.priority import priority


def test_the_parts_explain_the_score():
    p = priority(dpd=90, overdue_amount=Decimal("10000"), broken_promises=1, days_since_contact=7)
    assert p.parts == {"dpd": 20, "amount": 15, "broken_promises": 10, "no_contact": 5}
    assert p.score == 50


def test_never_contacted_counts_fully_and_the_score_tops_at_100():
    p = priority(
        dpd=400, overdue_amount=Decimal("99999"), broken_promises=5, days_since_contact=None
    )
    assert p.score == 100


@given(
    dpd=st.integers(0, 1000),
    amount=st.decimals(min_value=0, max_value=10**7, places=2),
    broken=st.integers(0, 10),
    quiet=st.none() | st.integers(0, 400),
)
def test_score_is_the_sum_of_its_parts_and_grows_with_each(dpd, amount, broken, quiet):
    p = priority(dpd=dpd, overdue_amount=amount, broken_promises=broken, days_since_contact=quiet)
    assert p.score == sum(p.parts.values()) and 0 <= p.score <= 100
    more = priority(
        dpd=dpd + 1,
        overdue_amount=amount + 1,
        broken_promises=broken + 1,
        days_since_contact=None,
    )
    assert all(more.parts[k] >= p.parts[k] for k in p.parts)


def test_one_hundred_cases_over_three_collectors_end_34_33_33():
    chosen = assign(range(100), [Member(1, 0), Member(2, 0), Member(3, 0)])
    assert sorted(Counter(chosen.values()).values(), reverse=True) == [34, 33, 33]


def test_fewest_open_cases_first_then_least_recently_assigned():
    early, late = datetime(2026, 11, 1), datetime(2026, 11, 2)
    members = [Member(1, 5, early), Member(2, 3, late), Member(3, 3, early)]
    assert assign(["a"], members) == {"a": 3}
    assert assign(["a"], [Member(1, 0, early), Member(2, 0, None)]) == {"a": 2}
    assert assign(["a"], []) == {}


@given(
    loads=st.lists(st.integers(0, 50), min_size=1, max_size=8),
    cases=st.integers(0, 300),
)
def test_assignment_levels_the_loads(loads, cases):
    members = [Member(i, n) for i, n in enumerate(loads)]
    chosen = assign(range(cases), members)
    final = Counter(chosen.values())
    totals = [loads[i] + final[i] for i in range(len(loads))]
    # Nobody who received a case ends above anyone else by more than one.
    receivers = [totals[i] for i in final]
    if receivers:
        assert max(receivers) <= min(totals) + 1
    assert len(chosen) == cases
