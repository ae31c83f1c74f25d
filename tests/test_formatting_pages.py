"""The admin pages people read figures on show them as finance staff write them, in English and
Chinese: amounts grouped with two places (12,345.60, ¥5,000.00), rates as percentages (18.00 %,
Chinese 18.00%), penalty rates and caps in words. The stored figures are unchanged."""

from decimal import Decimal

import pytest
from django.urls import reverse

from lending import roles
from risk.models import CreditLimit, IncomeSource
from risk.services.underwriting import application_submit
from tests.factories import BorrowerFactory, ProductFactory
from tests.lending.loan_helpers import active_loan
from tests.risk.test_application_admin import borrower as borrower_with_profile

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def html(client, url, **headers) -> str:
    page = client.get(url, **headers)
    assert page.status_code == 200
    return page.content.decode()


@pytest.fixture
def finance(client, role_user):
    client.force_login(role_user(roles.FINANCE))
    return client


@pytest.fixture
def loan():
    return active_loan(principal="12345.60", rate="0.18")


def test_the_loan_page_groups_amounts_and_shows_the_rate_as_a_percentage(finance, loan):
    page = html(finance, reverse("admin:lending_loan_change", args=[loan.pk]))
    assert "12,345.60" in page and ">12345.60<" not in page
    assert "18.00 %" in page and "0.180000" not in page
    # The penalty rate is a multiple of the contract rate on this product: said so, not 150 %.
    assert "1.5 × the contract rate" in page
    assert "24.00 %" in page  # the fixed cost cap
    # The schedule's installment totals are grouped too (12 installments of about 1,130).
    first = loan.installments.order_by("seq").first()
    assert f"{first.total_due:,}" in page and f">{first.total_due}<" not in page


def test_the_loan_page_in_chinese_writes_the_percentage_without_a_space(finance, loan):
    page = html(finance, reverse("admin:lending_loan_change", args=[loan.pk]), **ZH)
    assert "12,345.60" in page
    assert "18.00%" in page and "18.00 %" not in page


def test_the_loan_list_and_the_payoff_quote_group_amounts(finance, loan):
    listed = html(finance, reverse("admin:lending_loan_changelist"))
    assert "12,345.60" in listed
    payoff = html(finance, reverse("admin:lending_loan_repay", args=[loan.pk]))
    assert 'id="payoff-amount">¥' in payoff
    assert "12345.60" not in payoff


def test_the_product_list_shows_rate_ranges_and_the_apr_ceiling_as_percentages(finance):
    ProductFactory(code="phone", min_rate=Decimal("0.05"), max_rate=Decimal("0.24"))
    english = html(finance, reverse("admin:lending_loanproduct_changelist"))
    assert "5.00 % – 24.00 %" in english and "0.240000" not in english
    chinese = html(finance, reverse("admin:lending_loanproduct_changelist"), **ZH)
    assert "5.00% – 24.00%" in chinese


def test_a_product_read_without_change_rights_shows_percentages(client, role_user):
    product = ProductFactory(
        code="phone",
        max_rate=Decimal("0.24"),
        fee_type="percent",
        fee_value=Decimal("0.02"),
        max_amount=Decimal("200000.00"),
    )
    client.force_login(role_user(roles.CREDIT_OFFICER))  # may view products, not change them
    page = html(client, reverse("admin:lending_loanproduct_change", args=[product.pk]))
    assert "24.00 %" in page and "0.240000" not in page
    assert "2.00 %" in page  # the percent fee
    assert "200,000.00" in page
    assert "penalty → fee → interest → principal" in page  # the allocation order in words


def test_an_application_page_shows_its_amount_with_the_currency_and_its_rate(client, role_user):
    officer = role_user(roles.CREDIT_OFFICER)
    application = application_submit(
        borrower_id=borrower_with_profile(income_source=IncomeSource.DECLARED).pk,
        product=ProductFactory(max_rate=Decimal("0.18")),
        amount=Decimal("5000.00"),
        term_months=6,
        acting_user=officer,
    )
    client.force_login(role_user(roles.AUDITOR))
    review = reverse("admin:risk_loanapplication_review", args=[application.pk])
    english = html(client, review)
    assert "¥5,000.00" in english and "18.00 %" in english and "0.180000" not in english
    assert "¥5,000.00" in html(client, review, **ZH) and "18.00%" in html(client, review, **ZH)
    listed = html(client, reverse("admin:risk_loanapplication_changelist") + "?queue=all")
    assert "5,000.00" in listed
    record = html(client, reverse("admin:risk_loanapplication_change", args=[application.pk]))
    assert "5,000.00" in record and "18.00 %" in record


def test_borrowers_and_limits_group_their_amounts(client, role_user):
    person = BorrowerFactory(monthly_income=Decimal("18000.00"))
    limit = CreditLimit.objects.create(borrower=person, amount=Decimal("30000.00"))
    client.force_login(role_user(roles.AUDITOR))
    assert "18,000.00" in html(client, reverse("admin:lending_borrower_changelist"))
    # The auditor reads the borrower's page without inputs: the income formatted there too.
    assert "18,000.00" in html(client, reverse("admin:lending_borrower_change", args=[person.pk]))
    assert "30,000.00" in html(client, reverse("admin:risk_creditlimit_changelist"))
    assert "30,000.00" in html(client, reverse("admin:risk_creditlimit_change", args=[limit.pk]))


def test_the_quote_and_repayment_forms_are_labelled_in_chinese(finance, loan):
    quote = html(finance, reverse("admin:lending_loanproduct_quote"), **ZH)
    repay = html(finance, reverse("admin:lending_loan_repay", args=[loan.pk]), **ZH)
    for english in ("Product:", "Amount:", "Start date:", "First due date:"):
        assert english not in quote
    for english in ("Amount:", "Value date:", "External reference:", "Channel:", "Note:"):
        assert english not in repay
