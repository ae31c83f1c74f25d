import logging
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.access import Perm, may
from lending.admin.columns import money_column, note
from lending.admin.filters import BucketFilter
from lending.admin.paging import BigListMixin
from lending.admin.read_only import ReadOnlyAdmin
from lending.close_of_business.exports import RunExport, RunStepExport
from lending.close_of_business.runner import (
    AlreadyClosed,
    business_day_abandon,
    business_day_begin,
    last_closed_date,
)
from lending.delinquency import Bucket, bucket_table_errors
from lending.errors import LendingError
from lending.exports import ExportSelectedMixin
from lending.models import (
    BucketChange,
    BusinessDayChunk,
    BusinessDayRun,
    BusinessDayStep,
    DelinquencyBucket,
    LprRate,
    RunStatus,
)
from lending.tasks import close_business_days_task, queue_run

logger = logging.getLogger(__name__)

# The nightly steps and their counts in words; the codes stay in the data, exports and API.
# Steps of other apps are named here too (lending imports nothing of theirs: these are words).
STEP_LABELS = {
    "apply_credit": _("Apply credit balances"),
    "flag_overdue": _("Flag overdue loans"),
    "accrue_penalty": _("Accrue penalty interest"),
    "collection_cases": _("Open and close collection cases"),
    "promise_check": _("Check promises to pay"),
    "reminder_write": _("Write reminders"),
    "settlement_check": _("Check settlement agreements"),
    "write_off_proposals": _("Propose write-offs"),
    "roll_counts": _("Count roll rates"),
    "limit_review": _("Review credit limits"),
    "portfolio_snapshot": _("Portfolio snapshot"),
    "demo_history": _("Demo history (written by load_demo, not run)"),
}
COUNT_LABELS = {
    "credit_applications": _("credit balances applied"),
    "credit_applied": _("credit applied"),
    "loans_examined": _("loans examined"),
    "loans_newly_overdue": _("loans newly overdue"),
    "loans_cured": _("loans cured"),
    "installments_newly_overdue": _("installments newly overdue"),
    "bucket_moves": _("bucket moves"),
    "accruals_posted": _("accruals posted"),
    "accrual_total": _("penalty accrued"),
    "loans_capped": _("loans at the cost cap"),
    "cases_opened": _("cases opened"),
    "cases_closed": _("cases closed"),
    "cases_rescored": _("cases re-prioritised"),
    "cases_assigned": _("cases assigned"),
    "promises_kept": _("promises kept"),
    "promises_broken": _("promises broken"),
    "reminders_written": _("reminders written"),
    "settlements_settled": _("settlements settled"),
    "settlements_lapsed": _("settlements lapsed"),
    "settlements_waiting": _("settlements waiting"),
    "write_off_proposals": _("write-offs proposed"),
    "roll_counts": _("roll counts stored"),
    "limits_reviewed": _("limits reviewed"),
    "limits_frozen": _("limits frozen"),
    "limits_cut": _("limits cut"),
    "limits_restored": _("limits restored"),
    "increases_proposed": _("increases proposed"),
    "proposals_withdrawn": _("proposals withdrawn"),
    "snapshot_active_loans": _("active loans in the snapshot"),
    "snapshot_overdue_loans": _("overdue loans in the snapshot"),
    "snapshot_vintage_cells": _("vintage cells in the snapshot"),
    "written_by_load_demo": _("written by load_demo"),
}


def _words(code: str, labels: dict) -> str:
    """A code's label; an unknown code (a step added later) as words rather than snake_case."""
    return str(labels.get(code, code.replace("_", " ")))


def counts_table(counts: dict):
    """A step's counts as a small two-column table: money (stored as "0.00" text) formatted
    as money, whole numbers grouped."""
    if not counts:
        return "-"
    rows = format_html_join(
        "",
        '<tr><td>{}</td><td style="text-align:right">{}</td></tr>',
        (
            (
                _words(key, COUNT_LABELS),
                formatting.money(value) if isinstance(value, str) else formatting.count(value),
            )
            for key, value in counts.items()
        ),
    )
    return format_html('<table class="step-counts">{}</table>', rows)


class StepInline(admin.TabularInline):
    model = BusinessDayStep
    fields = ("position", "step", "status", "figures", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("step"), ordering="name")
    def step(self, obj):
        return _words(obj.name, STEP_LABELS)

    @admin.display(description=_("counts"))
    def figures(self, obj):
        return counts_table(obj.counts)


class ChunkInline(StepInline):
    model = BusinessDayChunk
    fields = ("number", "status", "attempts", "loan_count", "seconds", "error")
    readonly_fields = fields

    @admin.display(description=_("loans"))
    def loan_count(self, obj):
        return formatting.count(len(obj.loan_ids))


class RunNightForm(forms.Form):
    business_date = forms.DateField(
        label=_("business date"),
        # The browser's date picker, in the reader's language; the value is ISO either way.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def next_unclosed_date():
    """The date after the last closed one; yesterday on a book that never closed a night."""
    last = last_closed_date()
    return last + timedelta(days=1) if last else timezone.localdate() - timedelta(days=1)


def figures(parts) -> str:
    """A night's figures as brief words ("2 newly overdue · 0 cured"), each kept whole."""
    return format_html_join(" · ", '<span class="nowrap">{}</span>', ((p,) for p in parts))


@admin.register(BusinessDayRun)
class BusinessDayRunAdmin(ExportSelectedMixin, admin.ModelAdmin):
    # A night per row in a few cells of words, so the list fits 1440 px with the sidebar open
    # (tests/browser/test_widths.py); each figure, the seconds too, is on the run's page.
    list_display = ("business_date", "status_and_progress", "loans", "penalty")
    list_filter = ("status",)
    date_hierarchy = "business_date"
    inlines = [StepInline, ChunkInline]
    actions = ["retry_failed", "abandon_running"]
    export_kinds = (RunExport, RunStepExport)
    fields = readonly_fields = [
        money_column(BusinessDayRun.accrual_total) if f.name == "accrual_total" else f.name
        for f in BusinessDayRun._meta.fields
        if f.name != "id"
    ]

    @admin.display(description=_("status"), ordering="status")
    def status_and_progress(self, obj):
        progress = [
            ngettext("%(done)s/%(total)s chunk", "%(done)s/%(total)s chunks", obj.chunks_total)
            % {
                "done": formatting.count(obj.chunks_done),
                "total": formatting.count(obj.chunks_total),
            }
        ]
        if obj.attempts > 1:  # a retried night: worth seeing without opening it
            progress.append(
                ngettext("%(count)s attempt", "%(count)s attempts", obj.attempts)
                % {"count": formatting.count(obj.attempts)}
            )
        return format_html("{}{}", obj.get_status_display(), note(figures(progress)))

    @admin.display(description=_("loans"), ordering="loans_newly_overdue")
    def loans(self, obj):
        return figures(
            text % {"count": formatting.count(value)}
            for text, value in (
                (gettext("%(count)s examined"), obj.loans_examined),
                (gettext("%(count)s newly overdue"), obj.loans_newly_overdue),
                (gettext("%(count)s cured"), obj.loans_cured),
                (gettext("%(count)s changed bucket"), obj.bucket_moves),
            )
        )

    @admin.display(description=_("penalty"), ordering="accrual_total")
    def penalty(self, obj):
        parts = (
            ngettext("%(count)s accrual", "%(count)s accruals", obj.accruals_posted)
            % {"count": formatting.count(obj.accruals_posted)},
            gettext("%(count)s at the cost cap") % {"count": formatting.count(obj.loans_capped)},
        )
        return format_html("{}{}", formatting.money(obj.accrual_total), note(figures(parts)))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_run_permission(self, request) -> bool:
        return may(request.user, Perm.RUN_CLOSE_OF_BUSINESS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Around import_export's list (its Export button), which keeps object tools to those
        # who may add: the "Run a night" button is for those who may run.
        self.change_list_template = "admin/lending/businessdayrun/change_list.html"

    def get_urls(self):
        run_night = self.admin_site.admin_view(self.run_night_view)
        return [
            path("run-night/", run_night, name="lending_businessdayrun_run_night"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_run": self.has_run_permission(request)}
        return super().changelist_view(request, extra_context)

    def run_night_view(self, request):
        """Start one night's close as the user: the runner decides which dates may close
        (in order, ended, not already closed) and names the field when it refuses."""
        if not self.has_run_permission(request):
            raise PermissionDenied
        form = RunNightForm(request.POST or None, initial={"business_date": next_unclosed_date()})
        if request.method == "POST" and form.is_valid():
            run = self._begin(request, form)
            if run is not None:
                return redirect(reverse("admin:lending_businessdayrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Run a night"),
            "form": form,
            "last_closed": last_closed_date(),
            # Nothing to run until midnight: said up front rather than as a refusal.
            "all_closed": next_unclosed_date() >= timezone.localdate(),
        }
        return TemplateResponse(request, "admin/lending/businessdayrun/run_night.html", context)

    def _queue(self, request, run):
        date_text = formatting.local_date(run.business_date)
        try:
            queue_run(run, until=run.business_date)
        except Exception as exc:  # the broker is down: say so, the run is left to retry
            logger.exception("close of %s not queued", run.business_date)
            messages.error(
                request,
                gettext(
                    "The night of %(date)s was opened but not handed to the workers (%(error)s). "
                    "Once they are reachable, mark it failed and retry it."
                )
                % {"date": date_text, "error": type(exc).__name__},
            )
            return
        messages.success(
            request,
            ngettext(
                "The night of %(date)s has started: %(chunks)s chunk queued for the workers.",
                "The night of %(date)s has started: %(chunks)s chunks queued for the workers.",
                run.chunks_total,
            )
            % {"date": date_text, "chunks": run.chunks_total},
        )

    def _begin(self, request, form):
        business_date = form.cleaned_data["business_date"]
        try:
            run = business_day_begin(business_date=business_date, acting_user=request.user)
        except AlreadyClosed as exc:
            link = reverse("admin:lending_businessdayrun_change", args=[exc.run.pk])
            form.add_error(
                "business_date",
                format_html(
                    '{} <a href="{}">{}</a>',
                    gettext("%(date)s is already closed; nothing was started.")
                    % {"date": formatting.local_date(business_date)},
                    link,
                    gettext("Open its run"),
                ),
            )
            return None
        except LendingError as exc:
            form.add_error("business_date" if exc.field == "business_date" else None, exc.message)
            return None
        # business_day_begin has committed (this view holds no transaction of its own), so the
        # workers see the run and its chunks; queued here, a broker that is down can be said.
        self._queue(request, run)
        return run

    @admin.action(description=_("Retry the selected failed dates"), permissions=["run"])
    def retry_failed(self, request, queryset):
        for run in queryset:
            if run.status != RunStatus.FAILED:
                messages.error(request, _("%s is not failed; only failed dates are retried.") % run)
                continue
            date_text = run.business_date.isoformat()
            # Queued after commit: the worker retries only the chunks that did not finish.
            transaction.on_commit(
                lambda d=date_text: close_business_days_task.delay(d, request.user.pk)
            )
            messages.success(request, _("Retry of %s queued for the workers.") % date_text)

    @admin.action(
        description=_("Mark selected stuck runs as failed (their worker died)"),
        permissions=["run"],
    )
    def abandon_running(self, request, queryset):
        for run in queryset:
            try:
                business_day_abandon(
                    run_id=run.pk,
                    reason=f"marked failed in the admin by {request.user}",
                    acting_user=request.user,
                )
            except LendingError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("%s marked failed; it can be retried.") % run)


@admin.register(BucketChange)
class BucketChangeAdmin(BigListMixin, ReadOnlyAdmin):
    list_display = ("business_date", "loan", "from_bucket", "to_bucket", "dpd", "overdue_amount")
    # A date filter, not date_hierarchy: that reads MIN/MAX and every distinct date of the table.
    list_filter = (
        "business_date",
        ("to_bucket", BucketFilter),
        ("from_bucket", BucketFilter),
    )
    search_fields = ("loan__reference",)
    list_select_related = ("loan",)


@admin.register(DelinquencyBucket)
class DelinquencyBucketAdmin(admin.ModelAdmin):
    list_display = ("code", "min_dpd", "max_dpd")

    def _left_unusable(self, request, deleted_pks) -> bool:
        """Refuse a delete that would leave dpd values in no bucket (saves are checked by the
        model's clean)."""
        remaining = DelinquencyBucket.objects.exclude(pk__in=deleted_pks)
        errors = (
            bucket_table_errors([Bucket(b.code, b.min_dpd, b.max_dpd) for b in remaining])
            if remaining.exists()
            else []
        )
        for error in errors:
            messages.error(request, _("Not deleted: %s") % error)
        return bool(errors)

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST" and not self.has_delete_permission(request):
            raise PermissionDenied  # before the table check: it must not answer a forged POST
        if request.method == "POST" and self._left_unusable(request, [object_id]):
            return redirect("admin:lending_delinquencybucket_changelist")
        return super().delete_view(request, object_id, extra_context)

    def get_actions(self, request):
        # Deleted one at a time, each checked (the bulk action would report success anyway).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(LprRate)
class LprRateAdmin(admin.ModelAdmin):
    list_display = ("effective_date", "one_year_rate", "five_year_rate", "note")
    date_hierarchy = "effective_date"

    def has_delete_permission(self, request, obj=None):
        return False  # loans' caps were computed from these rates
