"""The credit officer's day through the pages' own doors: register a borrower, record the risk
profile (borrower picked by typing a name), and from the borrower's page quote a loan, apply
with the quoted terms and submit the application; the policy refers it. The submitter's own
approval is refused (four eyes); another officer reviews it, confirms the approval and follows
the message's link to the booked loan; finance disburses it and the schedule owed is the quoted
one. Application, loan and borrower link to one another.

Each step is one function taking the page of the user who does it."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from lending import roles
from lending.identity import generate_national_id
from lending.models import Borrower, Loan, LoanStatus
from risk.models import ApplicationStatus, LoanApplication
from tests.browser.widgets import pick, picked
from tests.browser.world import applicant, cash_loan

pytestmark = pytest.mark.xdist_group("browser")

NATIONAL_ID = generate_national_id(date_of_birth=date(1991, 4, 2), sex="F", sequence=7)


def message(page, level="success") -> str:
    return page.locator(f"ul.messagelist li.{level}").inner_text()


def register_borrower(page) -> Borrower:
    """Saved and kept open: the borrower's page is where the officer goes on from."""
    page.goto("/admin/lending/borrower/")
    page.click("a.addlink")
    page.fill("#id_full_name", "王芳")
    page.fill("#id_national_id", NATIONAL_ID)
    page.fill("#id_mobile", "13912345678")
    page.fill("#id_employer", "深圳市某科技有限公司")
    page.fill("#id_monthly_income", "15000")
    page.select_option("#id_kyc_status", "verified")
    page.click("input[name=_continue]")
    assert "王芳" in message(page)
    borrower = Borrower.objects.get(full_name="王芳")
    assert borrower.date_of_birth == date(1991, 4, 2)  # read from the national ID
    return borrower


def record_risk_profile(page, borrower) -> None:
    """Income as declared, the bureau not yet asked: the policy will refer the application.
    The borrower is found among others by typing the name."""
    page.goto("/admin/risk/riskprofile/add/")
    pick(page, "#id_borrower", "王芳")
    page.select_option("#id_income_source", "declared")
    page.select_option("#id_employment_type", "salaried")
    page.fill("#id_employment_months", "30")
    page.fill("#id_existing_monthly_debt", "0")
    page.click("input[name=_save]")
    assert message(page)
    page.goto(f"/admin/lending/borrower/{borrower.pk}/change/")
    related = page.locator("#related-links")
    assert "Declared" in related.locator("tr", has_text="Risk profile").inner_text()


def quote(page, product) -> list[Decimal]:
    """From the borrower's page: the quote's schedule, each instalment's total."""
    page.click("#quote-for-borrower")
    page.select_option("#id_product", str(product.pk))
    page.fill("#id_amount", "6000")
    page.fill("#id_rate", "0.18")
    page.fill("#id_term", "6")
    page.click("#content-main input[type=submit]")
    rows = page.locator("#quote-schedule tbody tr")
    assert rows.count() == 6
    assert page.locator("#quote-apr").inner_text().startswith("18.")
    totals = rows.locator("td:nth-child(6)").all_inner_texts()
    return [Decimal(total.replace(",", "").lstrip("¥")) for total in totals]


def apply(page, product) -> LoanApplication:
    """'Apply with these terms': the application form comes filled in, borrower included."""
    page.click("#apply-with-terms")
    assert "王芳" in picked(page, "#id_borrower")
    assert page.input_value("#id_product") == str(product.pk)
    assert Decimal(page.input_value("#id_amount")) == Decimal("6000")
    assert page.input_value("#id_term_months") == "6"
    assert Decimal(page.input_value("#id_annual_rate")) == Decimal("0.18")
    page.fill("#id_purpose", "装修")
    page.click("#application-form input[type=submit]")
    application = LoanApplication.objects.get(borrower__full_name="王芳")
    assert f"Application {application.pk} is awaiting review" in message(page, "info")
    # Taken to the decision: referred, with its reasons, nothing booked yet.
    assert page.locator("#decision-outcome").inner_text() == "Refer to a credit officer"
    assert page.locator("#application-borrower").inner_text().startswith("王芳")
    assert page.locator("#application-loan").count() == 0
    assert application.status == ApplicationStatus.REFERRED and application.purpose == "装修"
    return application


def review(page, note: str) -> None:
    """Approve with a note, then confirm on the page that shows what will be booked."""
    page.fill("#id_note", note)
    page.click("button[value=approve]")
    summary = page.locator("#approve-summary").inner_text()
    assert "王芳" in summary and "6" in summary
    page.click("#content-main input[type=submit]")


def approve(page, application) -> Loan:
    """The second officer finds the referral in the queue, approves it and follows the
    message's link to the loan."""
    page.goto("/admin/risk/loanapplication/")
    row = page.locator("#result_list tbody tr", has_text="王芳")
    row.get_by_role("link", name="Review").click()
    assert page.locator("#decision-outcome").inner_text() == "Refer to a credit officer"
    review(page, "Payslips seen at the branch")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert f"Application {application.pk} approved" in message(page)
    page.locator("ul.messagelist").get_by_role("link", name="Open the loan").click()
    assert page.url.endswith(f"/admin/lending/loan/{application.loan_id}/change/")
    return application.loan


def follow_the_links(page, application, loan, borrower) -> None:
    """Loan → its application → back to the loan, and → the borrower, whose page counts it."""
    link = page.locator("#related-links tr", has_text="Loan application").locator("a")
    assert f"application {application.pk}" in link.inner_text()
    link.click()
    assert page.locator("#application-status").inner_text() == "Approved"
    assert page.locator("#application-loan").inner_text() == str(loan)
    page.click("#application-loan")
    page.locator(".field-borrower a").click()
    assert page.url.endswith(f"/admin/lending/borrower/{borrower.pk}/change/")
    applications = page.locator("#related-links tr", has_text="Loan applications")
    assert applications.locator("td").inner_text() == "1"
    assert loan.reference in page.locator("#content-main").inner_text()  # the loans inline


def disburse(page, loan) -> None:
    page.goto("/admin/lending/loan/")
    page.locator("#result_list tbody tr", has_text="王芳").locator("th a").click()
    page.click("text=Disburse")
    page.click("#content-main input[type=submit]")
    assert "disbursed" in message(page)


def test_an_officer_s_borrower_becomes_a_disbursed_loan(staff, login):
    product = cash_loan()
    applicant()  # someone else on the book: the picker has to find the right one
    officer = staff(roles.CREDIT_OFFICER, "officer")
    reviewer = staff(roles.CREDIT_OFFICER, "reviewer")
    cashier = staff(roles.FINANCE, "cashier")

    page = login(officer)
    borrower = register_borrower(page)
    record_risk_profile(page, borrower)
    quoted = quote(page, product)
    application = apply(page, product)

    # Four eyes: the submitter's review page says another officer reviews it and offers no
    # approval (a forged one is refused by the service: tests/risk/test_application_admin.py).
    assert "another credit officer reviews it" in page.locator("#content").inner_text()
    assert page.locator("button[value=approve]").count() == 0
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REFERRED and application.loan is None

    reviewing = login(reviewer)
    loan = approve(reviewing, application)
    assert loan.status == LoanStatus.APPROVED and loan.principal == Decimal("6000.00")
    assert loan.borrower == borrower
    follow_the_links(reviewing, application, loan, borrower)

    disburse(login(cashier), loan)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert loan.start_date == timezone.localdate()
    # What the officer quoted is what the borrower now owes, instalment by instalment (both
    # start today).
    owed = [i.principal_due + i.interest_due + i.fee_due for i in loan.installments.all()]
    assert owed == quoted
