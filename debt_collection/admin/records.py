"""Read-only records: contact attempts, promises, assignment history, compliance refusals —
each narrowed to the cases the user may see (a collector: their own)."""

from django.contrib import admin

from debt_collection.access import sees_all_cases
from debt_collection.admin.common import ReadOnlyAdmin
from debt_collection.models import CaseAssignment, ComplianceRefusal, ContactAttempt, PromiseToPay
from lending.admin.columns import money_column
from lending.admin.paging import BigListMixin


@admin.register(ContactAttempt)
class ContactAttemptAdmin(BigListMixin, ReadOnlyAdmin):
    list_display = (
        "contacted_at",
        "case",
        "channel",
        "party",
        "emergency_contact",
        "connected",
        "outcome",
        "agent",
    )
    list_filter = ("channel", "party", "connected", "outcome")
    list_select_related = ("case__loan", "emergency_contact", "agent")
    exclude = ("borrower",)


@admin.register(PromiseToPay)
class PromiseToPayAdmin(BigListMixin, ReadOnlyAdmin):
    list_display = (
        "case",
        money_column(PromiseToPay.amount),
        "promised_for",
        "state",
        money_column(PromiseToPay.paid),
        "resolved_on",
        "recorded_by",
    )
    list_filter = ("state",)
    list_select_related = ("case__loan", "recorded_by")


@admin.register(CaseAssignment)
class CaseAssignmentAdmin(BigListMixin, ReadOnlyAdmin):
    list_display = (
        "assigned_at",
        "case",
        "queue",
        "from_collector",
        "collector",
        "assigned_by",
        "reason",
    )
    list_filter = ("queue",)
    list_select_related = ("case__loan", "queue", "collector", "from_collector", "assigned_by")


@admin.register(ComplianceRefusal)
class ComplianceRefusalAdmin(ReadOnlyAdmin):
    list_display = ("refused_at", "collector", "rule", "case", "message")
    # Collectors who were refused, not every user of the back office.
    list_filter = ("rule", ("collector", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("case__loan", "collector")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_all_cases(request.user) or not self.has_view_or_change_permission(request):
            return queryset
        return queryset.filter(collector_id=request.user.pk)  # one's own refusals
