"""The work list by borrower: a borrower with several delinquent loans appears once, the loans
grouped on that row (each linked to its case), the collector's own cases only (managers see
all). The row stands for the borrower's most urgent case; the list sorts by its priority."""

from django.contrib import admin
from django.db.models import Count, OuterRef, Prefetch, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from debt_collection.access import visible_cases
from debt_collection.admin.common import ReadOnlyAdmin
from debt_collection.exports import CaseByBorrowerExport
from debt_collection.models import Case, CaseByBorrower, CaseStatus
from debt_collection.selectors import lead_cases
from lending import formatting
from lending.admin.filters import BucketFilter
from lending.admin.paging import BigListMixin
from lending.admin.search import reference_or_name_search
from lending.exports import ExportButtonMixin


def _open_visible(user):
    return visible_cases(Case.objects.filter(status=CaseStatus.OPEN), user)


@admin.register(CaseByBorrower)
class CaseByBorrowerAdmin(BigListMixin, ExportButtonMixin, ReadOnlyAdmin):
    case_path = ""
    list_display = (
        "borrower",
        "loans",
        "cases",
        "overdue_total",
        "priority",
        "bucket",
        "collector",
    )
    list_display_links = None
    list_filter = (("bucket", BucketFilter), "queue")
    list_select_related = ("borrower", "collector")
    ordering = ("-priority", "id")
    search_fields = ("borrower__full_name", "loan__reference")

    actions = None
    export_kinds = (CaseByBorrowerExport,)  # the Export button only: this list has no actions

    def has_view_permission(self, request, obj=None):
        # Rows link to the cases' own pages: this list is no second door to a case.
        return obj is None and super().has_view_permission(request)

    def get_queryset(self, request):
        if not self.has_view_or_change_permission(request):
            return super().get_queryset(request)  # Django answers them 403 before any row
        mine = _open_visible(request.user)
        group = mine.filter(borrower_id=OuterRef("borrower_id")).order_by().values("borrower_id")
        return (
            lead_cases(
                visible_cases(
                    super().get_queryset(request).filter(status=CaseStatus.OPEN), request.user
                )
            )
            # The loans column's cases, one query per page instead of one per row.
            .prefetch_related(
                Prefetch(
                    "borrower__collection_cases",
                    queryset=mine.select_related("loan").order_by("-priority", "pk"),
                    to_attr="open_visible_cases",
                )
            )
            .annotate(
                open_cases=Subquery(group.annotate(n=Count("pk")).values("n")[:1]),
                overdue_sum=Coalesce(
                    Subquery(group.annotate(s=Sum("overdue_amount")).values("s")[:1]),
                    0,
                    output_field=Case._meta.get_field("overdue_amount"),
                ),
            )
        )

    def get_search_results(self, request, queryset, search_term):
        """A name finds its borrower's row; a reference finds the row of the borrower whose
        open case (one this user sees) is on that loan, lead case or not."""

        def by_reference(lookup, term):
            loans = _open_visible(request.user).filter(**{f"loan__reference__{lookup}": term})
            return queryset.filter(borrower_id__in=loans.values("borrower_id"))

        found = reference_or_name_search(
            queryset, search_term, reference=by_reference, name="borrower__full_name"
        )
        return found, False

    def get_list_display(self, request):
        # The grouped loans are those this user may see: the column needs the request.
        def loans(obj):
            rows = obj.borrower.open_visible_cases  # prefetched by get_queryset
            return format_html_join(
                mark_safe("<br>"),
                '<a href="{}">{}</a> {} · {} · {}',
                (
                    (
                        reverse("admin:collections_case_change", args=[c.pk]),
                        c.loan.reference,
                        c.bucket,
                        gettext("%(dpd)s dpd") % {"dpd": c.dpd},
                        formatting.money(c.overdue_amount),
                    )
                    for c in rows
                ),
            )

        loans.short_description = _("loans")
        return (self.list_display[0], loans, *self.list_display[2:])

    @admin.display(description=_("loans"))
    def loans(self, obj):
        return "—"  # stands in for the per-request column get_list_display puts here

    @admin.display(description=_("open cases"), ordering="open_cases")
    def cases(self, obj):
        return obj.open_cases

    @admin.display(description=_("overdue, all loans"), ordering="overdue_sum")
    def overdue_total(self, obj):
        return formatting.money(obj.overdue_sum)
