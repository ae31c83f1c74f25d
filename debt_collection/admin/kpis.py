"""The KPI page: a custom admin view reached from the collections app index (its entry is the
`CollectionsKpi` proxy). Managers, finance and auditors — those who see every case."""

from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debt_collection import kpis
from debt_collection.access import sees_all_cases
from debt_collection.models import CollectionsKpi
from debt_collection.models.contacts import refusal_rule_label
from lending.close_of_business.runner import last_closed_date

MONTHS = 6


@admin.register(CollectionsKpi)
class CollectionsKpiAdmin(admin.ModelAdmin):
    actions = None

    def has_view_permission(self, request, obj=None):
        # The page only: a row of the proxy is a case, and cases have their own page.
        if obj is not None:
            return False
        return super().has_view_permission(request) and sees_all_cases(request.user)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        # As the last closed night left the bucket history: what that night stored.
        rolls_as_of = last_closed_date() or today
        rolls = kpis.roll_rates(until=rolls_as_of, months=MONTHS)
        months = sorted({r.month for r in rolls})
        pairs = sorted({(r.from_bucket, r.to_bucket) for r in rolls}, key=lambda p: p[0])
        by_key = {(r.month, r.from_bucket): r for r in rolls}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Collections KPIs"),
            "by_bucket": kpis.open_cases_by_bucket(),
            "by_queue": kpis.open_cases_by_queue(),
            "roll_months": months,
            "rolls_as_of": rolls_as_of,
            "roll_rows": [(f, t, [by_key.get((m, f)) for m in months]) for f, t in pairs],
            "cure": kpis.cure_rate(since=today - timedelta(days=30), until=today),
            "promises": kpis.promises(),
            "refusals": [
                {**row, "rule": refusal_rule_label(row["rule"])}
                for row in kpis.refusals_by_collector()
            ],
            "recovered": kpis.recovered_by_collector_and_queue(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/collections/kpis.html", context)
