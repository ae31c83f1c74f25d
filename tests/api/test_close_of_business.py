"""Close-of-business runs through the API: read by whoever reads runs, started only by an
administrator, one date at a time in order."""

from datetime import date

import pytest

from lending import roles
from lending.access import SYSTEM
from lending.close_of_business.runner import close_business_days
from lending.models import BusinessDayRun
from tests.api.conftest import API, assert_problem
from tests.conftest import celery_configured
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db
RUNS = API + "close-of-business/runs/"


@pytest.fixture
def eager_celery():
    with celery_configured(task_always_eager=True, result_backend="cache+memory://"):
        yield


def test_runs_list_and_detail_with_steps_and_chunks(finance):
    active_loan(start=date(2026, 9, 15))
    close_business_days(until=date(2026, 10, 16), acting_user=SYSTEM)
    listed = finance.get(RUNS).json()["results"]
    assert listed[0]["business_date"] == "2026-10-16"
    detail = finance.get(RUNS + "2026-10-16/").json()
    assert detail["status"] == "done"
    assert {step["name"] for step in detail["steps"]} >= {"flag_overdue", "accrue_penalty"}
    assert detail["chunks"][0]["loans"] == 1
    assert_problem(finance.get(RUNS + "2026-13-01/"), 404, "not_found")
    assert_problem(finance.get(RUNS + "2020-01-01/"), 404, "not_found")


def test_an_administrator_closes_the_next_date(
    administrator, eager_celery, django_capture_on_commit_callbacks
):
    active_loan(start=date(2026, 9, 15))
    close_business_days(until=date(2026, 10, 16), acting_user=SYSTEM)
    with django_capture_on_commit_callbacks(execute=True):
        response = administrator.post(RUNS, {"business_date": "2026-10-17"}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["business_date"] == "2026-10-17"
    assert BusinessDayRun.objects.get(business_date=date(2026, 10, 17)).status == "done"

    again = administrator.post(RUNS, {"business_date": "2026-10-17"}, format="json")
    assert_problem(again, 409, "out_of_order", "business_date")
    skip = administrator.post(RUNS, {"business_date": "2026-10-20"}, format="json")
    assert_problem(skip, 409, "out_of_order", "business_date")
    assert_problem(
        administrator.post(RUNS, {"business_date": "3000-01-01"}, format="json"),
        400,
        "out_of_range",
        "business_date",
    )


@pytest.mark.parametrize("role", [r for r in roles.ROLES if r != roles.ADMINISTRATOR])
def test_only_administrators_start_a_close(client_for, role):
    client = client_for(role)
    response = client.post(RUNS, {"business_date": "2026-10-17"}, format="json")
    assert response.status_code == 403
    assert not BusinessDayRun.objects.exists()
