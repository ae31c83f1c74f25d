from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from lending.access import Perm, may
from lending.admin.read_only import ReadOnlyAdmin
from lending.close_of_business.exports import RunExport, RunStepExport
from lending.close_of_business.runner import business_day_abandon
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
from lending.tasks import close_business_days_task


class StepInline(admin.TabularInline):
    model = BusinessDayStep
    fields = ("position", "name", "status", "counts", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ChunkInline(StepInline):
    model = BusinessDayChunk
    fields = ("number", "status", "attempts", "loan_count", "seconds", "error")
    readonly_fields = fields

    @admin.display(description=_("loans"))
    def loan_count(self, obj):
        return len(obj.loan_ids)


@admin.register(BusinessDayRun)
class BusinessDayRunAdmin(ExportSelectedMixin, admin.ModelAdmin):
    list_display = (
        "business_date",
        "status",
        "progress",
        "loans_examined",
        "loans_newly_overdue",
        "loans_cured",
        "bucket_moves",
        "accruals_posted",
        "accrual_total",
        "loans_capped",
        "seconds",
        "attempts",
    )
    list_filter = ("status",)
    date_hierarchy = "business_date"
    inlines = [StepInline, ChunkInline]
    actions = ["retry_failed", "abandon_running"]
    export_kinds = (RunExport, RunStepExport)
    readonly_fields = [f.name for f in BusinessDayRun._meta.fields]

    @admin.display(description=_("chunks"))
    def progress(self, obj):
        return f"{obj.chunks_done}/{obj.chunks_total}"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_run_permission(self, request) -> bool:
        return may(request.user, Perm.RUN_CLOSE_OF_BUSINESS)

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
class BucketChangeAdmin(ReadOnlyAdmin):
    list_display = ("business_date", "loan", "from_bucket", "to_bucket", "dpd", "overdue_amount")
    list_filter = ("to_bucket", "from_bucket")
    date_hierarchy = "business_date"
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
