"""The credit officer's day, as far as the pages go today: register a borrower and their risk
profile, quote the loan; the application (submitted through the service until the quote page
can apply with its terms) is referred, another officer reviews and approves it, which books the
loan; finance disburses it and its schedule is fixed.

Each step is one function taking the page of the user who does it, so a step the pages gain
(apply from the quote, a new application from the borrower, a confirmation before approving)
replaces or extends one function."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from lending import roles
from lending.identity import generate_national_id
from lending.models import Borrower, Loan, LoanStatus
from risk.models import ApplicationStatus, LoanApplication
from risk.services.underwriting import application_submit
from tests.browser.world import cash_loan

pytestmark = pytest.mark.xdist_group("browser")

NATIONAL_ID = generate_national_id(date_of_birth=date(1991, 4, 2), sex="F", sequence=7)


def success(page) -> str:
    return page.locator("ul.messagelist li.success").inner_text()


def register_borrower(page) -> Borrower:
    page.goto("/admin/lending/borrower/")
    page.click("a.addlink")
    page.fill("#id_full_name", "王芳")
    page.fill("#id_national_id", NATIONAL_ID)
    page.fill("#id_mobile", "13912345678")
    page.fill("#id_employer", "深圳市某科技有限公司")
    page.fill("#id_monthly_income", "15000")
    page.select_option("#id_kyc_status", "verified")
    page.click("input[name=_save]")
    assert "王芳" in success(page)
    borrower = Borrower.objects.get(full_name="王芳")
    assert borrower.date_of_birth == date(1991, 4, 2)  # read from the national ID
    return borrower


def record_risk_profile(page, borrower) -> None:
    """Income as declared, the bureau not yet asked: the policy will refer the application."""
    page.goto("/admin/risk/riskprofile/add/")
    page.fill("#id_borrower", str(borrower.pk))
    page.select_option("#id_income_source", "declared")
    page.select_option("#id_employment_type", "salaried")
    page.fill("#id_employment_months", "30")
    page.fill("#id_existing_monthly_debt", "0")
    page.click("input[name=_save]")
    assert success(page)


def quote(page, product) -> list[Decimal]:
    """The quote page's schedule: each instalment's total."""
    page.goto("/admin/lending/loanproduct/")
    page.click("text=Quote a loan")
    page.select_option("#id_product", str(product.pk))
    page.fill("#id_amount", "6000")
    page.fill("#id_rate", "0.18")
    page.fill("#id_term", "6")
    page.click("input[type=submit]")
    rows = page.locator("#quote-schedule tbody tr")
    assert rows.count() == 6
    assert page.locator("#quote-apr").inner_text().startswith("18.")
    totals = rows.locator("td:nth-child(6)").all_inner_texts()
    return [Decimal(total.replace(",", "").lstrip("¥")) for total in totals]


def apply(officer, borrower, product) -> LoanApplication:
    """Not a page yet: the same service the admin's 'apply with these terms' will call."""
    return application_submit(
        borrower_id=borrower.pk,
        product=product,
        amount=Decimal("6000.00"),
        term_months=6,
        annual_rate=Decimal("0.18"),
        acting_user=officer,
    )


def approve(page, application) -> Loan:
    """The second officer finds the referral in the queue and approves it with a note."""
    page.goto("/admin/risk/loanapplication/")
    row = page.locator("#result_list tbody tr", has_text="王芳")
    row.get_by_role("link", name="Review").click()
    assert page.locator("#decision-outcome").inner_text() == "Refer to a credit officer"
    page.fill("#id_note", "Payslips seen at the branch")
    page.click("button[value=approve]")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert f"Application {application.pk} approved" in success(page)
    return application.loan


def disburse(page, loan) -> None:
    page.goto("/admin/lending/loan/")
    page.locator("#result_list tbody tr", has_text="王芳").locator("th a").click()
    page.click("text=Disburse")
    page.click("input[type=submit]")
    assert "disbursed" in success(page)


def test_an_officer_s_borrower_becomes_a_disbursed_loan(staff, login):
    product = cash_loan()
    officer = staff(roles.CREDIT_OFFICER, "officer")
    reviewer = staff(roles.CREDIT_OFFICER, "reviewer")
    cashier = staff(roles.FINANCE, "cashier")

    page = login(officer)
    borrower = register_borrower(page)
    record_risk_profile(page, borrower)
    quoted = quote(page, product)

    application = apply(officer, borrower, product)
    assert application.status == ApplicationStatus.REFERRED
    # Four eyes: the submitter's own approval is refused and changes nothing.
    page.goto(f"/admin/risk/loanapplication/{application.pk}/review/")
    page.fill("#id_note", "My own")
    page.click("button[value=approve]")
    assert "submitted this application" in page.locator("#content").inner_text()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REFERRED and application.loan is None

    loan = approve(login(reviewer), application)
    assert loan.status == LoanStatus.APPROVED and loan.principal == Decimal("6000.00")

    disburse(login(cashier), loan)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert loan.start_date == timezone.localdate()
    # What the officer quoted is what the borrower now owes, instalment by instalment (both
    # start today).
    owed = [i.principal_due + i.interest_due + i.fee_due for i in loan.installments.all()]
    assert owed == quoted
