"""The dashboard in the admin: /admin/portfolio/dashboard/ (the `Dashboard` proxy's list) and
one CSV per chart. Who sees it: `portfolio.view_dashboard` (lending/roles.py); the same people
get it on the admin home (templates/admin/index.html)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from portfolio import dashboard
from portfolio.models import Dashboard


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    actions = None

    def has_view_permission(self, request, obj=None):
        # The page only: a row of the proxy is a snapshot, shown through the charts.
        return obj is None and super().has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        csv_view = self.admin_site.admin_view(self.csv_view)
        return [
            path("csv/<str:key>/", csv_view, name="portfolio_dashboard_csv"),
            *super().get_urls(),
        ]

    def _check(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def changelist_view(self, request, extra_context=None):
        self._check(request)
        as_of, charts = dashboard.build_all()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Portfolio dashboard"),
            "as_of": as_of,
            "charts": charts,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/portfolio/dashboard.html", context)

    def csv_view(self, request, key: str):
        self._check(request)
        if key not in dashboard.CHART_KEYS:
            raise Http404(_("No such chart."))
        chart = dashboard.build(key)
        # With a byte-order mark, spreadsheet programs read the Chinese headers as UTF-8.
        response = HttpResponse("\ufeff" + chart.csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="portfolio-{key}.csv"'
        return response
