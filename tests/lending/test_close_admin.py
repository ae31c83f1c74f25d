"""The close of business in the admin: runs, retry of a failed date, stuck runs, buckets, LPR."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from lending import formatting
from lending.access import SYSTEM
from lending.close_of_business import registry
from lending.close_of_business.runner import close_business_days
from lending.models import BusinessDayRun, DelinquencyBucket, LprRate, Transaction
from lending.services.repayments import repayment_post
from tests.conftest import celery_configured
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    client.force_login(user)
    return client


@pytest.fixture
def eager_celery():
    """Tasks run inline (the chord included) with an in-memory result store."""
    with celery_configured(task_always_eager=True, result_backend="cache+memory://"):
        yield


@pytest.fixture
def broken_step():
    calls = {"fail": True}

    def step(*, business_date, loan_ids):
        if calls["fail"]:
            raise RuntimeError("collections service unreachable")
        return {"checked": len(loan_ids)}

    registry.register_step("test_broken", step, position=999)
    yield calls
    registry._steps.pop("test_broken", None)


def test_run_list_shows_the_night_in_figures(admin_client):
    active_loan(start=date(2026, 9, 15))
    close_business_days(until=date(2026, 10, 16), acting_user=SYSTEM)
    page = admin_client.get(reverse("admin:lending_businessdayrun_changelist"))
    html = page.content.decode()
    assert "Oct. 16, 2026" in html and "1/1 chunk" in html  # date and chunk progress
    run = BusinessDayRun.objects.get()
    # The figures in a few words per cell (the list fits 1440 px, tests/browser/test_widths.py).
    assert f"{run.loans_newly_overdue} newly overdue" in html and run.loans_newly_overdue == 1
    assert f"{run.loans_examined} examined" in html and f"{run.bucket_moves} changed bucket" in html
    assert run.accrual_total > 0 and formatting.money(run.accrual_total) in html
    assert "1 accrual" in html and "1 attempt" not in html  # said once a night is retried
    detail = admin_client.get(reverse("admin:lending_businessdayrun_change", args=[run.pk]))
    assert "flag_overdue" in detail.content.decode()
    assert "accrue_penalty" in detail.content.decode()


def test_retry_of_a_failed_date_from_the_admin_finishes_it_once(
    admin_client, eager_celery, broken_step, django_capture_on_commit_callbacks
):
    loan = active_loan(start=date(2026, 9, 15))
    [run] = close_business_days(until=date(2026, 10, 16), acting_user=SYSTEM)
    assert run.status == "failed"
    assert run.failed_loan_ids == [loan.pk]
    assert not Transaction.objects.filter(kind="penalty_accrual").exists()

    broken_step["fail"] = False
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:lending_businessdayrun_changelist"),
            {"action": "retry_failed", "_selected_action": [run.pk]},
        )
    run.refresh_from_db()
    assert run.status == "done" and run.attempts == 2
    assert Transaction.objects.filter(kind="penalty_accrual", loan=loan).count() == 1
    runs = admin_client.get(reverse("admin:lending_businessdayrun_changelist")).content.decode()
    assert "2 attempts" in runs  # a retried night shows so on the list


def test_a_stuck_run_can_be_marked_failed_then_retried(admin_client):
    run = BusinessDayRun.objects.create(
        business_date=date(2026, 10, 16), started_at="2026-10-17T00:30Z"
    )
    admin_client.post(
        reverse("admin:lending_businessdayrun_changelist"),
        {"action": "abandon_running", "_selected_action": [run.pk]},
    )
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error.startswith("abandoned: marked failed in the admin by boss")


def test_bucket_table_edits_that_break_it_are_refused_with_the_reason(admin_client):
    m1 = DelinquencyBucket.objects.get(code="M1")
    page = admin_client.post(
        reverse("admin:lending_delinquencybucket_change", args=[m1.pk]),
        {"code": "M1", "min_dpd": "1", "max_dpd": "20"},
    )
    assert page.status_code == 200
    assert "M2 (from 31) leaves a gap after M1" in str(page.context["adminform"].form.errors)
    m1.refresh_from_db()
    assert m1.max_dpd == 30


def test_deleting_a_bucket_that_would_leave_a_gap_is_refused(admin_client):
    m2 = DelinquencyBucket.objects.get(code="M2")
    page = admin_client.post(
        reverse("admin:lending_delinquencybucket_delete", args=[m2.pk]),
        {"post": "yes"},
        follow=True,
    )
    assert "Not deleted: M3 (from 61) leaves a gap after M1" in page.content.decode()
    assert DelinquencyBucket.objects.filter(code="M2").exists()

    # No bulk delete: it would skip the check's message and report success.
    changelist = admin_client.get(reverse("admin:lending_delinquencybucket_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    assert DelinquencyBucket.objects.count() == 8


def test_a_bucket_table_broken_outside_the_admin_stops_the_night_with_the_reason():
    loan = active_loan(start=date(2026, 9, 15))
    close_business_days(until=date(2026, 10, 16), acting_user=SYSTEM)
    DelinquencyBucket.objects.filter(code="M1").update(max_dpd=5)  # 6..30 dpd in no bucket

    runs = close_business_days(until=date(2026, 10, 21), acting_user=SYSTEM)

    assert runs[-1].status == "failed"
    assert "M2 (from 31) leaves a gap after M1" in runs[-1].error
    loan.refresh_from_db()
    assert loan.dpd == 1  # as the last good night left it, not silently advanced or dropped

    # The borrower's money is still taken: the payment keeps the bucket it cannot recompute.
    posted = repayment_post(
        loan_id=loan.pk, amount="100.00", value_date=date(2026, 10, 17), acting_user=SYSTEM
    )
    assert posted.transaction.amount == Decimal("100.00")
    loan.refresh_from_db()
    assert (loan.dpd, loan.bucket) == (1, "M1")


def test_operators_add_a_new_lpr_in_the_admin(admin_client):
    admin_client.post(
        reverse("admin:lending_lprrate_add"),
        {
            "effective_date": "2026-06-22",
            "one_year_rate": "0.029",
            "five_year_rate": "0.034",
            "note": "published LPR",
        },
    )
    assert LprRate.objects.order_by("-effective_date").first().one_year_rate == Decimal("0.029")


def test_loan_list_filters_overdue_loans(admin_client):
    late = active_loan(start=date(2026, 9, 15))
    close_business_days(until=date(2026, 10, 16), acting_user=SYSTEM)
    page = admin_client.get(reverse("admin:lending_loan_changelist"), {"delinquency": "overdue"})
    assert list(page.context["cl"].result_list) == [late]
    assert (
        not admin_client.get(reverse("admin:lending_loan_changelist"), {"delinquency": "npl"})
        .context["cl"]
        .result_list
    )
