"""Handing cases to an outside agency by spreadsheet: through the manager's reassignment."""

import pytest

from debt_collection.models import CaseAssignment, Queue
from lending import roles
from lending.errors import LendingError, LendingErrorCode
from tests.collections.helpers import open_case, overdue_loans
from tests.imports.helpers import fates, run

pytestmark = pytest.mark.django_db

HEADER = ["案件编号", "委外机构", "催收员", "原因"]


@pytest.fixture
def agency(role_user):
    queue = Queue.objects.get(name="Outside agency")
    first, second = (
        role_user(roles.COLLECTOR, username="agency-a"),
        role_user(roles.COLLECTOR, username="agency-b"),
    )
    queue.members.add(first, second)
    return queue


@pytest.fixture
def manager(role_user):
    return role_user(roles.COLLECTIONS_MANAGER)


def test_cases_go_to_the_agency_recorded_and_a_second_file_changes_nothing(agency, manager):
    a, b = (open_case(loan) for loan in overdue_loans(2))
    data = [
        HEADER,
        [str(a.pk), "Outside agency", "agency-b", "60 days, no contact"],
        [b.loan.reference, "Outside agency", "", ""],
        [str(a.pk), "Outside agency", "agency-b", "the same line again"],
    ]
    record, result = run("agency_cases", data, manager)
    assert record.written
    assert fates(result) == [(2, "update"), (3, "update"), (4, "duplicate")]
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.queue, a.collector.username) == (agency, "agency-b")
    assert b.queue == agency and b.collector.username == "agency-a"  # the least loaded
    handed = CaseAssignment.objects.filter(queue=agency).order_by("case_id")
    assert [(h.case_id, h.reason) for h in handed] == [
        (a.pk, "60 days, no contact"),
        (b.pk, "handed to Outside agency by import"),
    ]
    _, again = run("agency_cases", data, manager)
    assert fates(again) == [(2, "skip"), (3, "skip"), (4, "duplicate")]
    assert CaseAssignment.objects.filter(queue=agency).count() == 2


def test_an_unknown_agency_an_in_house_queue_or_a_stranger_is_an_error_on_its_column(
    agency, manager
):
    case, other = (open_case(loan) for loan in overdue_loans(2))
    data = [
        HEADER,
        [str(case.pk), "No such agency", "", ""],
        [str(case.pk + 1000), "Outside agency", "", ""],
        [other.loan.reference, "M1 early reminders", "", ""],
        [str(other.pk), "Outside agency", "manager", ""],
    ]
    record, result = run("agency_cases", data, manager)
    assert not record.written
    assert [(r.row, r.column) for r in result.errors] == [
        (2, "委外机构"),
        (3, "案件编号"),
        (4, "委外机构"),
        (5, "催收员"),
    ]
    assert "not an active member" in result.errors[3].message
    case.refresh_from_db(), other.refresh_from_db()
    assert agency not in (case.queue, other.queue)
    assert not CaseAssignment.objects.filter(queue=agency).exists()


@pytest.mark.parametrize(
    "role",
    [roles.COLLECTOR, roles.FINANCE, roles.AUDITOR, roles.CREDIT_OFFICER, roles.RISK_ANALYST],
)
def test_only_who_may_reassign_cases_hands_them_to_an_agency(agency, role_user, role):
    (case,) = (open_case(loan) for loan in overdue_loans(1))
    with pytest.raises(LendingError) as refused:
        run("agency_cases", [HEADER, [str(case.pk), "Outside agency", "", ""]], role_user(role))
    assert refused.value.code == LendingErrorCode.PERMISSION_DENIED
    case.refresh_from_db()
    assert case.queue != agency
