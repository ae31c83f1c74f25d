"""An object's title (its change page's heading and breadcrumb, an inline row's caption) shows
money, rates and dates as the rest of the screen does (lending.formatting), never the stored
12000.00 or 2026-10-16, and costs no query."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from debt_collection.models import ContactAttempt, PromiseToPay, Reminder
from lending.models import (
    AuditEvent,
    Borrower,
    BucketChange,
    BusinessDayRun,
    Installment,
    LprRate,
    Transaction,
)
from risk.models import CreditLimit, CreditLimitChange, LimitIncreaseProposal, LoanApplication

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = Decimal
OCT_16 = date(2026, 10, 16)
# 18:30 UTC is the next morning in Shanghai: a title in UTC would name the wrong day.
EVENING_UTC = datetime(2026, 10, 16, 18, 30, tzinfo=ZoneInfo("UTC"))
PERSON = Borrower(full_name="张三", national_id="110101199003070000")


@pytest.mark.parametrize(
    ("obj", "title"),
    [
        (
            Transaction(kind="repayment", amount=D("12000.00"), value_date=OCT_16),
            "Repayment of 12,000.00 on Oct. 16, 2026",
        ),
        (Installment(seq=3, due_date=OCT_16), "installment 3 due Oct. 16, 2026"),
        (BusinessDayRun(business_date=OCT_16, status="done"), "Oct. 16, 2026 (Done)"),
        (
            BucketChange(business_date=OCT_16, from_bucket="M1", to_bucket="M2"),
            "Oct. 16, 2026: M1→M2",
        ),
        (LprRate(effective_date=OCT_16, one_year_rate=D("0.0345")), "Oct. 16, 2026: 3.45 %"),
        (
            PromiseToPay(amount=D("1500.00"), promised_for=OCT_16),
            "1,500.00 by Oct. 16, 2026",
        ),
        (
            Reminder(kind="before_due", due_date=OCT_16),
            "3 days before the due date (Oct. 16, 2026)",
        ),
        (
            LoanApplication(pk=7, borrower=PERSON, amount=D("15000.00")),
            "application 7: 张三 (110101********0000), 15,000.00",
        ),
        (
            CreditLimit(borrower=PERSON, amount=D("28000.00"), status="frozen"),
            "张三 (110101********0000): 28,000.00 (Frozen)",
        ),
        (
            CreditLimitChange(
                credit_limit_id=4, kind="cut", from_amount=D("10000"), to_amount=D("5000")
            ),
            "4 cut 10,000.00→5,000.00",
        ),
        (
            LimitIncreaseProposal(
                current_amount=D("110700.00"), proposed_amount=D("132800.00"), status="proposed"
            ),
            "110,700.00→132,800.00 (Awaiting approval)",
        ),
        (
            ContactAttempt(channel="call", contacted_at=EVENING_UTC),
            "Call Oct. 17, 2026, 2:30 a.m.",
        ),
        (
            AuditEvent(
                occurred_at=EVENING_UTC,
                action="loan.approve",
                object_type="lending.loan",
                object_id="28",
            ),
            "Oct. 17, 2026, 2:30 a.m. · Loan approved · Loan #28",
        ),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, str) else "",
)
def test_a_title_formats_its_figures(obj, title, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    with translation.override("en"):
        assert str(obj) == title


def test_a_title_follows_the_language():
    event = AuditEvent(
        occurred_at=EVENING_UTC, action="loan.approve", object_type="lending.loan", object_id="28"
    )
    with translation.override("zh-hans"):
        assert str(event).endswith(" · 贷款已批准 · 贷款 #28")
        assert str(BusinessDayRun(business_date=OCT_16, status="done")) == "2026年10月16日 (已完成)"
        assert str(LprRate(effective_date=OCT_16, one_year_rate=D("0.0345"))).endswith("3.45%")


@pytest.mark.django_db
def test_a_saved_row_s_title_reads_nothing_more(django_assert_num_queries):
    from tests.lending.loan_helpers import active_loan

    loan = active_loan(start=date(2026, 9, 15))
    installment = Installment.objects.filter(loan=loan).first()
    transaction = Transaction.objects.filter(loan=loan).first()
    with django_assert_num_queries(0):
        assert "Sept. 15, 2026" in str(transaction)  # the disbursement, on the start date
        assert "Oct. 15, 2026" in str(installment)
