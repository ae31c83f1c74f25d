"""The credit officers' review queue, the decision trace and the simulation page, through the
admin as the users who use them.

The referral is test_underwriting's: declared income and no bureau score, so the policy refers
(INCOME_NOT_VERIFIED, then MISSING_DATA) with score 725, grade A and a proposed limit of 60,000.
"""

import copy
import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from lending.access import SYSTEM
from lending.identity import generate_national_id
from lending.models import Loan, LoanStatus
from lending.roles import AUDITOR, CREDIT_OFFICER
from risk.models import ApplicationStatus, CreditLimit, CreditPolicy, IncomeSource
from risk.policy import DEFAULT_POLICY
from risk.services.policies import policy_create
from risk.services.underwriting import application_submit
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = date(2026, 11, 29)
_seq = itertools.count()


def borrower(**profile):
    born = date(1990, 6, 15)
    person = BorrowerFactory(
        national_id=generate_national_id(
            date_of_birth=born, sex="M", region_code="440301", sequence=next(_seq) % 100
        ),
        date_of_birth=born,
        sex="M",
    )
    RiskProfileFactory(borrower=person, **profile)
    return person


def user_in(role: str, name: str, django_user_model):
    user = django_user_model.objects.create_user(username=name, password="pw-12345", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def officers(django_user_model):
    """Two credit officers, with exactly the role's permissions (lending/roles.py)."""
    return [user_in(CREDIT_OFFICER, name, django_user_model) for name in ("submitter", "reviewer")]


@pytest.fixture
def referral(officers):
    submitter, _ = officers
    applicant = borrower(income_source=IncomeSource.DECLARED, bureau_score=None)
    return application_submit(
        borrower_id=applicant.pk,
        product=ProductFactory(),
        amount=D("5000.00"),
        term_months=6,
        acting_user=submitter,
        as_of=TODAY,
    )


@pytest.fixture
def approved(officers):
    return application_submit(
        borrower_id=borrower().pk,
        product=ProductFactory(),
        amount=D("3000.00"),
        term_months=6,
        acting_user=officers[0],
        as_of=TODAY,
    )


def review_url(application) -> str:
    return reverse("admin:risk_loanapplication_review", args=[application.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --------------------------------------------------------------------------- the queue


def test_the_queue_opens_on_referred_applications_with_grade_score_and_reasons(
    client, officers, referral, approved
):
    assert approved.status == ApplicationStatus.APPROVED
    client.force_login(officers[1])
    page = client.get(reverse("admin:risk_loanapplication_changelist"))
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [referral]
    html = page.content.decode()
    assert "725" in html and "income not verified (+1 more)" in html
    assert review_url(referral) in html

    everything = client.get(reverse("admin:risk_loanapplication_changelist"), {"queue": "all"})
    assert set(everything.context["cl"].result_list) == {referral, approved}


def test_the_review_page_shows_the_decision_reasons_and_trace(client, officers, referral):
    client.force_login(officers[1])
    page = client.get(review_url(referral))
    assert page.status_code == 200
    html = page.content.decode()
    reasons = [r["text"] for r in page.context["reasons"]]
    assert reasons == ["income not verified", "credit bureau score not on file"]
    assert "<ol" in html and "income not verified" in html
    rows = {row["rule"]: row for row in page.context["rows"]}
    assert rows["hard_rules.refer_income_unverified"]["result"] == "refer"
    assert rows["scorecard.bureau_score"]["points"] == "-20"
    assert rows["scorecard.bureau_score"]["value"] == "not on file"
    assert rows["hard_rules.age"]["value"] == "36"
    assert "Scorecard: credit bureau score" in html and "Hard rule: age" in html
    assert "Approve and book the loan" in html


# --------------------------------------------------------------------------- deciding


def test_approving_books_the_loan_and_returns_to_the_queue(client, officers, referral):
    _, reviewer = officers
    client.force_login(reviewer)
    done = client.post(
        review_url(referral),
        # confirmed: the answer to the "are you sure" page (tests/risk/test_application_admin.py)
        {"decision": "approve", "note": "payslips seen", "confirmed": "True"},
        follow=True,
    )
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.APPROVED
    assert (referral.reviewed_by, referral.review_note) == (reviewer, "payslips seen")
    loan = referral.loan
    assert (loan.status, loan.principal) == (LoanStatus.APPROVED, D("5000.00"))
    assert CreditLimit.objects.get(borrower=referral.borrower).amount == D("60000.00")
    assert any("approved" in m and str(loan) in m for m in messages_of(done))
    assert list(done.context["cl"].result_list) == []  # the queue is empty again


def test_declining_stores_the_note_and_books_nothing(client, officers, referral):
    client.force_login(officers[1])
    client.post(review_url(referral), {"decision": "decline", "note": "employer not reachable"})
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.DECLINED
    assert referral.review_note == "employer not reachable"
    assert referral.reviewed_by == officers[1]
    assert not Loan.objects.filter(borrower=referral.borrower).exists()


def test_an_officer_cannot_review_their_own_application(client, officers, referral):
    submitter, _ = officers
    client.force_login(submitter)
    page = client.post(
        review_url(referral), {"decision": "approve", "note": "looks fine", "confirmed": "True"}
    )
    assert page.status_code == 200
    assert messages_of(page) == [
        "you submitted this application; another credit officer must review it"
    ]
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED
    assert (referral.reviewed_by, referral.review_note, referral.loan) == (None, "", None)
    assert not Loan.objects.filter(borrower=referral.borrower).exists()
    assert not CreditLimit.objects.filter(borrower=referral.borrower).exists()


def test_a_note_is_required(client, officers, referral):
    client.force_login(officers[1])
    page = client.post(review_url(referral), {"decision": "approve", "note": "  "})
    assert page.status_code == 200
    assert page.context["form"].errors["note"]
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED


def test_a_read_only_role_sees_the_trace_but_cannot_decide(client, django_user_model, referral):
    auditor = user_in(AUDITOR, "auditor", django_user_model)
    client.force_login(auditor)
    page = client.get(review_url(referral))
    assert page.status_code == 200 and "Approve and book the loan" not in page.content.decode()
    refused = client.post(review_url(referral), {"decision": "approve", "note": "sure"})
    assert refused.status_code == 403
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED


def test_the_decision_page_shows_the_trace_as_a_table_and_numbered_reasons(
    client, officers, referral
):
    client.force_login(officers[1])
    page = client.get(reverse("admin:risk_decision_change", args=[referral.decision_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="decision-trace"' in html and 'class="decision-reasons"' in html
    for label in ("Hard rule: age", "Scorecard: total score", "Grade", "Limit rounding"):
        assert label in html
    assert "score 725 reaches grade A" in html
    assert html.index("income not verified") < html.index("credit bureau score not on file")


# --------------------------------------------------------------------------- simulation


def test_the_simulate_page_shows_active_and_draft_side_by_side(client, officers, approved):
    definition = copy.deepcopy(DEFAULT_POLICY)
    # Cut-offs no score reaches: under the candidate every borrower is grade E, declined.
    definition["grades"] = [
        {"grade": grade, "min_score": cut}
        for grade, cut in zip("ABCDE", (5000, 4990, 4980, 4970, None), strict=True)
    ]
    candidate = policy_create(name="Stricter", definition=definition, acting_user=SYSTEM)
    client.force_login(officers[1])  # a credit officer may view policies

    change = client.get(reverse("admin:risk_creditpolicy_change", args=[candidate.pk]))
    url = reverse("admin:risk_creditpolicy_simulate", args=[candidate.pk])
    assert url in change.content.decode()

    page = client.get(url)
    assert page.status_code == 200
    assert page.context["titles"] == ["active v1", "draft v2"]  # each by its own status
    rows = dict(page.context["rows"])
    assert rows["borrowers evaluated"] == ["1", "1"]
    # Each column is its own version: the active one approves, the candidate declines.
    assert rows["approve"] == ["1 (100.00 %)", "0 (0.00 %)"]
    assert rows["decline"] == ["0 (0.00 %)", "1 (100.00 %)"]
    html = page.content.decode()
    assert "active v1" in html and "draft v2" in html and "candidate v2" not in html


def test_the_simulate_action_opens_the_page(client, officers):
    client.force_login(officers[1])
    v1 = CreditPolicy.objects.get(version=1)
    response = client.post(
        reverse("admin:risk_creditpolicy_changelist"),
        {"action": "simulate", "_selected_action": [v1.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:risk_creditpolicy_simulate", args=[v1.pk])
