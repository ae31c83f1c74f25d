"""The KPIs against a hand-built book: roll rates to the loan, the cure rate, promises, refusals
per collector, open cases by bucket and queue; the page for those who see every case."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from debt_collection import kpis, rolls
from debt_collection.models import (
    Case,
    CaseStatus,
    CloseReason,
    ComplianceRefusal,
    PromiseState,
    PromiseToPay,
    Queue,
    RollCount,
)
from debt_collection.models.contacts import RefusalRule
from debt_collection.services.roll_counts import roll_counts_store
from lending import formatting
from lending.models import BucketChange
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

# loan -> its bucket moves (business date, to bucket)
HISTORY = {
    1: [(date(2026, 9, 16), "M1"), (date(2026, 10, 16), "M2"), (date(2026, 11, 15), "M3")],
    2: [(date(2026, 9, 20), "M1"), (date(2026, 10, 5), "M0")],
    3: [(date(2026, 9, 25), "M1")],
    4: [(date(2026, 10, 10), "M1"), (date(2026, 11, 10), "M2")],
    5: [
        (date(2026, 8, 20), "M1"),
        (date(2026, 9, 19), "M2"),
        (date(2026, 10, 19), "M3"),
        (date(2026, 11, 5), "M0"),
    ],
}


def test_roll_rates_pure():
    changes = [(loan, d, to) for loan, moves in HISTORY.items() for d, to in moves]
    ends = rolls.month_ends(date(2026, 11, 15), 2)
    assert ends == [date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30)]
    found = {
        (r.month, r.from_bucket): (r.rolled, r.loans, r.rate)
        for r in rolls.roll_rates(changes, ["M0", "M1", "M2", "M3", "M4"], ends)
    }
    # End of September: loans 1, 2, 3 in M1, 5 in M2. End of October: 1 in M2 (rolled),
    # 2 cured, 3 still M1, 4 in M1, 5 in M3 (rolled). End of November: 4 in M2, 1 in M3, 5 cured.
    assert found == {
        ("2026-10", "M1"): (1, 3, Decimal("0.3333")),
        ("2026-10", "M2"): (1, 1, Decimal("1.0000")),
        ("2026-10", "M3"): (0, 0, None),
        ("2026-11", "M1"): (1, 2, Decimal("0.5000")),
        ("2026-11", "M2"): (1, 1, Decimal("1.0000")),
        ("2026-11", "M3"): (0, 1, Decimal("0.0000")),
    }


@pytest.fixture
def book(collector, collector2):
    loans = {n: active_loan(start=date(2026, 7, 15)) for n in HISTORY}
    for n, moves in HISTORY.items():
        previous = "M0"
        for when, to in moves:
            BucketChange.objects.create(
                loan=loans[n],
                business_date=when,
                from_bucket=previous,
                to_bucket=to,
                dpd=1,
                overdue_amount=Decimal("100.00"),
            )
            previous = to
    m1 = Queue.objects.get(name="M1 early reminders")
    m2 = Queue.objects.get(name="M2–M3 agents")

    def case(n, bucket, queue, collector=None, closed_on=None, reason="", opened=None):
        return Case.objects.create(
            loan=loans[n],
            borrower=loans[n].borrower,
            status=CaseStatus.CLOSED if closed_on else CaseStatus.OPEN,
            close_reason=reason,
            opened_on=opened or date(2026, 10, 1),
            closed_on=closed_on,
            bucket=bucket,
            dpd=10,
            overdue_amount=Decimal("100.00"),
            total_outstanding=Decimal("1000.00"),
            queue=queue,
            collector=collector,
        )

    cases = {
        1: case(1, "M3", m2, collector),
        3: case(3, "M1", m1, collector2),
        4: case(4, "M2", m2, collector),
        2: case(2, "M1", m1, collector2, date(2026, 10, 5), CloseReason.CURED),
        5: case(5, "M3", m2, collector, date(2026, 11, 5), CloseReason.CURED),
    }
    # Closed before the period: not counted by the cure rate.
    case(2, "M1", m1, None, date(2026, 9, 25), CloseReason.CURED, opened=date(2026, 9, 20))
    for state in (PromiseState.KEPT, PromiseState.KEPT, PromiseState.BROKEN, PromiseState.PENDING):
        PromiseToPay.objects.create(
            case=cases[1],
            amount=Decimal("50.00"),
            promised_for=date(2026, 11, 1),
            made_on=date(2026, 10, 20),
            grace_days=0,
            state=state,
        )
    for who, rule in ((collector, "contact_outside_hours"),) * 3 + (
        (collector2, "contact_daily_limit"),
    ):
        ComplianceRefusal.objects.create(collector=who, case=cases[1], rule=rule, message="x")
    return cases


def test_the_kpis_of_the_book(book):
    by_bucket = [(r["bucket"], r["cases"], r["overdue"]) for r in kpis.open_cases_by_bucket()]
    assert by_bucket == [
        ("M1", 1, Decimal("100.00")),
        ("M2", 1, Decimal("100.00")),
        ("M3", 1, Decimal("100.00")),
    ]
    # Shown to the cent (SQLite's sums come back as 100.0000000000).
    assert {str(r["overdue"]) for r in kpis.open_cases_by_bucket()} == {"100.00"}
    assert [(r["queue__name"], r["cases"]) for r in kpis.open_cases_by_queue()] == [
        ("M1 early reminders", 1),
        ("M2–M3 agents", 2),
    ]
    rates = {
        (r.month, r.from_bucket): r.rate
        for r in kpis.roll_rates(until=date(2026, 11, 15), months=2)
    }
    assert rates[("2026-10", "M1")] == Decimal("0.3333")
    assert rates[("2026-11", "M1")] == Decimal("0.5000")
    assert rates[("2026-11", "M3")] == Decimal("0.0000")
    cure = kpis.cure_rate(since=date(2026, 10, 1), until=date(2026, 11, 30))
    assert (cure.cured, cure.cases, cure.rate) == (2, 5, Decimal("0.4000"))
    assert kpis.promises() == {
        "pending": 1,
        "kept": 2,
        "broken": 1,
        "kept_rate": Decimal("0.6667"),
    }
    assert [
        (r["collector__username"], r["rule"], r["refusals"]) for r in kpis.refusals_by_collector()
    ] == [
        ("collector", "contact_outside_hours", 3),
        ("collector2", "contact_daily_limit", 1),
    ]
    assert kpis.recovered_by_collector_and_queue() == []  # nothing written off yet


def test_the_kpi_page_for_managers_and_auditors_not_collectors(
    client, book, manager, role_user, collector
):
    from lending import roles

    url = "/admin/collections/collectionskpi/"
    for user in (manager, role_user(roles.AUDITOR, username="auditor")):
        client.force_login(user)
        page = client.get(url)
        assert page.status_code == 200
        # Rules, rates and amounts in words and figures, not codes and raw decimals.
        assert "outside contact hours" in page.text and "M2–M3 agents" in page.text
        assert "contact_outside_hours" not in page.text
        for row in kpis.open_cases_by_bucket():
            assert f'<td class="figure">{formatting.money(row["overdue"])}</td>' in page.text
        kept_rate = kpis.promises()["kept_rate"]
        if kept_rate is not None:
            assert formatting.rate(kept_rate) in page.text
        index = client.get("/admin/collections/")
        assert url in index.text  # linked from the collections app index
    client.force_login(collector)
    assert client.get(url).status_code == 403
    assert url not in client.get("/admin/collections/").text


def test_the_work_list_shows_a_borrower_once_with_the_loans_grouped(client, collector, collector2):
    from tests.factories import BorrowerFactory

    borrower = BorrowerFactory()
    loans = [active_loan(start=date(2026, 7, 15), borrower=borrower) for _ in range(3)]
    for n, loan in enumerate(loans):
        Case.objects.create(
            loan=loan,
            borrower=borrower,
            opened_on=date(2026, 10, 1),
            bucket="M1",
            dpd=5 + n,
            priority=10 + n,
            overdue_amount=Decimal("100.00"),
            total_outstanding=Decimal("1000.00"),
            collector=collector if n < 2 else collector2,
        )
    client.force_login(collector)
    page = client.get("/admin/collections/casebyborrower/")
    assert page.status_code == 200
    assert page.text.count(borrower.full_name) == 1
    assert loans[0].reference in page.text and loans[1].reference in page.text
    assert loans[2].reference not in page.text  # another collector's case stays unseen
    assert ">2<" in page.text  # two open cases of this collector's


def _changes(loan, moves):
    previous = "M0"
    for when, to in moves:
        BucketChange.objects.create(
            loan=loan,
            business_date=when,
            from_bucket=previous,
            to_bucket=to,
            dpd=1,
            overdue_amount=Decimal("100.00"),
        )
        previous = to


def test_the_roll_rates_counted_in_the_database_match_the_changes_read_one_by_one():
    """The page's figures (counted in SQL) are those of the pure computation over the same
    changes, on a book of random bucket walks."""
    import random

    from lending.services.delinquency import bucket_table

    rng = random.Random(13)
    codes = [b.code for b in bucket_table(checked=False)]
    for _ in range(12):
        loan = active_loan(start=date(2026, 1, 15))
        days = sorted(rng.sample(range(300), rng.randint(1, 8)))
        level, moves = 0, []
        for day in days:
            level = max(0, min(len(codes) - 1, level + rng.choice((-2, -1, 1, 1, 1))))
            moves.append((date(2026, 1, 20) + timedelta(days=day), codes[level]))
        _changes(loan, moves)
    ends = rolls.month_ends(date(2026, 11, 15), 8)
    changes = BucketChange.objects.values_list("loan_id", "business_date", "to_bucket")
    expected = rolls.roll_rates(list(changes), codes, ends)
    found = kpis.roll_rates(until=date(2026, 11, 15), months=8)
    assert found == expected
    assert sum(r.loans for r in found) > 20  # the walks reach the buckets the rates count


def test_of_two_bucket_changes_on_one_date_the_later_counts():
    loan = active_loan(start=date(2026, 7, 15))
    _changes(loan, [(date(2026, 9, 16), "M1"), (date(2026, 10, 16), "M2")])
    # Repaid the same day: back to M1, recorded after the move to M2.
    _changes(loan, [(date(2026, 10, 16), "M1")])
    october = {r.from_bucket: r for r in kpis.roll_rates(until=date(2026, 10, 20), months=1)}
    assert (october["M1"].loans, october["M1"].rolled) == (1, 0)  # in M1 on 30 Sep and 31 Oct


@pytest.fixture
def many_cases():
    """Borrowers with one to four open cases (priorities tied on some), one closed case that
    would lead if it were open."""
    from tests.factories import BorrowerFactory

    cases = []
    for n, priorities in enumerate(([30], [10, 50, 20], [40, 40, 5], [7, 7, 7, 9])):
        borrower = BorrowerFactory()
        for priority in priorities:
            loan = active_loan(start=date(2026, 7, 15), borrower=borrower)
            cases.append(
                Case.objects.create(
                    loan=loan,
                    borrower=borrower,
                    opened_on=date(2026, 10, 1),
                    bucket="M1",
                    dpd=5,
                    priority=priority,
                    overdue_amount=Decimal("100.00"),
                    total_outstanding=Decimal("1000.00"),
                )
            )
        if n == 1:
            Case.objects.create(
                loan=loan,
                borrower=borrower,
                status=CaseStatus.CLOSED,
                close_reason=CloseReason.CURED,
                opened_on=date(2026, 9, 1),
                closed_on=date(2026, 9, 20),
                bucket="M1",
                dpd=0,
                priority=99,
                overdue_amount=Decimal("0.00"),
                total_outstanding=Decimal("1000.00"),
            )
    return cases


def _expected_leads(cases):
    best = {}
    for case in cases:
        key = (-case.priority, case.pk)
        if case.borrower_id not in best or key < best[case.borrower_id][0]:
            best[case.borrower_id] = (key, case.pk)
    return {pk for _key, pk in best.values()}


def test_the_work_list_leads_with_each_borrowers_most_urgent_case(many_cases):
    from debt_collection.selectors import lead_cases

    open_cases = Case.objects.filter(status=CaseStatus.OPEN)
    for cases in (open_cases, open_cases.filter(priority__lt=40)):
        expected = _expected_leads(cases)
        assert len(expected) >= 2
        assert set(lead_cases(cases).values_list("pk", flat=True)) == expected


def test_the_roll_rates_are_counted_again_once_a_bucket_changes(django_assert_num_queries):
    loan = active_loan(start=date(2026, 7, 15))
    _changes(loan, [(date(2026, 9, 16), "M1")])
    first = kpis.roll_rates(until=date(2026, 10, 20), months=1)
    # No counts stored for the date, then the newest change's id: the figures are kept.
    with django_assert_num_queries(2):
        assert kpis.roll_rates(until=date(2026, 10, 20), months=1) == first
    _changes(loan, [(date(2026, 10, 16), "M2")])
    october = {r.from_bucket: r for r in kpis.roll_rates(until=date(2026, 10, 20), months=1)}
    assert (october["M1"].loans, october["M1"].rolled) == (1, 1)  # the new move counts


def test_a_closed_night_reads_the_roll_counts_it_stored(django_assert_num_queries):
    for steps in HISTORY.values():
        _changes(active_loan(start=date(2026, 7, 15)), steps)
    night = date(2026, 11, 15)
    counted = kpis.roll_rates(until=night, months=kpis.STORED_ROLL_MONTHS)
    assert roll_counts_store(business_date=night) == {
        "roll_counts": RollCount.objects.filter(business_date=night).count()
    }
    # The night's rows and the bucket table's order, no count of the history.
    with django_assert_num_queries(2):
        assert kpis.roll_rates(until=night, months=kpis.STORED_ROLL_MONTHS) == counted
    # Fewer months read the newest of the stored ones.
    assert kpis.roll_rates(until=night, months=2) == [
        r for r in counted if r.month in {"2026-10", "2026-11"}
    ]
    # A move recorded later with an earlier date: the night's figures stay as the night saw
    # them; another date counts the history again and sees it.
    loan = active_loan(start=date(2026, 7, 15))
    _changes(loan, [(date(2026, 10, 2), "M1")])
    assert kpis.roll_rates(until=night, months=2) == [
        r for r in counted if r.month in {"2026-10", "2026-11"}
    ]
    later = {
        (r.month, r.from_bucket): r for r in kpis.roll_rates(until=date(2026, 11, 16), months=2)
    }
    before = {(r.month, r.from_bucket): r for r in counted}
    assert later[("2026-11", "M1")].loans == before[("2026-11", "M1")].loans + 1
    # Re-running the night replaces its rows with the history as it now stands.
    roll_counts_store(business_date=night)
    assert kpis.roll_rates(until=night, months=2) == kpis.roll_rates(
        until=date(2026, 11, 16), months=2
    )


def test_the_kpi_page_shows_the_roll_rates_the_last_night_stored(client, manager):
    from tests.lending.test_close_of_business import close

    for steps in HISTORY.values():
        _changes(active_loan(start=date(2026, 7, 15)), steps)
    run = close(date(2026, 11, 15))
    step = run.steps.get(name="roll_counts")
    assert step.counts["roll_counts"] == RollCount.objects.count() > 0
    stored = kpis.roll_rates(until=date(2026, 11, 15), months=6)
    # A move recorded after the night with an earlier date: counting the history now would
    # give another November M1 figure; the page shows the night's.
    _changes(active_loan(start=date(2026, 7, 15)), [(date(2026, 10, 2), "M1")])
    counted = kpis._rolls(
        kpis.roll_counts(until=date(2026, 11, 15), months=6),
        rolls.month_ends(date(2026, 11, 15), 6),
    )

    def cell(rolls_, month, bucket):
        roll = next(r for r in rolls_ if (r.month, r.from_bucket) == (month, bucket))
        return f"{formatting.rate(roll.rate)} ({roll.rolled}/{roll.loans})"

    assert cell(stored, "2026-11", "M1") != cell(counted, "2026-11", "M1")
    client.force_login(manager)
    page = client.get("/admin/collections/collectionskpi/")
    assert "As of the close of business of" in page.text
    assert cell(stored, "2026-11", "M1") in page.text
    assert cell(counted, "2026-11", "M1") not in page.text
    for roll in stored:
        if roll.loans:
            assert f"({roll.rolled}/{roll.loans})" in page.text


def test_the_refusals_list_names_the_rules_and_columns_in_chinese(client, book, manager):
    from django.utils import translation

    client.force_login(manager)
    page = client.get(
        "/admin/collections/compliancerefusal/", headers={"accept-language": "zh-hans"}
    ).text
    with translation.override("zh-hans"):
        outside_hours = str(RefusalRule.HOURS.label)
        case_header = str(ComplianceRefusal._meta.get_field("case").verbose_name)
    assert outside_hours in page and ">contact_outside_hours<" not in page  # codes in URLs only
    assert case_header in page and ">Case<" not in page
    # The collector filter offers the collectors refused, not every user.
    assert "?collector__id__exact=" in page and f"?collector__id__exact={manager.pk}" not in page
