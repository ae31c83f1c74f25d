"""Paging for admin lists of big tables (loans, borrowers, cases, reminders, the audit trail):
without it every list load counts the whole table, twice (the paginator and the "N total"
beside the filters), which at a million rows is most of the page's time.

Use both on a ModelAdmin of a big table:

    paginator = BoundedCountPaginator
    show_full_result_count = False
"""

from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext


class BoundedCountPaginator(Paginator):
    """Counts exactly up to `count_limit` rows; a COUNT over a LIMITed subquery stops there, so
    a page costs the same on a million rows as on ten thousand. Past the limit the count is
    PostgreSQL's estimate (the planner's rows for the list's own query), never below the limit:
    the page links are then approximate, the rows on each page exact."""

    count_limit = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not hasattr(queryset, "query"):  # a plain list: nothing to save
            return super().count
        bounded = queryset.order_by().values("pk")[: self.count_limit + 1].count()
        if bounded <= self.count_limit:
            return bounded
        return max(bounded, self._estimate(queryset))

    def _estimate(self, queryset) -> int:
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return queryset.count()
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):  # psycopg returns json already parsed; be safe either way
            import json

            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])


class BigListMixin:
    """The two attributes above, for a ModelAdmin of a big table (put it first in the bases).

    `list_defer` names columns the list never shows but that are big (JSON traces, TOASTed):
    deferred on the list page only, since the change and review pages read them."""

    paginator = BoundedCountPaginator
    show_full_result_count = False
    list_defer: tuple[str, ...] = ()

    def action_checkbox(self, obj):
        # Django renders a form widget through the template engine for each row, a seventh of
        # a 100-row list's time; the same element (tests/test_admin_paging.py) as a string.
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if self.list_defer and match is not None and match.url_name.endswith("_changelist"):
            queryset = queryset.defer(*self.list_defer)
        return queryset
