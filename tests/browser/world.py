"""A small book for the browser tests, built through the services like the rest of the suite:
enough rows that every main list page has something in each column, far less than the demo."""

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from debt_collection.models import Case, Queue
from debt_collection.services.cases import case_reassign
from imports.services import import_file
from lending import roles
from lending.access import SYSTEM
from lending.identity import generate_national_id
from lending.models import LoanProduct
from risk.models import IncomeSource, LoanApplication
from risk.services.underwriting import application_submit
from tests.collections.helpers import overdue_loans
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory
from tests.imports.helpers import csv_bytes

_people = itertools.count(1)


def applicant(**profile):
    """A borrower of 36 whom the default policy approves, unless `profile` says otherwise."""
    born = date(1990, 6, 15)
    national_id = generate_national_id(
        date_of_birth=born, sex="F", region_code="440301", sequence=next(_people) % 100
    )
    person = BorrowerFactory(national_id=national_id, date_of_birth=born, sex="F")
    RiskProfileFactory(borrower=person, **profile)
    return person


def cash_loan() -> LoanProduct:
    # Named in Chinese as the demo's products are: data, not an untranslated label.
    return ProductFactory(code="cash-loan", name="现金贷", max_rate=Decimal("0.18"))


@dataclass
class Book:
    product: LoanProduct
    officer: object
    collector: object
    collector2: object
    mine: Case  # the collector's case
    theirs: Case  # collector2's
    referred: LoanApplication
    approved: LoanApplication


def small_book(staff) -> Book:
    """Two overdue loans with their cases (one per collector) after a close of business, one
    referred and one approved application with their decisions, one import dry run."""
    product = cash_loan()
    officer = staff(roles.CREDIT_OFFICER, "officer")
    collector = staff(roles.COLLECTOR, "collector")
    collector2 = staff(roles.COLLECTOR, "collector2")
    Queue.objects.get(name="M1 early reminders").members.add(collector, collector2)
    overdue_loans(2, product=product)
    mine, theirs = Case.objects.select_related("borrower").order_by("pk")
    for case, who in ((mine, collector), (theirs, collector2)):
        case_reassign(case_ids=[case.pk], collector_id=who.pk, reason="t", acting_user=SYSTEM)
    referred = application_submit(
        borrower_id=applicant(income_source=IncomeSource.DECLARED, bureau_score=None).pk,
        product=product,
        amount=Decimal("5000.00"),
        term_months=6,
        acting_user=officer,
    )
    approved = application_submit(
        borrower_id=applicant().pk,
        product=product,
        amount=Decimal("3000.00"),
        term_months=6,
        acting_user=officer,
    )
    import_file(
        kind="borrowers",
        file_name="borrowers.csv",
        data=csv_bytes([["姓名", "身份证号", "手机号"], ["张三", "110101199003070000", "1380"]]),
        acting_user=officer,
        dry_run=True,
    )
    return Book(product, officer, collector, collector2, mine, theirs, referred, approved)


def main_pages(book: Book, staff) -> dict:
    """The main pages: each role's home and the pages of its day (docs/roles.md), as that role
    sees them — {user: [(name, url)]}."""
    manager = staff(roles.COLLECTIONS_MANAGER, "manager")
    cashier = staff(roles.FINANCE, "cashier")
    analyst = staff(roles.RISK_ANALYST, "analyst")
    auditor = staff(roles.AUDITOR, "auditor")
    administrator = staff(roles.ADMINISTRATOR, "administrator")
    mine, referred, approved = book.mine, book.referred, book.approved
    quote = (
        f"/admin/lending/loanproduct/quote/?product={book.product.pk}&amount=5000&rate=0.18"
        "&term=6&start_date=2026-12-01"
    )
    return {
        book.officer: [
            ("home", "/admin/"),
            ("borrowers", "/admin/lending/borrower/"),
            ("borrower", f"/admin/lending/borrower/{mine.borrower_id}/change/"),
            ("loans", "/admin/lending/loan/"),
            ("loan", f"/admin/lending/loan/{mine.loan_id}/change/"),
            ("products", "/admin/lending/loanproduct/"),
            ("quote", quote),
            ("new risk profile", "/admin/risk/riskprofile/add/"),
            (
                "new application",
                f"/admin/risk/loanapplication/add/?borrower={mine.borrower_id}"
                f"&product={book.product.pk}&amount=5000&term_months=6&annual_rate=0.18",
            ),
            ("applications", "/admin/risk/loanapplication/"),
            ("review", f"/admin/risk/loanapplication/{referred.pk}/review/"),
            ("approved", f"/admin/risk/loanapplication/{approved.pk}/review/"),
            ("decisions", "/admin/risk/decision/"),
            ("decision", f"/admin/risk/decision/{referred.decision_id}/change/"),
            ("limits", "/admin/risk/creditlimit/"),
            ("imports", "/admin/imports/importrecord/"),
            ("import start", "/admin/imports/importrecord/start/"),
        ],
        book.collector: [
            ("home", "/admin/"),
            ("work list", "/admin/collections/case/"),
            ("case", f"/admin/collections/case/{mine.pk}/change/"),
            ("log a contact", f"/admin/collections/case/{mine.pk}/contact/"),
            ("work list by borrower", "/admin/collections/casebyborrower/"),
        ],
        manager: [
            ("home", "/admin/"),
            ("dashboard", "/admin/portfolio/dashboard/"),
            ("cases", "/admin/collections/case/"),
            ("KPIs", "/admin/collections/collectionskpi/"),
        ],
        cashier: [
            ("home", "/admin/"),
            ("nights", "/admin/lending/businessdayrun/"),
            ("loans", "/admin/lending/loan/"),
        ],
        analyst: [("home", "/admin/"), ("policies", "/admin/risk/creditpolicy/")],
        auditor: [("home", "/admin/"), ("audit events", "/admin/lending/auditevent/")],
        administrator: [
            ("home", "/admin/"),
            ("nights", "/admin/lending/businessdayrun/"),
            ("run a night", "/admin/lending/businessdayrun/run-night/"),
        ],
    }
