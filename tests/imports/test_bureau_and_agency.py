"""Importing bureau data (risk profiles) and an agency's results (through the compliance guard)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from debt_collection.errors import CollectionsErrorCode
from debt_collection.models import ContactAttempt, PromiseToPay
from lending import roles
from lending.models import EmergencyContact
from risk.models import RiskProfile
from tests.collections.helpers import assigned_case
from tests.factories import BorrowerFactory
from tests.imports.helpers import fates, run

pytestmark = pytest.mark.django_db

BUREAU = ["身份证号", "征信分", "近6月查询次数", "逾期次数", "查询日期"]


@pytest.fixture
def officer(role_user):
    return role_user(roles.CREDIT_OFFICER)


def test_bureau_rows_create_update_or_skip_risk_profiles(officer):
    a, b = BorrowerFactory(), BorrowerFactory()
    data = [
        BUREAU,
        [a.national_id, "720", "2", "0", "2026-10-01"],
        [b.national_id, "650", "5次", "1", "2026年10月1日"],
    ]
    record, result = run("bureau", data, officer)
    assert fates(result) == [(2, "new"), (3, "new")] and record.written
    profile = RiskProfile.objects.get(borrower=a)
    assert (profile.bureau_score, profile.bureau_inquiries_6m, profile.bureau_reported_on) == (
        720,
        2,
        date(2026, 10, 1),
    )
    _, again = run("bureau", data, officer)
    assert fates(again) == [(2, "skip"), (3, "skip")]
    newer = [
        BUREAU,
        [a.national_id, "700", "3", "0", "2026-11-01"],
        [b.national_id, "600", "1", "0", "2026-09-01"],
    ]
    _, result = run("bureau", newer, officer)
    assert fates(result) == [(2, "update"), (3, "skip")]
    assert "older than the report on file" in result.results[1].message
    assert RiskProfile.objects.get(borrower=b).bureau_score == 650


def test_bureau_errors_name_the_column(officer):
    a = BorrowerFactory()
    data = [
        BUREAU,
        [a.national_id, "-5", "", "", "2026-10-01"],
        [a.national_id[:-1] + "0", "1", "", "", "x"],
    ]
    _, result = run("bureau", data, officer, valid_rows_only=True)
    assert next((r.row, r.column) for r in result.errors) == (2, "征信分")
    assert result.errors[1].column in ("身份证号", "查询日期")
    assert not RiskProfile.objects.exists()


@pytest.mark.parametrize(
    "role", [roles.COLLECTOR, roles.FINANCE, roles.AUDITOR, roles.RISK_ANALYST]
)
def test_who_may_not_import_bureau_data(role_user, role):
    from lending.errors import LendingError, LendingErrorCode

    a = BorrowerFactory()
    with pytest.raises(LendingError) as refused:
        run("bureau", [BUREAU, [a.national_id, "700", "", "", "2026-10-01"]], role_user(role))
    assert refused.value.code == LendingErrorCode.PERMISSION_DENIED


# -- agency results -----------------------------------------------------------------------------

AGENCY = [
    "案件编号",
    "联系时间",
    "渠道",
    "联系对象",
    "是否接通",
    "结果",
    "承诺金额",
    "承诺日期",
    "联系人手机号",
]


@pytest.fixture
def collector(role_user):
    return role_user(roles.COLLECTOR)


@pytest.fixture
def case(collector):
    return assigned_case(collector)


def test_agency_contacts_go_through_the_guard_and_promises_are_recorded(case, collector):
    soon = timezone.localdate() + timedelta(days=5)
    data = [
        AGENCY,
        [
            str(case.pk),
            "2026-11-02 10:30",
            "电话",
            "本人",
            "是",
            "承诺还款",
            "1,000",
            soon.isoformat(),
            "",
        ],
        [case.loan.reference, "2026-11-02 23:30", "电话", "本人", "否", "无人接听", "", "", ""],
        [str(case.pk), "2026-11-03 09:00", "短信", "借款人", "否", "no_answer", "", "", ""],
    ]
    _record, result = run("agency_results", data, collector, valid_rows_only=True)
    assert fates(result) == [(2, "new"), (3, "error"), (4, "new")]
    refusal = result.results[1]
    assert (
        refusal.code == CollectionsErrorCode.CONTACT_OUTSIDE_HOURS
        and "Contact hours" in refusal.message
    )
    assert refusal.column == "联系时间"
    attempt = ContactAttempt.objects.get(channel="call")
    assert attempt.contacted_at.hour == 2  # 10:30 in Shanghai is 02:30 UTC
    promise = PromiseToPay.objects.get()
    assert (promise.amount, promise.promised_for, promise.contact) == (
        Decimal("1000.00"),
        soon,
        attempt,
    )
    # the agency's next report overlaps: nothing twice
    _, again = run("agency_results", data[:2], collector)
    assert fates(again) == [(2, "duplicate")]
    assert ContactAttempt.objects.count() == 2 and PromiseToPay.objects.count() == 1


def test_an_emergency_contact_is_found_by_mobile_and_the_guard_judges_it(case, collector):
    EmergencyContact.objects.create(
        borrower=case.borrower, name="李四", relation="spouse", phone="13900139000"
    )
    data = [
        AGENCY,
        [
            str(case.pk),
            "2026-11-02 10:30",
            "call",
            "紧急联系人",
            "否",
            "no_answer",
            "",
            "",
            "13900139000",
        ],
    ]
    _, result = run("agency_results", data, collector)
    # emergency contacts only after the borrower could not be reached: the guard's refusal
    assert result.errors[0].code == CollectionsErrorCode.CONTACT_EMERGENCY_TOO_EARLY
    assert result.errors[0].column == "联系人手机号"
    assert not ContactAttempt.objects.exists()


def test_another_collector_s_case_is_not_found(case, role_user):
    other = role_user(roles.COLLECTOR, username="other-collector")
    data = [
        AGENCY,
        [str(case.pk), "2026-11-02 10:30", "call", "borrower", "no", "no_answer", "", "", ""],
    ]
    _, result = run("agency_results", data, other)
    assert result.errors[0].column == "案件编号" and result.errors[0].code == "not_found"
