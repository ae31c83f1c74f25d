"""Importing repayments (bank statements) and a loan book (migration), through the services."""

from datetime import date
from decimal import Decimal

import pytest

from lending import roles
from lending.access import SYSTEM
from lending.errors import LendingError, LendingErrorCode
from lending.models import AuditEvent, Loan, LoanStatus, Transaction, TransactionKind
from lending.models.loans import LoanOrigin
from lending.services.loans import loan_book_approved
from lending.services.reconcile import reconcile_loans
from tests.factories import BorrowerFactory, ProductFactory
from tests.imports.helpers import fates, run
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

REPAY = ["贷款编号", "还款金额", "还款日期", "渠道", "流水号"]


@pytest.fixture
def cashier(finance_user):
    return finance_user


@pytest.fixture
def admin_user(role_user):
    return role_user(roles.ADMINISTRATOR)


def repayments(loan):
    return Transaction.objects.filter(loan=loan, kind=TransactionKind.REPAYMENT)


def test_repayments_are_posted_with_their_value_date_and_key(cashier):
    loan = active_loan()
    data = [REPAY, [loan.reference, "¥916.80", "2026年2月15日", "bank", "TX001"]]
    record, result = run("repayments", data, cashier)
    assert fates(result) == [(2, "new")]
    [txn] = repayments(loan)
    assert (txn.amount, txn.value_date, txn.idempotency_key) == (
        Decimal("916.80"),
        date(2026, 2, 15),
        "TX001",
    )
    assert txn.posted_by == cashier and record.written


def test_overlapping_statements_are_duplicates_in_the_file_and_across_imports(cashier):
    loan = active_loan()
    first = [REPAY, [loan.reference, "916.80", "2026-02-15", "bank", "TX001"]]
    run("repayments", first, cashier)
    second = [
        REPAY,
        [loan.reference, "916.80", "2026/02/15", "bank", "TX001"],  # an earlier import
        [loan.reference, "500", "2026-03-15", "bank", "TX002"],
        [loan.reference, "500.00", "20260315", "bank", "TX002"],  # earlier in this file
    ]
    record, result = run("repayments", second, cashier)
    assert fates(result) == [(2, "duplicate"), (3, "new"), (4, "duplicate")]
    assert repayments(loan).count() == 2 and record.written
    assert (record.new, record.duplicates) == (1, 2)


def test_the_same_id_with_another_amount_loan_or_date_is_an_error_naming_the_conflict(cashier):
    loan, other = active_loan(), active_loan()
    run("repayments", [REPAY, [loan.reference, "916.80", "2026-02-15", "", "TX001"]], cashier)
    data = [
        REPAY,
        [loan.reference, "900.00", "2026-02-15", "", "TX001"],  # another amount
        [other.reference, "916.80", "2026-02-15", "", "TX001"],  # another loan
        [loan.reference, "916.80", "2026-02-16", "", "TX001"],  # another date
        [loan.reference, "100", "2026-03-01", "", "TX009"],
        [loan.reference, "200", "2026-03-01", "", "TX009"],  # in-file: another amount
    ]
    _, result = run("repayments", data, cashier, valid_rows_only=True)
    assert fates(result) == [(2, "error"), (3, "error"), (4, "error"), (5, "new"), (6, "error")]
    e = result.results
    assert (
        e[0].column == "流水号" and "916.80" in e[0].message and e[0].code == "idempotency_conflict"
    )
    assert loan.reference in e[1].message
    assert "2026-02-15" in e[2].message
    assert "row 5" in e[4].message and "还款金额" in e[4].message
    assert repayments(loan).count() == 2 and repayments(other).count() == 0


def test_a_repayment_by_national_id_finds_the_borrower_s_one_active_loan(cashier):
    loan = active_loan()
    header = ["身份证号", "还款金额", "还款日期", "流水号"]
    _, result = run(
        "repayments", [header, [loan.borrower.national_id, "100", "2026-02-01", "A1"]], cashier
    )
    assert fates(result) == [(2, "new")] and repayments(loan).count() == 1
    active_loan(borrower=loan.borrower)
    _, result = run(
        "repayments", [header, [loan.borrower.national_id, "100", "2026-02-02", "A2"]], cashier
    )
    assert "2 active loans" in result.errors[0].message


def test_service_refusals_are_row_errors_in_the_services_words(cashier):
    loan = active_loan()
    data = [
        REPAY,
        [loan.reference, "-5", "2026-02-15", "", "N1"],
        [loan.reference, "10.001", "2026-02-15", "", "N2"],
        [loan.reference, "10", "2099-01-01", "", "N3"],
        ["LN99999999", "10", "2026-02-15", "", "N4"],
        [loan.reference, "10", "2025-01-01", "", "N5"],
        [loan.reference, "abc", "2026-02-15", "", "N6"],
    ]
    _, result = run("repayments", data, cashier)
    assert [r.column for r in result.errors] == [
        "还款金额",
        "还款金额",
        "还款日期",
        "贷款编号",
        "还款日期",
        "还款金额",
    ]
    assert result.errors[2].message == "is in the future"
    assert "before the loan was disbursed" in result.errors[4].message
    assert result.errors[5].message.startswith("expected an amount")
    assert not result.written and repayments(loan).count() == 0


# -- loans ------------------------------------------------------------------------------------

LOAN_HEADER = [
    "贷款编号",
    "身份证号",
    "产品代码",
    "本金",
    "年利率",
    "期数",
    "放款日期",
    "首次还款日",
    "已还金额",
]


@pytest.fixture
def book():
    product = ProductFactory(code="consumer12")
    return product, BorrowerFactory(), BorrowerFactory()


def test_a_book_migration_keeps_references_posts_what_was_repaid_and_reconciles(admin_user, book):
    _product, a, b = book
    data = [
        LOAN_HEADER,
        [
            "OLD-0001",
            a.national_id,
            "consumer12",
            "10,000.00",
            "18%",
            "12期",
            "2026-01-15",
            "",
            "2,000",
        ],
        [
            "OLD-0002",
            b.national_id,
            "consumer12",
            "5000",
            "0.12",
            "6",
            "2026/03/01",
            "2026-04-10",
            "0",
        ],
        ["OLD-0003", a.national_id, "consumer12", "3000", "0.1", "3", "2026-01-10", "", "3,100"],
    ]
    _record, result = run("loans", data, admin_user)
    assert fates(result) == [(2, "new"), (3, "new"), (4, "new")], result.errors
    one = Loan.objects.get(reference="OLD-0001")
    assert (one.origin, one.status, one.annual_rate, one.start_date) == (
        LoanOrigin.MIGRATED,
        LoanStatus.ACTIVE,
        Decimal("0.180000"),
        date(2026, 1, 15),
    )
    assert one.installments.count() == 12
    [paid] = repayments(one)
    assert paid.amount == Decimal("2000.00") and paid.channel == "migration"
    # the waterfall: interest then principal of the oldest installments first
    assert one.installments.get(seq=1).outstanding == 0
    assert Loan.objects.get(reference="OLD-0002").first_due_date == date(2026, 4, 10)
    assert not repayments(Loan.objects.get(reference="OLD-0002")).exists()
    assert Loan.objects.get(reference="OLD-0003").status == LoanStatus.CLOSED
    assert AuditEvent.objects.filter(action="loan.create", actor=admin_user).count() == 3
    assert reconcile_loans(acting_user=SYSTEM).clean
    # and again: nothing new
    _, again = run("loans", data, admin_user)
    assert fates(again) == [(2, "skip"), (3, "skip"), (4, "skip")]
    assert (
        Loan.objects.count() == 3
        and Transaction.objects.filter(kind=TransactionKind.REPAYMENT).count() == 2
    )


def test_migration_refusals_name_the_column(admin_user, book):
    _product, a, _b = book
    data = [
        LOAN_HEADER,
        ["LN00000042", a.national_id, "consumer12", "1000", "0.1", "3", "2026-01-10", "", ""],
        ["OLD-1", a.national_id, "nope", "1000", "0.1", "3", "2026-01-10", "", ""],
        ["OLD-2", a.national_id, "consumer12", "1000", "0.5", "3", "2026-01-10", "", ""],
        ["OLD-3", a.national_id, "consumer12", "1000", "0.1", "3", "2027-01-10", "", ""],
        ["OLD-4", "110101199003070015", "consumer12", "1000", "0.1", "3", "2026-01-10", "", ""],
        ["OLD-5", a.national_id, "consumer12", "1000", "0.1", "3", "2026-01-10", "", "-1"],
    ]
    _, result = run("loans", data, admin_user)
    assert [r.column for r in result.errors] == [
        "贷款编号",
        "产品代码",
        "年利率",
        "放款日期",
        "身份证号",
        "已还金额",
    ]
    assert Loan.objects.count() == 0


@pytest.mark.parametrize("role", [r for r in roles.ROLES if r != roles.ADMINISTRATOR])
def test_only_administrators_migrate_loans(role_user, book, role):
    _product, a, _b = book
    user = role_user(role)
    data = [
        LOAN_HEADER,
        ["OLD-1", a.national_id, "consumer12", "1000", "0.1", "3", "2026-01-10", "", ""],
    ]
    with pytest.raises(LendingError) as refused:
        run("loans", data, user)
    assert refused.value.code == LendingErrorCode.PERMISSION_DENIED
    assert Loan.objects.count() == 0


def test_the_service_keeps_a_given_reference_only_for_migrated_loans(book):
    product, a, _b = book
    terms = dict(
        borrower=a,
        product=product,
        principal="1000",
        annual_rate="0.1",
        term_months=3,
        acting_user=SYSTEM,
    )
    with pytest.raises(LendingError) as refused:
        loan_book_approved(reference="X-1", **terms)
    assert refused.value.field == "reference"
    loan = loan_book_approved(reference="X-1", origin=LoanOrigin.MIGRATED, **terms)
    assert loan.reference == "X-1"
    with pytest.raises(LendingError) as refused:
        loan_book_approved(reference="X-1", origin=LoanOrigin.MIGRATED, **terms)
    assert refused.value.code == LendingErrorCode.DUPLICATE
    assert loan_book_approved(origin=LoanOrigin.MIGRATED, **terms).reference.startswith("LN")
