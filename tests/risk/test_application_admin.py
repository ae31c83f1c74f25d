"""Applying in the admin and approving with a confirmation step, as the roles that may and may
not: the form goes through `application_submit`, the approval through `application_review`."""

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from lending.identity import generate_national_id
from lending.models import Loan, LoanStatus
from lending.roles import (
    AUDITOR,
    COLLECTIONS_MANAGER,
    COLLECTOR,
    CREDIT_OFFICER,
    FINANCE,
)
from lending.roles import RISK_ANALYST as ANALYST
from risk.models import ApplicationStatus, IncomeSource, LoanApplication
from risk.services.underwriting import application_submit
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory

pytestmark = pytest.mark.django_db

D = Decimal
_seq = itertools.count()
ADD = "admin:risk_loanapplication_add"


def borrower(name="王小明", **profile):
    born = date(1990, 6, 15)
    person = BorrowerFactory(
        full_name=name,
        national_id=generate_national_id(
            date_of_birth=born, sex="M", region_code="440301", sequence=next(_seq) % 100
        ),
        date_of_birth=born,
        sex="M",
    )
    RiskProfileFactory(borrower=person, **profile)
    return person


def user_in(role, name, django_user_model):
    user = django_user_model.objects.create_user(username=name, password="pw-12345", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def officers(django_user_model):
    return [user_in(CREDIT_OFFICER, n, django_user_model) for n in ("submitter", "reviewer")]


@pytest.fixture
def referral(officers):
    return application_submit(
        borrower_id=borrower(income_source=IncomeSource.DECLARED, bureau_score=None).pk,
        product=ProductFactory(),
        amount=D("5000.00"),
        term_months=6,
        acting_user=officers[0],
    )


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def review_url(application):
    return reverse("admin:risk_loanapplication_review", args=[application.pk])


# --------------------------------------------------------------------------- applying


def test_an_officer_applies_in_the_admin_and_the_approval_links_to_the_booked_loan(
    client, officers
):
    person, product = borrower(), ProductFactory(code="cash6")
    client.force_login(officers[0])
    form = client.get(reverse(ADD), {"borrower": person.pk})
    assert form.status_code == 200
    assert form.context["form"].initial["borrower"] == str(person.pk)
    assert "admin/js/autocomplete.js" in form.content.decode()

    done = client.post(
        reverse(ADD),
        {"borrower": person.pk, "product": product.pk, "amount": "3000", "term_months": "6"},
        follow=True,
    )
    application = LoanApplication.objects.get(borrower=person)
    assert application.status == ApplicationStatus.APPROVED
    assert application.submitted_by == officers[0]
    loan = application.loan
    assert loan.status == LoanStatus.APPROVED and loan.principal == D("3000.00")
    # On to the application's page, the message naming the loan and linking to it.
    assert done.redirect_chain[-1][0] == review_url(application)
    [message] = texts(done)
    assert f"loan {loan.reference} booked" in message
    assert reverse("admin:lending_loan_change", args=[loan.pk]) in done.content.decode()


def test_a_referred_application_says_who_decides_it_and_books_nothing(client, officers):
    person = borrower(income_source=IncomeSource.DECLARED, bureau_score=None)
    client.force_login(officers[0])
    done = client.post(
        reverse(ADD),
        {
            "borrower": person.pk,
            "product": ProductFactory().pk,
            "amount": "5000",
            "term_months": "6",
        },
        follow=True,
    )
    assert LoanApplication.objects.get(borrower=person).status == ApplicationStatus.REFERRED
    assert "another credit officer decides it" in texts(done)[0]
    assert not Loan.objects.filter(borrower=person).exists()


def test_an_amount_the_product_refuses_is_shown_on_the_amount_and_nothing_is_written(
    client, officers
):
    person = borrower()
    client.force_login(officers[0])
    page = client.post(
        reverse(ADD),
        {
            "borrower": person.pk,
            "product": ProductFactory(max_amount=D("10000.00")).pk,
            "amount": "50000",
            "term_months": "6",
        },
    )
    assert page.status_code == 200
    assert page.context["form"].errors["amount"]
    assert not LoanApplication.objects.exists() and not Loan.objects.exists()


@pytest.mark.parametrize("role", [ANALYST, COLLECTOR, COLLECTIONS_MANAGER, FINANCE, AUDITOR])
def test_roles_that_do_not_apply_get_403_on_the_add_page_and_a_forged_post(
    client, django_user_model, role
):
    person = borrower()
    client.force_login(user_in(role, "someone", django_user_model))
    assert client.get(reverse(ADD)).status_code == 403
    body = {
        "borrower": person.pk,
        "product": ProductFactory().pk,
        "amount": "3000",
        "term_months": "6",
    }
    assert client.post(reverse(ADD), body).status_code == 403
    assert not LoanApplication.objects.exists()
    changelist = client.get(reverse("admin:risk_loanapplication_changelist"))
    assert reverse(ADD) not in changelist.content.decode()


def test_the_queue_offers_add_to_officers(client, officers):
    client.force_login(officers[0])
    page = client.get(reverse("admin:risk_loanapplication_changelist"))
    assert reverse(ADD) in page.content.decode()


# --------------------------------------------------------------------------- autocomplete


def autocomplete(client, term):
    return client.get(
        reverse("admin:autocomplete"),
        {
            "term": term,
            "app_label": "risk",
            "model_name": "loanapplication",
            "field_name": "borrower",
        },
    )


@pytest.mark.parametrize("role", [CREDIT_OFFICER, ANALYST])
def test_the_borrower_picker_finds_by_name_and_shows_the_id_masked(client, django_user_model, role):
    person = borrower(name="欧阳娜娜")
    borrower(name="张三")
    client.force_login(user_in(role, "picker", django_user_model))
    found = autocomplete(client, "欧阳").json()["results"]
    assert [r["id"] for r in found] == [str(person.pk)]
    assert person.national_id not in found[0]["text"]
    assert person.masked_national_id in found[0]["text"]


def test_the_picker_finds_a_borrower_by_loan_reference_and_by_number(client, officers):
    person = borrower(name="李四")
    application = application_submit(
        borrower_id=person.pk,
        product=ProductFactory(),
        amount=D("3000"),
        term_months=6,
        acting_user=officers[0],
    )
    client.force_login(officers[1])
    by_reference = autocomplete(client, application.loan.reference).json()["results"]
    assert [r["id"] for r in by_reference] == [str(person.pk)]
    by_number = autocomplete(client, str(person.pk)).json()["results"]
    assert str(person.pk) in [r["id"] for r in by_number]


def test_the_picker_never_searches_by_national_id(client, officers):
    person = borrower()
    client.force_login(officers[0])
    assert autocomplete(client, person.national_id).json()["results"] == []


# --------------------------------------------------------------------------- approving


def test_approving_asks_first_showing_amount_grade_and_limit_then_books(client, officers, referral):
    client.force_login(officers[1])
    ask = client.post(review_url(referral), {"decision": "approve", "note": "payslips seen"})
    assert ask.status_code == 200
    assert ask.templates[0].name == "admin/risk/loanapplication/confirm_approve.html"
    html = ask.content.decode()
    assert "¥5,000.00" in html and "<strong>A</strong>" in html and "60,000.00" in html
    assert 'name="confirmed" value="True"' in html
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED and referral.loan is None

    done = client.post(
        review_url(referral),
        {"decision": "approve", "note": "payslips seen", "confirmed": "True"},
        follow=True,
    )
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.APPROVED
    assert reverse("admin:lending_loan_change", args=[referral.loan_id]) in done.content.decode()


def test_declining_needs_no_confirmation(client, officers, referral):
    client.force_login(officers[1])
    client.post(review_url(referral), {"decision": "decline", "note": "employer unknown"})
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.DECLINED


def test_the_submitter_is_refused_at_the_confirmation(client, officers, referral):
    client.force_login(officers[0])
    page = client.post(
        review_url(referral), {"decision": "approve", "note": "mine", "confirmed": "True"}
    )
    assert texts(page) == ["you submitted this application; another credit officer must review it"]
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED


def test_the_submitter_is_offered_no_approval_and_a_forged_one_skips_the_confirmation(
    client, officers, referral
):
    client.force_login(officers[0])
    page = client.get(review_url(referral))
    assert b'value="approve"' not in page.content
    assert "another credit officer reviews it" in page.content.decode()
    forged = client.post(review_url(referral), {"decision": "approve", "note": "mine"})
    assert forged.templates[0].name == "admin/risk/loanapplication/review.html"
    assert texts(forged) == [
        "you submitted this application; another credit officer must review it"
    ]
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED and referral.loan is None


@pytest.mark.parametrize("role", [ANALYST, COLLECTOR, FINANCE, AUDITOR])
def test_other_roles_forging_the_confirmed_approval_get_403(
    client, django_user_model, referral, role
):
    client.force_login(user_in(role, "forger", django_user_model))
    body = {"decision": "approve", "note": "forged", "confirmed": "True"}
    assert client.post(review_url(referral), body).status_code == 403
    assert client.post(review_url(referral), {**body, "confirmed": ""}).status_code == 403
    referral.refresh_from_db()
    assert referral.status == ApplicationStatus.REFERRED and referral.loan is None


# --------------------------------------------------------------------------- the queue


def test_the_queue_shows_names_codes_and_short_reasons(client, officers, referral):
    client.force_login(officers[1])
    page = client.get(reverse("admin:risk_loanapplication_changelist"))
    html = page.content.decode()
    assert referral.borrower.masked_national_id not in html  # the name alone
    assert review_url(referral) in html
    headers = [h["text"] for h in page.context["result_headers"]]
    # The figures decided on, then the Review link and the status (never pushed off a 1440 px
    # page by a long reason), the reasons; the date last.
    assert headers == [
        "borrower",
        "product",
        "amount",
        "term (months)",
        "grade",
        "score",
        "",  # Review
        "status",
        "reasons",
        "submitted at",
    ]


def test_the_queue_in_chinese(client, officers, referral):
    client.force_login(officers[1])
    page = client.get(
        reverse("admin:risk_loanapplication_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    headers = [str(h["text"]) for h in page.context["result_headers"]]
    assert "借款人" in headers and "贷款产品" in headers
    add = client.get(reverse(ADD), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for label in ("借款人", "贷款产品", "金额", "期限（月）", "年利率"):
        assert f">{label}:</label>" in add
