"""Underwriting end to end (DESIGN §7): an application is evaluated with the active policy
(version 1, DEFAULT_POLICY, seeded by migration) against the profile the books give, then
approved within the available limit, referred to another credit officer, or declined.

Figures below are worked out by hand from DEFAULT_POLICY for the "good" borrower: age 36, income
12,000, payroll-verified, salaried 36 months, 1,000 a month of debt elsewhere, bureau 720 with
one inquiry and a clean record:
    600 base + 50 bureau + 15 age + 20 inquiries + 20 worst delinquency + 15 months employed
    + 10 no dpd with us + 0 no history with us + 20 DTI 8.3% + 15 income + 30 salaried = 795, A
    limit = 12,000 × 6 × (6,000 − 1,000) / 6,000 = 60,000.00
"""

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings

from lending import roles
from lending.access import SYSTEM
from lending.close_of_business.lending_steps import flag_overdue
from lending.errors import LendingError, LendingErrorCode
from lending.identity import generate_national_id
from lending.models import AuditEvent, BucketChange, Installment, Loan, LoanStatus
from lending.models.loans import LoanOrigin
from lending.selectors import loan_payoff_quote
from lending.services.loans import loan_book_approved, loan_disburse, loan_write_off
from lending.services.repayments import repayment_post
from risk.models import (
    ApplicationStatus,
    CreditLimit,
    CreditLimitChange,
    CreditPolicy,
    Decision,
    IncomeSource,
    LimitStatus,
    LoanApplication,
    Outcome,
    RiskProfile,
)
from risk.selectors import age_on, exposure, profile_for
from risk.services.limits import credit_limit_change
from risk.services.underwriting import application_review, application_submit
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = date(2026, 11, 29)
GOOD_LIMIT = D("60000.00")
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

_seq = itertools.count()


def person(born: date = date(1990, 6, 15), sex: str = "M", **fields):
    """A borrower whose national ID, date of birth and sex agree."""
    return BorrowerFactory(
        national_id=generate_national_id(
            date_of_birth=born, sex=sex, region_code="440301", sequence=next(_seq) % 100
        ),
        date_of_birth=born,
        sex=sex,
        **fields,
    )


def outside_data(borrower, **changes) -> RiskProfile:
    return RiskProfileFactory(borrower=borrower, **changes)


def good_borrower(born: date = date(1990, 6, 15), *, profile=None, **fields):
    borrower = person(born, **fields)
    outside_data(borrower, **(profile or {}))
    return borrower


@pytest.fixture
def product():
    return ProductFactory()


@pytest.fixture
def policy_v1():
    return CreditPolicy.objects.get(version=1, status="active")


@pytest.fixture
def officers(role_user):
    """Two credit officers: they submit applications and decide referrals (never their own)."""
    return (
        role_user(roles.CREDIT_OFFICER, username="submitter"),
        role_user(roles.CREDIT_OFFICER, username="reviewer"),
    )


def submit(borrower, product, amount, term=6, user=SYSTEM, **kwargs):
    """Submitted by the platform unless a test names the officer (who submitted is not what
    most tests look at)."""
    return application_submit(
        borrower_id=borrower.pk,
        product=product,
        amount=D(amount),
        term_months=term,
        acting_user=user,
        as_of=TODAY,
        **kwargs,
    )


def codes(application) -> list[str]:
    return [r["code"] for r in application.decision.reasons]


def texts(application) -> list[str]:
    return [r["text"] for r in application.decision.reasons]


def step(decision: Decision, rule: str) -> dict:
    [found] = [s for s in decision.trace if s["rule"] == rule]
    return found


def sets_of(borrower):
    return CreditLimitChange.objects.filter(credit_limit__borrower=borrower, kind="set")


# --------------------------------------------------------------------------- 1. approve


def test_good_borrower_is_approved_with_a_loan_decision_and_first_limit(product, policy_v1):
    borrower = good_borrower()
    application = submit(borrower, product, "5000.00", purpose="furniture")
    application.refresh_from_db()

    assert application.status == ApplicationStatus.APPROVED
    assert application.annual_rate == product.max_rate  # none given: the product's max
    loan = application.loan
    assert loan.status == LoanStatus.APPROVED
    assert (loan.borrower_id, loan.principal, loan.term_months) == (borrower.pk, D("5000.00"), 6)
    assert loan.annual_rate == application.annual_rate == D("0.18")
    assert loan.purpose == "furniture"

    decision = application.decision
    assert decision.policy == policy_v1
    assert (decision.outcome, decision.score, decision.grade) == (Outcome.APPROVE, 795, "A")
    assert decision.limit == GOOD_LIMIT
    assert decision.reasons == []
    assert step(decision, "scorecard.total")["result"] == "795"
    assert step(decision, "grade")["result"] == "A"
    assert step(decision, "rounding")["result"] == "60000.00"
    assert step(decision, "outcome")["result"] == "approve"
    assert decision.profile["age"] == 36
    assert decision.profile["monthly_income"] == "12000.00"
    assert decision.profile["income_verified"] is True
    assert decision.profile["bureau_score"] == 720
    assert decision.profile["existing_monthly_debt"] == "1000.00"
    assert decision.profile["platform_on_time_ratio"] is None

    limit = CreditLimit.objects.get(borrower=borrower)
    assert (limit.amount, limit.status) == (GOOD_LIMIT, LimitStatus.ACTIVE)
    [change] = limit.history.all()
    assert change.kind == "set"
    assert (change.from_amount, change.to_amount) == (D("0.00"), GOOD_LIMIT)
    assert "policy version 1" in change.reason
    assert change.policy == policy_v1
    assert change.to_status == LimitStatus.ACTIVE
    assert exposure(borrower.pk) == D("5000.00")

    second = submit(borrower, product, "5000.00")
    assert second.status == ApplicationStatus.APPROVED
    assert second.loan_id and second.loan_id != loan.pk
    assert sets_of(borrower).count() == 1  # the first limit is set once
    assert limit.history.count() == 1
    assert exposure(borrower.pk) == D("10000.00")


# --------------------------------------------------------------------------- 2. limit


def test_one_fen_over_the_available_limit_declines_and_exactly_at_it_approves(product):
    borrower = good_borrower()
    assert submit(borrower, product, "10000.00", term=36).status == ApplicationStatus.APPROVED

    over = submit(borrower, product, "50000.01", term=36)
    assert over.status == ApplicationStatus.DECLINED
    assert over.loan_id is None
    assert "exceeds the limit" in over.review_note
    assert "exceeds the limit of 60000.00" in over.review_note
    assert "available 50000.00" in over.review_note
    assert codes(over)[0] == "LIMIT_EXCEEDED"
    assert Loan.objects.filter(borrower=borrower).count() == 1

    at = submit(borrower, product, "50000.00", term=36)
    assert at.status == ApplicationStatus.APPROVED
    assert at.loan.principal == D("50000.00")
    assert exposure(borrower.pk) == GOOD_LIMIT
    assert sets_of(borrower).count() == 1


def test_first_application_over_the_decided_limit_is_declined_after_the_limit_is_set(product):
    borrower = good_borrower()
    over = submit(borrower, product, "60000.01", term=36)
    assert over.status == ApplicationStatus.DECLINED
    assert "exceeds the limit of 60000.00" in over.review_note
    assert not Loan.objects.filter(borrower=borrower).exists()
    assert CreditLimit.objects.get(borrower=borrower).amount == GOOD_LIMIT


def test_a_limit_set_by_hand_is_not_replaced_by_the_decision(product, role_user):
    administrator = role_user(roles.ADMINISTRATOR)  # the role holding risk.change_creditlimit
    borrower = good_borrower()
    credit_limit_change(
        borrower=borrower,
        kind="set",
        amount=D("8000.00"),
        status=LimitStatus.ACTIVE,
        reason="starter limit agreed by the credit committee",
        acting_user=administrator,
    )

    over = submit(borrower, product, "8000.01")
    assert over.status == ApplicationStatus.DECLINED
    assert "exceeds the limit of 8000.00" in over.review_note
    assert over.decision.limit == GOOD_LIMIT  # what the policy would have given

    at = submit(borrower, product, "8000.00", term=12)
    assert at.status == ApplicationStatus.APPROVED

    limit = CreditLimit.objects.get(borrower=borrower)
    assert limit.amount == D("8000.00")
    [change] = limit.history.all()
    assert change.changed_by == administrator and change.policy is None


def test_a_frozen_limit_declines(product):
    borrower = good_borrower()
    credit_limit_change(
        borrower=borrower,
        kind="freeze",
        status=LimitStatus.FROZEN,
        reason="fraud investigation",
        acting_user=SYSTEM,
    )
    application = submit(borrower, product, "1000.00")
    assert application.status == ApplicationStatus.DECLINED
    assert application.review_note == "the credit limit is frozen"
    assert codes(application)[0] == "LIMIT_FROZEN"
    assert application.loan_id is None
    assert not Loan.objects.filter(borrower=borrower).exists()
    limit = CreditLimit.objects.get(borrower=borrower)
    assert (limit.amount, limit.status) == (D("0.00"), LimitStatus.FROZEN)
    assert not sets_of(borrower).exists()


# --------------------------------------------------------------------------- 3. refer


@pytest.fixture
def referral(officers):
    """Declared income, no bureau score: referred, submitted by the first officer at 10%."""
    submitter, _ = officers
    product = ProductFactory(max_rate=D("0.18"))
    borrower = good_borrower(profile={"income_source": IncomeSource.DECLARED, "bureau_score": None})
    return submit(borrower, product, "5000.00", user=submitter, annual_rate=D("0.10"))


def test_declared_income_and_no_bureau_score_refer_with_a_proposed_limit(referral):
    application = referral
    assert application.status == ApplicationStatus.REFERRED
    assert application.loan_id is None
    assert not Loan.objects.filter(borrower=application.borrower).exists()
    assert not CreditLimitChange.objects.filter(
        credit_limit__borrower=application.borrower
    ).exists()
    assert codes(application) == ["INCOME_NOT_VERIFIED", "MISSING_DATA"]
    assert texts(application) == ["income not verified", "credit bureau score not on file"]
    decision = application.decision
    assert decision.outcome == Outcome.REFER
    assert decision.profile["income_verified"] is False
    assert decision.profile["bureau_score"] is None
    # 795 − 50 (bureau 720's band) − 20 (bureau missing): still A, limit proposed for review
    assert (decision.score, decision.grade, decision.limit) == (725, "A", GOOD_LIMIT)
    assert application.annual_rate == D("0.10")


def test_a_blank_review_note_is_refused(referral, officers):
    _, reviewer = officers
    with pytest.raises(LendingError) as blank:
        application_review(
            application_id=referral.pk, approve=True, note="   ", acting_user=reviewer
        )
    assert (blank.value.code, blank.value.field) == (LendingErrorCode.REQUIRED, "note")
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED and referral.loan_id is None


@pytest.mark.parametrize(
    "limit, code",
    [
        ({"kind": "freeze", "status": LimitStatus.FROZEN}, LendingErrorCode.LIMIT_NOT_ACTIVE),
        (
            {"kind": "set", "amount": D("4999.99"), "status": LimitStatus.ACTIVE},
            LendingErrorCode.LIMIT_EXCEEDED,
        ),
    ],
    ids=["frozen", "one-fen-short"],
)
def test_a_review_approval_the_limit_no_longer_covers_is_refused_by_its_rule(
    referral, officers, limit, code
):
    # Between referral and review the limit was frozen, or set below the amount: approving is
    # refused by the limit rule (409 at the API), not as bad input, and nothing is booked.
    _, reviewer = officers
    credit_limit_change(
        borrower=referral.borrower, reason="changed while in review", acting_user=SYSTEM, **limit
    )
    with pytest.raises(LendingError) as refused:
        application_review(
            application_id=referral.pk, approve=True, note="fine", acting_user=reviewer
        )
    assert (refused.value.code, refused.value.field) == (code, "amount")
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED and referral.loan_id is None


def test_submission_and_review_are_in_the_audit_trail(referral, officers):
    submitter, reviewer = officers
    application_review(
        application_id=referral.pk, approve=False, note="income not proven", acting_user=reviewer
    )
    trail = list(
        AuditEvent.objects.filter(
            object_type="risk.loanapplication", object_id=str(referral.pk)
        ).order_by("id")
    )
    assert [(e.action, e.actor) for e in trail] == [
        ("application.submit", submitter),
        ("application.decline", reviewer),
    ]
    assert trail[0].summary == "referred: 5000.00 over 6 months"
    assert trail[0].data["decision"] == referral.decision_id
    assert trail[1].summary == "income not proven"


def test_the_submitter_cannot_review_their_own_application(referral, officers):
    submitter, _ = officers
    with pytest.raises(LendingError) as own:
        application_review(
            application_id=referral.pk, approve=True, note="fine", acting_user=submitter
        )
    assert (own.value.code, own.value.field) == (LendingErrorCode.SAME_PERSON, "reviewer")
    assert "you submitted this application" in own.value.message
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED and referral.loan_id is None
    assert not Loan.objects.filter(borrower=referral.borrower).exists()


def test_another_officer_approves_at_the_applications_rate_and_sets_the_limit(
    referral, officers, policy_v1
):
    _, reviewer = officers
    borrower = referral.borrower
    reviewed = application_review(
        application_id=referral.pk,
        approve=True,
        note="payslips seen in branch",
        acting_user=reviewer,
    )
    reviewed.refresh_from_db()
    assert reviewed.status == ApplicationStatus.APPROVED
    assert reviewed.reviewed_by == reviewer and reviewed.reviewed_at is not None
    assert reviewed.review_note == "payslips seen in branch"
    loan = reviewed.loan
    assert loan.status == LoanStatus.APPROVED
    assert loan.origin == LoanOrigin.APPLICATION
    assert (loan.created_by, loan.approved_by) == (reviewer, reviewer)
    assert (loan.borrower_id, loan.principal, loan.term_months) == (borrower.pk, D("5000.00"), 6)
    assert loan.annual_rate == D("0.10") and str(loan.annual_rate) == "0.100000"
    assert loan.annual_rate == reviewed.annual_rate

    limit = CreditLimit.objects.get(borrower=borrower)
    assert (limit.amount, limit.status) == (GOOD_LIMIT, LimitStatus.ACTIVE)
    [change] = limit.history.all()
    assert (change.kind, change.from_amount, change.to_amount) == ("set", D("0.00"), GOOD_LIMIT)
    assert change.policy == policy_v1 and "policy version 1" in change.reason
    assert change.changed_by == reviewer

    with pytest.raises(LendingError) as again:
        application_review(
            application_id=referral.pk, approve=True, note="again", acting_user=reviewer
        )
    assert again.value.code == LendingErrorCode.ILLEGAL_TRANSITION
    assert Loan.objects.filter(borrower=borrower).count() == 1
    assert limit.history.count() == 1


@pytest.mark.parametrize("role", [roles.RISK_ANALYST, roles.FINANCE, roles.AUDITOR])
def test_only_credit_officers_and_administrators_decide_applications(referral, role_user, role):
    with pytest.raises(LendingError) as refused:
        application_review(
            application_id=referral.pk, approve=True, note="fine", acting_user=role_user(role)
        )
    assert (refused.value.code, refused.value.field) == (LendingErrorCode.PERMISSION_DENIED, None)
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED and referral.reviewed_by is None
    assert not Loan.objects.filter(borrower=referral.borrower).exists()


def test_an_administrator_may_decide_a_referral(referral, role_user):
    administrator = role_user(roles.ADMINISTRATOR)
    reviewed = application_review(
        application_id=referral.pk, approve=True, note="checked", acting_user=administrator
    )
    assert reviewed.status == ApplicationStatus.APPROVED
    assert reviewed.loan.approved_by == administrator


def test_an_officer_can_decline_a_referral(referral, officers):
    _, reviewer = officers
    declined = application_review(
        application_id=referral.pk,
        approve=False,
        note="income could not be confirmed",
        acting_user=reviewer,
    )
    declined.refresh_from_db()
    assert declined.status == ApplicationStatus.DECLINED
    assert declined.loan_id is None
    assert declined.reviewed_by == reviewer and declined.reviewed_at is not None
    assert declined.review_note == "income could not be confirmed"
    assert not Loan.objects.filter(borrower=referral.borrower).exists()
    assert not CreditLimitChange.objects.filter(credit_limit__borrower=referral.borrower).exists()
    with pytest.raises(LendingError) as again:
        application_review(
            application_id=referral.pk, approve=True, note="changed my mind", acting_user=reviewer
        )
    assert again.value.code == LendingErrorCode.ILLEGAL_TRANSITION


def test_no_risk_profile_at_all_refers_rather_than_declining_on_the_low_score(product):
    borrower = person()  # income 12,000 on file, nothing from outside
    application = submit(borrower, product, "5000.00")
    assert application.status == ApplicationStatus.REFERRED
    assert application.loan_id is None
    decision = application.decision
    assert decision.outcome == Outcome.REFER
    # The missing data drags the score to grade E, which the policy declines: it still refers.
    assert decision.grade == "E"
    assert decision.profile["income_verified"] is False
    assert "INCOME_NOT_VERIFIED" in codes(application)
    assert "MISSING_DATA" in codes(application)
    assert "credit bureau score not on file" in texts(application)
    assert "AGE_OUT_OF_RANGE" not in codes(application)
    assert not Loan.objects.filter(borrower=borrower).exists()


# --------------------------------------------------------------------------- 4. decline


def test_blacklisted_borrower_is_declined_in_plain_words(product):
    borrower = good_borrower(is_blacklisted=True, blacklist_reason="identity fraud")
    application = submit(borrower, product, "5000.00")
    assert application.status == ApplicationStatus.DECLINED
    assert application.loan_id is None
    assert application.decision.outcome == Outcome.DECLINE
    assert application.decision.limit == D("0.00")
    assert [(r["code"], r["text"]) for r in application.decision.reasons] == [
        ("BLACKLISTED", "on the blacklist")
    ]
    assert not Loan.objects.filter(borrower=borrower).exists()
    assert not CreditLimitChange.objects.filter(credit_limit__borrower=borrower).exists()


@pytest.mark.parametrize(
    ("born", "age"),
    [
        (date(2008, 11, 30), 17),  # 18 tomorrow
        (date(1965, 11, 29), 61),  # 61 today
        (date(1965, 11, 28), 61),
    ],
)
def test_age_outside_18_to_60_is_declined(product, born, age):
    borrower = good_borrower(born, sex="F")
    application = submit(borrower, product, "5000.00")
    assert application.status == ApplicationStatus.DECLINED
    assert application.loan_id is None
    assert application.decision.profile["age"] == age
    assert [(r["code"], r["text"]) for r in application.decision.reasons] == [
        ("AGE_OUT_OF_RANGE", f"age {age} is outside the 18–60 range the policy accepts")
    ]
    assert not Loan.objects.filter(borrower=borrower).exists()


@pytest.mark.parametrize(("born", "age"), [(date(2008, 11, 29), 18), (date(1966, 11, 30), 59)])
def test_ages_at_the_edges_are_approved(product, born, age):
    borrower = good_borrower(born, sex="F")
    application = submit(borrower, product, "5000.00")
    assert application.decision.profile["age"] == age
    assert application.status == ApplicationStatus.APPROVED, application.decision.reasons
    application.refresh_from_db()
    assert application.loan.status == LoanStatus.APPROVED


def test_age_60_on_the_birthday_is_still_approved(product):
    borrower = good_borrower(date(1966, 11, 29))
    application = submit(borrower, product, "5000.00")
    assert application.decision.profile["age"] == 60
    assert application.status == ApplicationStatus.APPROVED


# --------------------------------------------------------------------------- 5. DTI


def stretched_borrower():
    """Income 10,000, 4,000 a month elsewhere: 5,000 allowed, 1,000 left for a new loan."""
    return good_borrower(
        monthly_income=D("10000.00"), profile={"existing_monthly_debt": D("4000.00")}
    )


def test_dti_uses_the_new_loans_real_installment(product):
    borrower = stretched_borrower()
    too_much = submit(borrower, product, "6000.00")
    assert too_much.status == ApplicationStatus.REFERRED
    assert too_much.loan_id is None
    assert codes(too_much) == ["DTI_EXCEEDED"]
    text = texts(too_much)[0]
    assert "1,053.15" in text and "5,053.15" in text and "5,000.00" in text
    assert step(too_much.decision, "dti")["result"] == "refer"
    # 40% DTI costs 40 points against the best band; the limit is 10,000 × 6 × 1,000 / 5,000.
    assert (too_much.decision.score, too_much.decision.grade) == (755, "A")
    assert too_much.decision.limit == D("12000.00")

    fits = submit(borrower, product, "5000.00")
    assert fits.status == ApplicationStatus.APPROVED
    assert "877.63" in step(fits.decision, "dti")["detail"]
    assert step(fits.decision, "dti")["result"] == "pass"
    assert fits.loan.principal == D("5000.00")
    assert not Loan.objects.filter(borrower=borrower, principal=D("6000.00")).exists()


def test_dti_installment_is_the_products_schedule(product):
    """The quoted installment is the one the booked loan's schedule charges."""
    borrower = stretched_borrower()
    fits = submit(borrower, product, "5000.00")
    loan = fits.loan
    loan_disburse(loan_id=loan.pk, disbursement_date=TODAY, acting_user=SYSTEM)
    first = Installment.objects.get(loan=loan, seq=1)
    assert first.principal_due + first.interest_due + first.fee_due == D("877.63")


# --------------------------------------------------------------------------- 6. profile_for


def test_age_on_birthday_boundaries():
    born = date(2000, 5, 10)
    assert age_on(born, date(2026, 5, 9)) == 25
    assert age_on(born, date(2026, 5, 10)) == 26
    assert age_on(born, date(2026, 12, 31)) == 26
    leap = date(2004, 2, 29)
    assert age_on(leap, date(2026, 2, 28)) == 21  # no 29th this year: not yet
    assert age_on(leap, date(2026, 3, 1)) == 22
    assert age_on(leap, date(2028, 2, 28)) == 23
    assert age_on(leap, date(2028, 2, 29)) == 24


def test_profile_age_uses_as_of():
    borrower = person(date(2004, 2, 29), sex="F")
    assert profile_for(borrower, date(2026, 2, 28)).age == 21
    assert profile_for(borrower, date(2026, 3, 1)).age == 22
    assert profile_for(borrower, date(2022, 2, 28)).age == 17


@pytest.mark.parametrize(
    ("income", "source", "verified"),
    [
        (D("12000.00"), IncomeSource.PAYROLL, True),
        (D("12000.00"), IncomeSource.TAX, True),
        (D("12000.00"), IncomeSource.BANK, True),
        (D("12000.00"), IncomeSource.SOCIAL_INSURANCE, True),
        (D("12000.00"), IncomeSource.DECLARED, False),
        (None, IncomeSource.PAYROLL, False),
        (D("12000.00"), None, False),  # no risk profile at all
    ],
)
def test_income_is_verified_only_with_income_and_a_non_declared_source(income, source, verified):
    borrower = person(monthly_income=income)
    if source is not None:
        outside_data(borrower, income_source=source)
    profile = profile_for(borrower, TODAY)
    assert profile.income_verified is verified
    assert profile.monthly_income == income


def test_profile_without_outside_data_leaves_it_missing():
    borrower = person()
    profile = profile_for(borrower, TODAY)
    assert profile.employment_type is None and profile.employment_months is None
    assert profile.existing_monthly_debt is None and profile.bureau_score is None
    assert profile.bureau_current_delinquencies is None
    assert profile.blacklisted is False
    assert profile.platform_on_time_ratio is None
    assert (profile.platform_worst_dpd, profile.platform_loans_repaid) == (0, 0)
    assert profile.platform_outstanding_principal == D("0")
    assert profile.platform_currently_overdue is False


def installment(loan, seq) -> Installment:
    return Installment.objects.get(loan=loan, seq=seq)


def pay_installment(loan, seq, on: date):
    due = installment(loan, seq)
    repayment_post(loan_id=loan.pk, amount=due.outstanding, value_date=on, acting_user=SYSTEM)
    assert installment(loan, seq).settled_on == on


def test_platform_history_from_the_books(product):
    borrower = good_borrower()
    # Loan A, 12 months from 2026-01-15: due on the 15th. #1 on time, #2 five days late
    # (the night of 03-18 saw it 3 days past due), #3 on its due date.
    loan_a = active_loan(borrower=borrower, product=product)
    assert installment(loan_a, 2).due_date == date(2026, 3, 15)
    pay_installment(loan_a, 1, date(2026, 2, 15))
    flag_overdue(business_date=date(2026, 3, 18), loan_ids=[loan_a.pk])
    loan_a.refresh_from_db()
    assert loan_a.dpd == 3
    pay_installment(loan_a, 2, date(2026, 3, 20))
    pay_installment(loan_a, 3, date(2026, 4, 15))
    loan_a.refresh_from_db()
    assert loan_a.dpd == 0  # cured: only the bucket history remembers
    assert BucketChange.objects.filter(loan=loan_a).order_by("id").first().dpd == 3

    # Loan B, one month from 2026-02-01, repaid early on 2026-02-20.
    loan_b = active_loan(
        borrower=borrower, product=product, principal="2000.00", term=1, start=date(2026, 2, 1)
    )
    quote = loan_payoff_quote(loan_b, date(2026, 2, 20))
    assert repayment_post(
        loan_id=loan_b.pk, amount=quote.amount, value_date=date(2026, 2, 20), acting_user=SYSTEM
    ).closed

    # Loan C: approved, not paid out: no outstanding principal with us yet.
    loan_book_approved(
        borrower=borrower,
        product=product,
        principal=D("3000.00"),
        annual_rate=D("0.18"),
        term_months=6,
        acting_user=SYSTEM,
    )

    profile = profile_for(borrower, date(2026, 4, 20))
    # Due before 04-20: A #1 #2 #3 and B #1; on time: A #1, A #3, B #1.
    assert profile.platform_on_time_ratio == D(3) / D(4)
    assert profile.platform_loans_repaid == 1
    loan_a.refresh_from_db()
    assert D("7000") < loan_a.principal_outstanding < D("10000")
    assert profile.platform_outstanding_principal == loan_a.principal_outstanding
    assert profile.platform_worst_dpd == 3
    assert profile.platform_currently_overdue is False

    # Only installments due strictly before as_of count.
    assert profile_for(borrower, date(2026, 3, 15)).platform_on_time_ratio == D(1)
    assert profile_for(borrower, date(2026, 3, 16)).platform_on_time_ratio == D(2) / D(3)


def test_currently_overdue_with_us_is_flagged_and_declines(product):
    borrower = good_borrower()
    loan = active_loan(borrower=borrower, product=product)  # nothing paid since 2026-01-15
    assert profile_for(borrower, TODAY).platform_currently_overdue is False  # no night yet
    flag_overdue(business_date=TODAY, loan_ids=[loan.pk])
    loan.refresh_from_db()
    assert loan.dpd == (TODAY - date(2026, 2, 15)).days

    profile = profile_for(borrower, TODAY)
    assert profile.platform_currently_overdue is True
    assert profile.platform_worst_dpd == loan.dpd
    assert profile.platform_on_time_ratio == D(0)
    assert profile.platform_outstanding_principal == D("10000.00")

    application = submit(borrower, product, "1000.00")
    assert application.status == ApplicationStatus.DECLINED
    assert codes(application) == ["CURRENTLY_OVERDUE"]
    assert application.loan_id is None


def written_off_borrower(product):
    borrower = good_borrower()
    loan = active_loan(borrower=borrower, product=product, start=date(2026, 1, 15), term=12)
    loan_write_off(
        loan_id=loan.pk, reason="uncollectable", value_date=date(2026, 4, 20), acting_user=SYSTEM
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF
    return borrower


def test_written_off_loan_is_neither_repaid_nor_outstanding_nor_paid_on_time(product):
    borrower = written_off_borrower(product)
    profile = profile_for(borrower, TODAY)
    assert profile.platform_loans_repaid == 0
    assert profile.platform_outstanding_principal == D("0")
    assert profile.platform_currently_overdue is False
    # The write-off settled every installment on 2026-04-20, before most due dates: that
    # must not read as paying on time.
    assert profile.platform_on_time_ratio != D(1)


def test_written_off_loan_with_nothing_paid_has_on_time_ratio_zero(product):
    borrower = written_off_borrower(product)
    assert profile_for(borrower, TODAY).platform_on_time_ratio == D(0)


# --------------------------------------------------------------------------- 7. determinism


DECIDED = ("outcome", "score", "grade", "limit", "reasons", "trace", "profile", "policy_id")


@pytest.mark.parametrize(
    "profile",
    [{}, {"income_source": IncomeSource.DECLARED, "bureau_score": None}],
    ids=["approved", "referred"],
)
def test_submitting_twice_gives_the_same_decision(product, profile):
    borrower = good_borrower(profile=profile)
    first = submit(borrower, product, "5000.00")
    second = submit(borrower, product, "5000.00")
    assert first.status == second.status
    one, two = (Decision.objects.get(pk=a.decision_id) for a in (first, second))
    assert one.pk != two.pk
    assert {f: getattr(one, f) for f in DECIDED} == {f: getattr(two, f) for f in DECIDED}
    assert LoanApplication.objects.filter(borrower=borrower).count() == 2
