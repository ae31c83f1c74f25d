"""Running a night from the runs list: administrators only, the runner's date rules with the
field named, a link to the run; the run page shows its steps and counts in words."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from lending import roles
from lending.access import SYSTEM
from lending.close_of_business.runner import close_business_days
from lending.models import BusinessDayRun, RunStatus, Transaction
from tests.conftest import celery_configured
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

RUN_NIGHT = reverse("admin:lending_businessdayrun_run_night")
RUNS = reverse("admin:lending_businessdayrun_changelist")


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def eager_celery():
    with celery_configured(task_always_eager=True, result_backend="cache+memory://"):
        yield


@pytest.fixture
def administrator(client, role_user):
    client.force_login(role_user(roles.ADMINISTRATOR))
    return client


def test_administrator_runs_the_next_night_and_is_taken_to_its_run(
    administrator, eager_celery, django_capture_on_commit_callbacks
):
    loan = active_loan(start=days_ago(60))
    close_business_days(until=days_ago(10), acting_user=SYSTEM)
    form = administrator.get(RUN_NIGHT)
    assert form.context["form"].initial["business_date"] == days_ago(9)  # the next unclosed

    with django_capture_on_commit_callbacks(execute=True):
        page = administrator.post(RUN_NIGHT, {"business_date": days_ago(9).isoformat()})
    run = BusinessDayRun.objects.get(business_date=days_ago(9))
    assert page.status_code == 302
    assert page.url == reverse("admin:lending_businessdayrun_change", args=[run.pk])
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.started_by.username == "administrator"
    assert Transaction.objects.filter(
        kind="penalty_accrual", loan=loan, value_date=days_ago(9)
    ).exists()
    shown = administrator.get(page.url).content.decode()
    assert "has started: 1 chunk queued for the workers" in shown


@pytest.mark.parametrize(
    ("business_date", "said"),
    [
        ("", "This field is required."),
        (lambda: timezone.localdate().isoformat(), "has not ended yet"),
        (lambda: (timezone.localdate() + timedelta(days=3)).isoformat(), "has not ended yet"),
        (lambda: days_ago(10).isoformat(), "is already closed; nothing was started."),
        (lambda: days_ago(20).isoformat(), "is before the last closed date"),
        (lambda: days_ago(5).isoformat(), "dates close in order, one at a time"),
        ("1850-01-01", "outside the dates the book works with"),
        ("16/16/2026", "Enter a valid date."),
    ],
)
def test_bad_dates_are_refused_on_the_field_and_start_nothing(administrator, business_date, said):
    active_loan(start=days_ago(60))
    close_business_days(until=days_ago(10), acting_user=SYSTEM)
    value = business_date() if callable(business_date) else business_date
    page = administrator.post(RUN_NIGHT, {"business_date": value})
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert list(errors) == ["business_date"]
    assert said in str(errors["business_date"])
    assert BusinessDayRun.objects.count() == 1


def test_an_already_closed_date_links_to_its_run(administrator):
    [run] = close_business_days(until=days_ago(3), acting_user=SYSTEM)
    page = administrator.post(RUN_NIGHT, {"business_date": days_ago(3).isoformat()})
    link = reverse("admin:lending_businessdayrun_change", args=[run.pk])
    assert f'href="{link}"' in page.content.decode()


@pytest.mark.parametrize(
    "role", [r for r in roles.ROLES if r != roles.ADMINISTRATOR], ids=lambda r: r.replace(" ", "-")
)
def test_every_other_role_forging_the_post_is_refused(client, role_user, role):
    client.force_login(role_user(role))
    page = client.post(RUN_NIGHT, {"business_date": days_ago(1).isoformat()})
    assert page.status_code == 403
    assert not BusinessDayRun.objects.exists()
    runs = client.get(RUNS)
    assert "Run a night" not in runs.content.decode()


def test_the_runs_list_offers_the_button_to_administrators(administrator):
    assert "Run a night" in administrator.get(RUNS).content.decode()


def test_the_run_page_names_steps_and_counts_in_words(administrator):
    active_loan(start=days_ago(60))
    [run] = close_business_days(until=days_ago(3), acting_user=SYSTEM)
    html = administrator.get(
        reverse("admin:lending_businessdayrun_change", args=[run.pk])
    ).content.decode()
    assert "Flag overdue loans" in html and "Accrue penalty interest" in html
    assert "loans examined" in html and "penalty accrued" in html
    # The inline rows' titles (str of the row) are hidden by the page's style: not read.
    shown = re.sub(r'<td class="original">.*?</td>', "", html, flags=re.S)
    assert "flag_overdue" not in shown, shown[shown.index("flag_overdue") - 300 :][:400]
    assert "&quot;loans_examined&quot;" not in shown  # no raw JSON


def test_the_run_page_in_chinese_uses_chinese_date_and_money(administrator):
    active_loan(start=days_ago(60))
    [run] = close_business_days(until=days_ago(3), acting_user=SYSTEM)
    html = administrator.get(
        reverse("admin:lending_businessdayrun_change", args=[run.pk]),
        headers={"accept-language": "zh-hans"},
    ).content.decode()
    d = days_ago(3)
    assert f"{d.year}年{d.month}月{d.day}日" in html


def test_a_broker_that_cannot_be_reached_is_said_not_a_server_error(
    administrator, monkeypatch, django_capture_on_commit_callbacks
):
    from lending.admin import close_of_business

    def down(run, *, until):
        raise ConnectionRefusedError("broker")

    monkeypatch.setattr(close_of_business, "queue_run", down)
    with django_capture_on_commit_callbacks(execute=True):
        page = administrator.post(
            RUN_NIGHT, {"business_date": days_ago(1).isoformat()}, follow=True
        )
    assert page.status_code == 200
    html = page.content.decode()
    assert "was opened but not handed to the workers (ConnectionRefusedError)" in html
    assert "has started" not in html
    assert BusinessDayRun.objects.get().status == RunStatus.RUNNING  # to be marked failed, retried
