"""Policy simulation (DESIGN §7): a candidate version over the current book beside the active one.

The book, as of 2026-08-05, five borrowers on the book and two who are not. Scores worked out by
hand from DEFAULT_POLICY (version 1, active). Everyone is 36, earns 12,000 a month and pays
1,000 a month elsewhere (DTI 8.3 %: +20), unless said otherwise. The "good" outside data is
payroll-verified, salaried 36 months, bureau 720 with one inquiry and a clean record:
    600 + 50 bureau + 15 age + 20 inquiries + 20 record + 15 months + 30 salaried + 15 income
    + 20 DTI = 785, plus the platform's own history.

    Alice  good; a loan from 2026-07-20, nothing due yet (+10 no dpd, on-time ratio unknown 0)
           = 795, A, approve; limit 12,000 × 6 × (6,000 − 1,000) / 6,000 = 60,000
    Bob    bureau 600 (−10), 3 inquiries (0), a 10-day delinquency elsewhere (−10), 12 months
           (0), self-employed (+10); loan as Alice's: 650, C, approve;
           limit 12,000 × 4 × (5,400 − 1,000) / 5,400 = 39,111.11, rounded down to 39,100
    Carol  good, but her loan from 2026-06-01 reached 35 dpd (the night recorded M0 → M2 at 35)
           and was then paid up late: worst dpd 35 (−70), 0 of 2 installments on time (−40):
           675, C, approve, limit 39,100. Bad (ever 30+ dpd), no longer overdue.
    Dave   as Carol, but not paid: 675, C, still 35 dpd, so declined (currently overdue). Bad.
    Erin   no outside data at all: 580, E; missing data refers.
    Frank  no loan, Gina only a cancelled one: not on the book.

Active v1: approve 3 of 5 (60 %), refer 1 (20 %), decline 1 (20 %); grades A 1, C 3, E 1;
total limit 60,000 + 39,100 + 39,100 = 138,200; bad rate A 0/1, C 2/3 = 66.67 %, E 0/1.
Candidate v2 = v1 with grade A from 800 and grade C referred: Alice 795 becomes B (limit
12,000 × 5 × 5,000 / 6,000 = 50,000), Bob and Carol are referred: approve 1 (20 %), refer 3 (60 %),
decline 1; grades B 1, C 3, E 1; total limit 50,000; no longer approved 2, newly approved 0.
"""

import copy
import itertools
import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from lending.access import SYSTEM
from lending.close_of_business.lending_steps import flag_overdue
from lending.identity import generate_national_id
from lending.models import AuditEvent, BucketChange, Installment, Loan
from lending.services.loans import loan_book_approved, loan_cancel
from lending.services.repayments import repayment_post
from risk.models import CreditLimit, CreditLimitChange, CreditPolicy, Decision, LoanApplication
from risk.policy import DEFAULT_POLICY
from risk.services.policies import policy_create
from risk.simulation import book_borrower_ids, rate, simulate_policy
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

D = Decimal
AS_OF = date(2026, 8, 5)
_seq = itertools.count()


def person(name: str):
    born = date(1990, 6, 15)
    return BorrowerFactory(
        full_name=name,
        national_id=generate_national_id(
            date_of_birth=born, sex="M", region_code="440301", sequence=next(_seq) % 100
        ),
        date_of_birth=born,
        sex="M",
    )


def outside_data(borrower, **changes):
    RiskProfileFactory(borrower=borrower, **changes)
    return borrower


def candidate_definition():
    definition = copy.deepcopy(DEFAULT_POLICY)
    definition["grades"][0]["min_score"] = 800
    definition["outcomes"] = {"approve": ["A", "B"], "refer": ["C", "D"], "decline": ["E"]}
    return definition


@pytest.fixture
def book():
    product = ProductFactory()
    alice = outside_data(person("Alice"))
    bob = outside_data(
        person("Bob"),
        bureau_score=600,
        bureau_inquiries_6m=3,
        bureau_worst_delinquency_days=10,
        employment_months=12,
        employment_type="self_employed",
    )
    carol = outside_data(person("Carol"))
    dave = outside_data(person("Dave"))
    erin = person("Erin")
    for borrower in (alice, bob, erin):
        active_loan(borrower=borrower, product=product, start=date(2026, 7, 20))
    late = [active_loan(borrower=b, product=product, start=date(2026, 6, 1)) for b in (carol, dave)]
    flag_overdue(business_date=AS_OF, loan_ids=[loan.pk for loan in late])
    due = Installment.objects.filter(loan=late[0], due_date__lt=AS_OF)
    repayment_post(
        loan_id=late[0].pk,
        amount=sum(i.total_due for i in due),
        value_date=AS_OF,
        acting_user=SYSTEM,
    )
    person("Frank")
    gina = person("Gina")
    approved = loan_book_approved(
        borrower=gina,
        product=product,
        principal=D("1000.00"),
        annual_rate=D("0.18"),
        term_months=6,
        acting_user=SYSTEM,
    )
    loan_cancel(loan_id=approved.pk, reason="changed her mind", acting_user=SYSTEM)
    policy_create(name="Stricter", definition=candidate_definition(), acting_user=SYSTEM)
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "erin": erin}


def test_the_book_is_what_the_night_recorded(book):
    carol, dave = Loan.objects.get(borrower=book["carol"]), Loan.objects.get(borrower=book["dave"])
    assert (carol.dpd, dave.dpd) == (0, 35)
    assert list(
        BucketChange.objects.filter(loan=carol).order_by("id").values_list("dpd", flat=True)
    ) == [35, 0]
    assert set(book_borrower_ids()) == {b.pk for b in book.values()}


def test_worked_example_active_and_candidate_side_by_side(book):
    result = simulate_policy(version=2, as_of=AS_OF)
    assert result.borrowers == 5
    active, candidate = result.active, result.candidate
    assert (active.version, candidate.version) == (1, 2)

    assert active.outcomes == {"approve": 3, "refer": 1, "decline": 1}
    assert active.outcome_rates == {
        "approve": D("0.6000"),
        "refer": D("0.2000"),
        "decline": D("0.2000"),
    }
    assert active.total_limit == D("138200.00")
    assert {g: f.count for g, f in active.grades.items()} == {
        "A": 1,
        "B": 0,
        "C": 3,
        "D": 0,
        "E": 1,
    }
    assert active.grades["C"].share == D("0.6000")
    assert {g: f.bad_rate for g, f in active.grades.items()} == {
        "A": D("0.0000"),
        "B": None,
        "C": D("0.6667"),
        "D": None,
        "E": D("0.0000"),
    }

    assert candidate.outcomes == {"approve": 1, "refer": 3, "decline": 1}
    assert candidate.approval_rate == D("0.2000")
    assert candidate.total_limit == D("50000.00")
    assert {g: f.count for g, f in candidate.grades.items()} == {
        "A": 0,
        "B": 1,
        "C": 3,
        "D": 0,
        "E": 1,
    }
    assert (candidate.grades["C"].bad, candidate.grades["B"].bad_rate) == (2, D("0.0000"))
    assert (result.newly_approved, result.no_longer_approved) == (0, 2)


def test_simulating_changes_nothing(book):
    models = (
        CreditPolicy,
        Loan,
        BucketChange,
        Decision,
        LoanApplication,
        CreditLimit,
        CreditLimitChange,
        AuditEvent,
    )

    def counts():
        return [model.objects.count() for model in models]

    before = counts()
    simulate_policy(version=2, as_of=AS_OF)
    assert counts() == before
    assert not Decision.objects.exists()


def test_the_command_prints_both_columns_and_ends_with_json(book):
    out = StringIO()
    call_command("simulate_policy", "2", "--as-of", "2026-08-05", "--json", stdout=out)
    lines = out.getvalue().splitlines()
    header = next(line for line in lines if "draft v2" in line)
    assert header.index("active v1") < header.index("draft v2")
    approve = next(line for line in lines if line.startswith("approve"))
    assert approve.split()[1:] == ["3", "(60.00%)", "1", "(20.00%)"]
    assert next(line for line in lines if line.startswith("total limit")).split()[-2:] == [
        "138,200.00",
        "50,000.00",
    ]
    assert "2/3 (66.67%)" in next(line for line in lines if line.startswith("bad rate, grade C"))

    data = json.loads(lines[-1])
    assert data["borrowers"] == 5 and data["as_of"] == "2026-08-05"
    assert data["candidate"]["approval_rate"] == "0.2000"
    assert data["candidate"]["total_limit"] == "50000.00"
    assert data["active"]["grades"]["C"] == {
        "count": 3,
        "share": "0.6000",
        "bad": 2,
        "bad_rate": "0.6667",
    }
    assert data["active"]["grades"]["B"]["bad_rate"] is None
    assert data["no_longer_approved"] == 2


def test_an_unknown_version_is_an_error_naming_it(book):
    with pytest.raises(CommandError, match="no credit policy version 99"):
        call_command("simulate_policy", "99", stdout=StringIO())


def test_an_unknown_version_exits_non_zero_from_the_command_line(book, capsys):
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "simulate_policy", "99"]).execute()
    assert exited.value.code != 0
    assert "no credit policy version 99" in capsys.readouterr().err


def test_rates_are_four_places_half_up():
    assert rate(2, 3) == D("0.6667") and str(rate(1, 8)) == "0.1250"
    assert rate(0, 0) is None
