"""An administrator runs a night from the close-of-business runs list: the form offers the next
date to close, refuses one that has not ended on its field and starts nothing, then runs the
date it offered; the run's page names its steps and counts in words. Finance reads the runs but
has no button; a collections manager does not see the runs at all.

The workers are Celery's eager mode here: the admin queues the night as it does for real
workers (lending.tasks.queue_run), and the tasks run at once in the server's thread."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lending import roles
from lending.models import BusinessDayRun, RunStatus
from tests.conftest import celery_configured
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture
def eager_celery():
    with celery_configured(task_always_eager=True, result_backend="cache+memory://"):
        yield


def field_error(page) -> str:
    return (
        page.locator(".form-row", has=page.locator("#id_business_date"))
        .locator(".errorlist")
        .inner_text()
    )


def test_an_administrator_runs_a_night_from_the_runs_list(staff, login, eager_celery):
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    active_loan(start=today - timedelta(days=45))  # its first instalment is overdue
    page = login(staff(roles.ADMINISTRATOR, "administrator"))

    page.goto("/admin/lending/businessdayrun/")
    page.click("text=Run a night")
    assert "No night has been closed yet" in page.locator("#content-main").inner_text()
    assert page.input_value("#id_business_date") == yesterday.isoformat()  # the next to close

    page.fill("#id_business_date", (today + timedelta(days=1)).isoformat())
    page.click("#content-main input[type=submit]")
    assert "has not ended yet" in field_error(page)
    assert not BusinessDayRun.objects.exists()

    page.fill("#id_business_date", yesterday.isoformat())
    page.click("#content-main input[type=submit]")
    run = BusinessDayRun.objects.get()
    assert page.url.endswith(f"/admin/lending/businessdayrun/{run.pk}/change/")
    assert (
        "has started: 1 chunk queued for the workers" in page.locator("ul.messagelist").inner_text()
    )
    assert run.business_date == yesterday and run.status == RunStatus.DONE
    steps = page.locator("#content-main").inner_text()
    for words in ("Flag overdue loans", "Open and close collection cases", "Portfolio snapshot"):
        assert words in steps
    assert "loans newly overdue" in steps and "flag_overdue" not in steps

    # The date is closed now: offered again, it is refused with a link to its run.
    page.goto("/admin/lending/businessdayrun/run-night/")
    page.fill("#id_business_date", yesterday.isoformat())
    page.click("#content-main input[type=submit]")
    assert "is already closed; nothing was started." in field_error(page)
    assert BusinessDayRun.objects.count() == 1


def test_only_administrators_see_the_run_a_night_button(staff, login):
    cashier = login(staff(roles.FINANCE, "cashier"))
    cashier.goto("/admin/lending/businessdayrun/")
    assert cashier.locator("#content h1").is_visible()
    assert cashier.get_by_role("link", name="Run a night").count() == 0
    assert cashier.goto("/admin/lending/businessdayrun/run-night/").status == 403
    manager = login(staff(roles.COLLECTIONS_MANAGER, "manager"))
    assert manager.goto("/admin/lending/businessdayrun/").status == 403
