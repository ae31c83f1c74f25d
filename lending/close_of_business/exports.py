"""Nightly run summaries as a spreadsheet (issue 12; the shared rules are in lending/exports.py):
one row per night with its counts, amounts, timings and each step's counts and duration on one
line; or one row per step."""

from django.utils.translation import gettext_lazy as _

from lending.exports import AuditedExport, Column, counts_text, label
from lending.models import BusinessDayRun, BusinessDayStep

R, S = BusinessDayRun, BusinessDayStep
EXPORT_RUNS = "lending.export_businessdayrun"  # the nights and their steps


class RunExport(AuditedExport):
    kind = "nightly_runs"
    display_name = _("Nightly runs")
    model = BusinessDayRun
    permission = EXPORT_RUNS
    reads = "lending.view_businessdayrun"

    business_date = Column("business_date", label(R, "business_date"))
    status = Column(column_name=label(R, "status"))
    started_at = Column("started_at", label(R, "started_at"))
    finished_at = Column("finished_at", label(R, "finished_at"))
    seconds = Column("seconds", label(R, "seconds"))
    attempts = Column("attempts", label(R, "attempts"))
    chunks_total = Column("chunks_total", label(R, "chunks_total"))
    chunks_done = Column("chunks_done", label(R, "chunks_done"))
    loans_examined = Column("loans_examined", label(R, "loans_examined"))
    installments_newly_overdue = Column(
        "installments_newly_overdue", label(R, "installments_newly_overdue")
    )
    loans_newly_overdue = Column("loans_newly_overdue", label(R, "loans_newly_overdue"))
    loans_cured = Column("loans_cured", label(R, "loans_cured"))
    bucket_moves = Column("bucket_moves", label(R, "bucket_moves"))
    accruals_posted = Column("accruals_posted", label(R, "accruals_posted"))
    accrual_total = Column("accrual_total", label(R, "accrual_total"), money=True)
    loans_capped = Column("loans_capped", label(R, "loans_capped"))
    steps = Column(column_name=_("steps"))
    error = Column("error", label(R, "error"))

    def rows(self, queryset):
        return queryset.prefetch_related("steps")  # read a page at a time with its steps

    def dehydrate_status(self, run):
        return run.get_status_display()

    def dehydrate_steps(self, run):
        """ "name: 1.234 s (count=n, …)" per step, in their order."""
        return "; ".join(
            f"{step.name}: {step.seconds} s"
            + (f" ({counts_text(step.counts)})" if step.counts else "")
            for step in sorted(run.steps.all(), key=lambda s: s.position)
        )


class RunStepExport(AuditedExport):
    kind = "nightly_run_steps"
    display_name = _("Nightly run steps")
    model = BusinessDayStep
    permission = EXPORT_RUNS
    reads = "lending.view_businessdaystep"

    business_date = Column("run__business_date", label(R, "business_date"))
    position = Column("position", label(S, "position"))
    name = Column("name", label(S, "name"))
    status = Column(column_name=label(S, "status"))
    seconds = Column("seconds", label(S, "seconds"))
    counts = Column(column_name=label(S, "counts"))
    error = Column("error", label(S, "error"))

    def rows(self, queryset):
        return (
            BusinessDayStep.objects.filter(run_id__in=queryset.order_by().values("pk"))
            .select_related("run")
            .order_by("-run__business_date", "position")
        )

    def dehydrate_status(self, step):
        return step.get_status_display()

    def dehydrate_counts(self, step):
        return counts_text(step.counts)
