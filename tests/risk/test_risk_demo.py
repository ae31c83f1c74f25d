"""`manage.py load_risk_demo` on a small hand-made book with the demo's products and logins.

Every applicant is 36, salaried for 36 months, payroll-verified, with 30,000 a month of income,
1,000 a month of debt elsewhere, bureau score 720, one inquiry and a clean record, unless said
otherwise. Under DEFAULT_POLICY (version 1) that is grade A:
    600 base + 50 bureau + 15 age + 20 inquiries + 20 worst delinquency + 15 months employed
    + 10 no dpd with us + 20 DTI 3.3% + 25 income + 30 salaried = 805 (+20 with a loan repaid
    on time), limit 30,000 × 6 × (15,000 − 1,000) / 15,000 = 168,000.00.
At 30,000 a month even a 15,999 phone over 3 months fits the 15,000 of payments DTI allows, so
the good applicants are approved whatever the demo asks for.

- regular: an active 10,000.00 loan, not yet due, and a loan repaid on time → first limit
  168,000.00 (grade A), and (the review proposing nothing this early) the analyst proposes
  168,000 × 1.2 = 201,600, capped at the household cap: 200,000.00;
- late: an active 10,000.00 loan with nothing paid for ~44 days → the policy declines them
  (currently overdue), so the first limit is what they owe, 10,000.00; the nightly review cuts
  it to 50 %, 5,000.00, and freezes it;
- new_1, new_2: no loans → approved;
- declared_1..3: income declared only; thin: no bureau file → 4 referrals, of which the
  officer reviews 2 (one approved, one declined) and 2 wait in the queue;
- blacklisted, inquiries (9 > 6), indebted (7,000 of 12,000 a month) → declined.
"""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from lending import roles
from lending.access import SYSTEM
from lending.close_of_business.runner import close_business_days
from lending.demo import CASH, DEMO_LOGINS, DEMO_PRODUCTS, SALARY
from lending.identity import generate_national_id
from lending.models import AuditEvent, Loan, LoanProduct, LoanStatus, RunStatus
from lending.selectors import loan_payoff_quote
from lending.services.repayments import repayment_post
from risk import reasons as rc
from risk.demo import SECOND_OFFICER
from risk.models import (
    ApplicationStatus,
    CreditLimit,
    CreditLimitChange,
    CreditPolicy,
    Decision,
    IncomeSource,
    LimitIncreaseProposal,
    LimitStatus,
    LoanApplication,
    PolicyStatus,
    ProposalStatus,
    ReviewHold,
)
from risk.policy import DEFAULT_POLICY
from risk.services.policies import policy_activate, policy_create
from tests.factories import BorrowerFactory, RiskProfileFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

D = Decimal
INCOME = D("30000.00")


@pytest.fixture(autouse=True)
def demo_server(settings):
    """The demo loaders run where DEBUG is on (`make run`); pytest-django turns it off."""
    settings.DEBUG = True


def run(**options) -> str:
    out = StringIO()
    call_command("load_risk_demo", stdout=out, **options)
    return out.getvalue()


def person(n: int, *, blacklisted=False, income=INCOME, **profile):
    born = date(1990, 6, 15)
    borrower = BorrowerFactory(
        national_id=generate_national_id(
            date_of_birth=born, sex="M", region_code="440301", sequence=n
        ),
        date_of_birth=born,
        monthly_income=income,
        is_blacklisted=blacklisted,
        blacklist_reason="court-listed judgment defaulter" if blacklisted else "",
    )
    RiskProfileFactory(borrower=borrower, **profile)
    return borrower


@pytest.fixture
def book(settings):
    """The small book above, closed for yesterday like the demo's last night."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    if not CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE).exists():  # flushed earlier
        draft = policy_create(name="Default", definition=DEFAULT_POLICY, acting_user=SYSTEM)
        policy_activate(policy_id=draft.pk, acting_user=SYSTEM)
    User = get_user_model()
    users = {}
    for login in DEMO_LOGINS:
        if login.group in (roles.CREDIT_OFFICER, roles.RISK_ANALYST):
            user = User.objects.create_user(login.username, password=login.password, is_staff=True)
            user.groups.add(Group.objects.get_or_create(name=login.group)[0])
            users[login.group] = user
    products = {}
    for code, spec in DEMO_PRODUCTS.items():
        products[code] = LoanProduct(code=code, **spec)
        products[code].full_clean()
        products[code].save()
    today = timezone.localdate()
    people = {
        "regular": person(1),
        "late": person(2),
        "new_1": person(3),
        "new_2": person(4),
        "declared_1": person(5, income_source=IncomeSource.DECLARED),
        "declared_2": person(6, income_source=IncomeSource.DECLARED),
        "declared_3": person(7, income_source=IncomeSource.DECLARED),
        "thin": person(
            8,
            bureau_score=None,
            bureau_inquiries_6m=None,
            bureau_worst_delinquency_days=None,
            bureau_current_delinquencies=None,
        ),
        "blacklisted": person(9, blacklisted=True),
        "inquiries": person(10, bureau_inquiries_6m=9),
        "indebted": person(11, income=D("12000.00"), existing_monthly_debt=D("7000.00")),
    }
    earlier = active_loan(
        principal="5000.00",
        term=1,
        start=today - timedelta(days=100),
        product=products[SALARY],
        borrower=people["regular"],
    )
    due = earlier.installments.get().due_date
    repayment_post(
        loan_id=earlier.pk,
        amount=loan_payoff_quote(earlier, due).amount,
        value_date=due,
        acting_user=SYSTEM,
    )
    for who, started in (("regular", 10), ("late", 75)):
        active_loan(
            principal="10000.00",
            term=12,
            start=today - timedelta(days=started),
            product=products[CASH],
            borrower=people[who],
        )
    runs = close_business_days(until=today - timedelta(days=1), acting_user=SYSTEM)
    assert [r.status for r in runs] == [RunStatus.DONE]
    return people, users


def application_of(borrower) -> LoanApplication:
    return LoanApplication.objects.select_related("decision").get(borrower=borrower)


def first_reason(borrower) -> str:
    return application_of(borrower).decision.reasons[0]["code"]


def test_the_book_is_set_up_as_described(book):
    people, _ = book
    assert Loan.objects.get(borrower=people["late"], status=LoanStatus.ACTIVE).dpd >= 30
    assert Loan.objects.get(borrower=people["regular"], status=LoanStatus.ACTIVE).dpd == 0
    assert Loan.objects.filter(borrower=people["regular"], status=LoanStatus.CLOSED).count() == 1


def test_applications_are_decided_reviewed_and_queued(book):
    people, users = book
    output = run()

    officer2 = get_user_model().objects.get(username=SECOND_OFFICER.username)
    assert officer2.groups.filter(name=roles.CREDIT_OFFICER).exists()
    assert officer2.check_password(SECOND_OFFICER.password)
    assert set(LoanApplication.objects.values_list("submitted_by", flat=True)) == {officer2.pk}

    for who in ("new_1", "new_2", "regular"):
        application = application_of(people[who])
        assert application.status == ApplicationStatus.APPROVED, who
        assert application.decision.outcome == "approve" and application.decision.grade == "A"
        assert application.loan.status == LoanStatus.APPROVED  # waiting for finance to pay out
    expected_declines = {
        "blacklisted": rc.BLACKLISTED,
        "inquiries": rc.TOO_MANY_INQUIRIES,
        "late": rc.CURRENTLY_OVERDUE,
        "indebted": rc.NO_REPAYMENT_CAPACITY,
    }
    for who, code in expected_declines.items():
        application = application_of(people[who])
        assert application.status == ApplicationStatus.DECLINED, who
        assert application.decision.outcome == "decline"
        assert first_reason(people[who]) == code
        assert application.decision.reasons[0]["text"]
        assert application.loan is None
    assert (
        "9 credit inquiries in the last 6 months (at most 6)"
        in (application_of(people["inquiries"]).decision.reasons[0]["text"])
    )

    referred = [people[f"declared_{n}"] for n in (1, 2, 3)] + [people["thin"]]
    assert {first_reason(b) for b in referred} == {rc.INCOME_NOT_VERIFIED, rc.MISSING_DATA}
    applications = [application_of(b) for b in referred]
    assert all(a.decision.outcome == "refer" for a in applications)
    queue = [a for a in applications if a.status == ApplicationStatus.REFERRED]
    reviewed = [a for a in applications if a.reviewed_by_id is not None]
    assert len(queue) == 2 and len(reviewed) == 2
    assert sorted(a.status for a in reviewed) == [
        ApplicationStatus.APPROVED,
        ApplicationStatus.DECLINED,
    ]
    for application in reviewed:  # four eyes: the demo's officer, not the submitter
        assert application.reviewed_by == users[roles.CREDIT_OFFICER]
        assert application.review_note
    approved = next(a for a in reviewed if a.status == ApplicationStatus.APPROVED)
    assert approved.loan.status == LoanStatus.APPROVED

    assert "Loan applications: 11" in output
    assert "approved 4, declined 5, awaiting review 2 (the queue)" in output
    assert "reviewed by a second officer: 1 approved, 1 declined" in output
    assert (
        "declined on submission for: BLACKLISTED 1, CURRENTLY_OVERDUE 1, "
        "NO_REPAYMENT_CAPACITY 1, TOO_MANY_INQUIRIES 1" in output
    )
    assert "Decisions: approve 3, refer 4, decline 4" in output
    assert f"{SECOND_OFFICER.username} / {SECOND_OFFICER.password}" in output


def test_limits_for_the_book_and_the_nightly_review(book):
    people, users = book
    output = run()

    with_active_loans = set(
        Loan.objects.filter(status=LoanStatus.ACTIVE).values_list("borrower_id", flat=True)
    )
    assert with_active_loans == {people["regular"].pk, people["late"].pk}
    assert with_active_loans <= set(CreditLimit.objects.values_list("borrower_id", flat=True))

    regular = CreditLimit.objects.get(borrower=people["regular"])
    assert (regular.amount, regular.status) == (D("168000.00"), LimitStatus.ACTIVE)
    first = regular.history.get(kind="set")
    assert first.changed_by == users[roles.RISK_ANALYST]
    assert first.policy.version == 1 and "grade A" in first.reason

    late = CreditLimit.objects.get(borrower=people["late"])
    assert (late.amount, late.status, late.review_hold) == (
        D("5000.00"),
        LimitStatus.FROZEN,
        ReviewHold.CUT,
    )
    history = list(
        CreditLimitChange.objects.filter(credit_limit=late)
        .order_by("pk")
        .values_list("kind", "from_amount", "to_amount", "to_status")
    )
    assert history == [
        ("set", D("0.00"), D("10000.00"), LimitStatus.ACTIVE),
        ("behaviour_cut", D("10000.00"), D("5000.00"), LimitStatus.FROZEN),
    ]
    assert "10,000.00 already owed" in late.history.get(kind="set").reason

    # The approved applicants got their first limits from their decisions.
    for who in ("new_1", "new_2"):
        assert CreditLimit.objects.get(borrower=people[who]).amount == D("168000.00")

    proposal = LimitIncreaseProposal.objects.get()
    assert proposal.credit_limit == regular
    assert (proposal.current_amount, proposal.proposed_amount) == (
        D("168000.00"),
        D("200000.00"),
    )
    assert proposal.status == ProposalStatus.PROPOSED
    assert proposal.proposed_by == users[roles.RISK_ANALYST]
    assert "1 loan(s) repaid with us, never late" in proposal.reason

    candidate = CreditPolicy.objects.get(status=PolicyStatus.CANDIDATE)
    assert candidate.definition["hard_rules"]["max_inquiries_6m"] == 4
    assert candidate.definition["outcomes"]["decline"] == ["D", "E"]

    assert "Credit limits: 5 (active 4, frozen 1, closed 0; " in output
    assert "held by the nightly review: frozen 0, cut 1)" in output
    assert "Limit increase proposals: 1 (awaiting approval 1, approved 0, rejected 0)" in output
    assert f"Nightly limit review run for {timezone.localdate() - timedelta(days=1)}" in output
    assert f"Candidate policy to simulate: v{candidate.version} " in output


def counts() -> dict[str, int]:
    models = (
        LoanApplication,
        Decision,
        Loan,
        CreditLimit,
        CreditLimitChange,
        LimitIncreaseProposal,
        CreditPolicy,
        AuditEvent,
        get_user_model(),
    )
    return {model.__name__: model.objects.count() for model in models}


def test_a_second_run_adds_nothing_and_says_so(book):
    first = run()
    before = counts()
    second = run()
    assert counts() == before
    assert "already loaded" in second and "nothing changed" in second
    # It still shows what is there, with the same figures.
    assert "Loan applications: 11" in second
    assert "awaiting review 2 (the queue)" in second
    assert "Decisions: approve 3, refer 4, decline 4" in first
    assert "Decisions: approve 3, refer 4, decline 4" in second


def test_the_same_seed_gives_the_same_applications(book):
    def load() -> list[tuple]:
        with transaction.atomic():
            run(seed=7)
            rows = list(
                LoanApplication.objects.order_by("pk").values_list(
                    "borrower_id", "product__code", "amount", "term_months", "annual_rate", "status"
                )
            )
            transaction.set_rollback(True)
        return rows

    assert load() == load()


def test_it_refuses_outside_debug_and_writes_nothing(book, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        run()
    assert not LoanApplication.objects.exists()
    assert not CreditLimit.objects.exists()


def test_it_needs_the_demo_book_first(db):
    with pytest.raises(CommandError, match=r"run manage\.py load_demo first"):
        run()
    assert not LoanApplication.objects.exists()
