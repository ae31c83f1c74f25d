"""The officer's path in the admin, step by step, as the officer and then finance: quote,
apply with its terms, the decision, the booked loan, its disbursement; each object linking to
the ones it came from and leads to. Also the friendlier words on the way."""

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from lending.access import SYSTEM
from lending.close_of_business.runner import close_business_days
from lending.models import Borrower, Loan, LoanStatus, TransactionKind
from lending.roles import COLLECTOR, CREDIT_OFFICER, FINANCE
from risk.models import LoanApplication
from risk.services.limits import credit_limit_change
from tests.factories import ProductFactory
from tests.lending.loan_helpers import active_loan
from tests.risk.test_application_admin import borrower

pytestmark = pytest.mark.django_db

D = Decimal


def user_in(role, name, django_user_model):
    user = django_user_model.objects.create_user(username=name, password="pw-12345", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def officer(django_user_model):
    return user_in(CREDIT_OFFICER, "officer", django_user_model)


@pytest.fixture
def finance(django_user_model):
    return user_in(FINANCE, "finance", django_user_model)


def html_of(response) -> str:
    return response.content.decode()


def link(response, element_id: str) -> str:
    """The href of the element with that id (fails when the page has none)."""
    html = html_of(response)
    at = html.index(f'id="{element_id}"')
    start = html.rindex("<a ", 0, at)
    href = html[start:].split('href="', 1)[1].split('"', 1)[0]
    return href.replace("&amp;", "&")


def test_quote_borrower_application_decision_loan_and_disbursement(client, officer, finance):
    person, product = borrower(name="陈静"), ProductFactory(code="cash12")
    client.force_login(officer)

    # The borrower's page: no limit yet, the risk profile, and the door to apply.
    page = client.get(reverse("admin:lending_borrower_change", args=[person.pk]))
    related = {link.label: link for link in page.context["related_links"]}
    assert related["credit limit"].text == "none set yet"
    assert related["risk profile"].url == reverse(
        "admin:risk_riskprofile_change", args=[person.risk_profile.pk]
    )
    assert link(page, "new-application") == (
        reverse("admin:risk_loanapplication_add") + f"?borrower={person.pk}"
    )

    # The borrower's quote opens empty (no errors), keeping the borrower for the application.
    empty = client.get(link(page, "quote-for-borrower"))
    assert empty.status_code == 200 and not empty.context["form"].is_bound
    assert f'name="borrower" value="{person.pk}"' in html_of(empty)

    # The quote offers to apply with its terms, which prefill the application form.
    quote = client.get(
        reverse("admin:lending_loanproduct_quote"),
        {
            "product": product.pk,
            "amount": "6000.00",
            "rate": "0.150000",
            "term": "12",
            "start_date": "2026-03-01",
            "borrower": person.pk,
        },
    )
    apply_url = link(quote, "apply-with-terms")
    terms = {k: v[0] for k, v in parse_qs(urlparse(apply_url).query).items()}
    assert terms == {
        "product": str(product.pk),
        "amount": "6000.00",
        "term_months": "12",
        "annual_rate": "0.150000",
        "borrower": str(person.pk),
    }
    form = client.get(apply_url).context["form"]
    assert {k: form.initial[k] for k in terms} == terms

    done = client.post(apply_url, {**terms, "purpose": "家电"}, follow=True)
    application = LoanApplication.objects.get(borrower=person)
    loan = application.loan
    assert (loan.principal, loan.annual_rate, loan.term_months) == (D("6000.00"), D("0.15"), 12)
    loan_url = reverse("admin:lending_loan_change", args=[loan.pk])
    assert link(done, "application-loan") == loan_url
    assert link(done, "application-borrower") == reverse(
        "admin:lending_borrower_change", args=[person.pk]
    )

    # The loan leads back to its application and its borrower.
    loan_page = client.get(loan_url)
    [back] = [x for x in loan_page.context["related_links"] if x.label == "loan application"]
    assert back.url == reverse("admin:risk_loanapplication_review", args=[application.pk])
    assert reverse("admin:lending_borrower_change", args=[person.pk]) in html_of(loan_page)

    # The borrower now shows the limit the decision set, and the application.
    page = client.get(reverse("admin:lending_borrower_change", args=[person.pk]))
    related = {link.label: link for link in page.context["related_links"]}
    limit = person.credit_limit
    assert related["credit limit"].url == reverse("admin:risk_creditlimit_change", args=[limit.pk])
    assert "Active" in related["credit limit"].text
    assert related["loan applications"].text == "1"

    # Finance: awaiting disbursement is one click from the loans list, then the loan's button.
    client.force_login(finance)
    loans = client.get(reverse("admin:lending_loan_changelist"))
    waiting = client.get(
        reverse("admin:lending_loan_changelist") + link(loans, "awaiting-disbursement")
    )
    assert loan in waiting.context["cl"].result_list
    assert reverse("admin:lending_loan_disburse", args=[loan.pk]) in html_of(client.get(loan_url))
    client.post(
        reverse("admin:lending_loan_disburse", args=[loan.pk]),
        {"disbursement_date": date.today().isoformat()},
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert loan.transactions.filter(kind=TransactionKind.DISBURSEMENT).exists()


def test_finance_work_lists_are_on_the_loans_list(client, finance, officer):
    credit = active_loan(start=date(2026, 1, 15))
    plain = active_loan(start=date(2026, 1, 15))
    Loan.objects.filter(pk=credit.pk).update(credit_balance=D("12.50"))
    client.force_login(finance)
    page = client.get(reverse("admin:lending_loan_changelist"))
    for element in (
        "awaiting-disbursement",
        "credit-balances",
        "write-off-candidates",
        "write-off-proposals",
    ):
        assert f'id="{element}"' in html_of(page)
    assert link(page, "write-off-proposals") == (
        reverse("admin:collections_writeoffproposal_changelist") + "?state__exact=pending"
    )
    with_credit = client.get(
        reverse("admin:lending_loan_changelist") + link(page, "credit-balances")
    )
    assert list(with_credit.context["cl"].result_list) == [credit]
    assert plain not in with_credit.context["cl"].result_list
    proposals = client.get(link(page, "write-off-proposals"))
    assert proposals.status_code == 200

    client.force_login(officer)  # moves no money: no work lists of finance's
    assert 'id="work-lists"' not in html_of(client.get(reverse("admin:lending_loan_changelist")))


def test_loans_list_shows_names_and_the_next_due_date(client, officer):
    loan = active_loan(start=date(2026, 1, 15))
    client.force_login(officer)
    page = client.get(reverse("admin:lending_loan_changelist"))
    html = html_of(page)
    assert loan.borrower.full_name in html
    assert loan.borrower.masked_national_id not in html
    headers = [str(h["text"]) for h in page.context["result_headers"]]
    assert headers[-1] == "next due date"


def test_penalty_accruals_show_their_penalty_not_a_cash_amount_of_zero(client, officer):
    loan = active_loan(start=date(2026, 9, 15))
    close_business_days(until=date(2026, 10, 25), acting_user=SYSTEM)
    accrual = loan.transactions.filter(kind=TransactionKind.PENALTY_ACCRUAL).first()
    assert accrual is not None and accrual.amount == 0 and accrual.penalty > 0
    client.force_login(officer)
    page = client.get(reverse("admin:lending_loan_change", args=[loan.pk]))
    [inline] = [
        f for f in page.context["inline_admin_formsets"] if f.opts.model.__name__ == "Transaction"
    ]
    assert "cash" in inline.opts.fields and "amount" not in inline.opts.fields
    assert inline.opts.cash(accrual) == "—"
    disbursement = loan.transactions.get(kind=TransactionKind.DISBURSEMENT)
    assert inline.opts.cash(disbursement) == "10,000.00"  # grouped, as every amount
    # The contract's allocation order in words, not the stored codes.
    assert "penalty → fee → interest → principal" in html_of(page)
    assert "penalty,fee,interest,principal" not in html_of(page)


def borrower_post(person: Borrower, **changes) -> dict:
    data = {
        "full_name": person.full_name,
        "national_id": "",
        "mobile": "",
        "address": "",
        "employer": person.employer,
        "monthly_income": str(person.monthly_income),
        "kyc_status": person.kyc_status,
        "blacklist_reason": "",
        "emergency_contacts-TOTAL_FORMS": "0",
        "emergency_contacts-INITIAL_FORMS": "0",
        "loans-TOTAL_FORMS": "0",
        "loans-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def test_a_negative_income_is_an_error_on_the_income_field_and_nothing_is_saved(client, officer):
    person = borrower(name="赵六")
    client.force_login(officer)
    url = reverse("admin:lending_borrower_change", args=[person.pk])
    page = client.post(url, borrower_post(person, monthly_income="-100"))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert form.errors["monthly_income"] == ["must not be negative"]
    assert not form.non_field_errors()
    assert "Constraint" not in html_of(page) and "borrower_income_not_negative" not in html_of(page)
    person.refresh_from_db()
    assert person.monthly_income == D("12000.00")

    ok = client.post(url, borrower_post(person, monthly_income="15000"))
    assert ok.status_code == 302
    person.refresh_from_db()
    assert person.monthly_income == D("15000.00")


def test_a_blacklisting_without_reason_is_an_error_on_the_reason(client, officer):
    person = borrower(name="孙七")
    client.force_login(officer)
    url = reverse("admin:lending_borrower_change", args=[person.pk])
    page = client.post(url, borrower_post(person, is_blacklisted="on"))
    assert page.context["adminform"].form.errors["blacklist_reason"]
    person.refresh_from_db()
    assert not person.is_blacklisted


def test_limit_history_says_what_happened_in_words(client, officer):
    person = borrower()
    credit_limit_change(
        borrower=person,
        kind="set",
        amount=D("8000"),
        status="active",
        reason="t",
        acting_user=SYSTEM,
    )
    client.force_login(officer)
    page = client.get(reverse("admin:risk_creditlimit_change", args=[person.credit_limit.pk]))
    html = html_of(page)
    assert "Limit set" in html and "Active" in html
    assert ">set<" not in html and ">active<" not in html


def test_products_list_fits_ranges_and_percentages(client, officer):
    ProductFactory(code="cash12", min_rate=D("0.05"), max_rate=D("0.24"))
    client.force_login(officer)
    page = client.get(reverse("admin:lending_loanproduct_changelist"))
    html = html_of(page)
    assert "5.00 % – 24.00 %" in html and "100 – 200,000" in html
    assert len(page.context["result_headers"]) <= 8


def test_the_borrower_page_in_chinese_and_for_a_collector(client, officer, django_user_model):
    person = borrower()
    client.force_login(officer)
    page = client.get(
        reverse("admin:lending_borrower_change", args=[person.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    labels = [str(x.label) for x in page.context["related_links"]]
    assert labels == ["授信额度", "风险档案", "贷款申请"]
    # A collector sees nothing of risk: no limit, profile, applications or door to apply.
    client.force_login(user_in(COLLECTOR, "collector", django_user_model))
    page = client.get(reverse("admin:lending_borrower_change", args=[person.pk]))
    assert page.context["related_links"] == []
    assert 'id="new-application"' not in html_of(page)
