"""Credit limits with their history of every change."""

from django.contrib import admin

from lending.admin.read_only import ReadOnlyAdmin
from risk.models import CreditLimit, CreditLimitChange


class LimitHistoryInline(admin.TabularInline):
    model = CreditLimitChange
    fields = (
        "changed_at",
        "kind",
        "from_amount",
        "to_amount",
        "from_status",
        "to_status",
        "reason",
        "policy",
        "changed_by",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CreditLimit)
class CreditLimitAdmin(ReadOnlyAdmin):
    list_display = ("borrower", "amount", "status", "updated_at")
    list_filter = ("status",)
    inlines = [LimitHistoryInline]
