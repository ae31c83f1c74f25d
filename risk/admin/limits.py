"""Credit limits with their history of every change."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from lending.admin.read_only import ReadOnlyAdmin
from lending.money import quantize_money
from risk.models import CreditLimit, CreditLimitChange
from risk.selectors import with_available


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
        "adverse_action",
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
    list_display = (
        "borrower",
        "amount",
        "exposure_shown",
        "available_shown",
        "status",
        "review_hold",
        "review_on",
        "updated_at",
    )
    list_filter = ("status", "review_hold")
    search_fields = ("borrower__full_name",)
    list_select_related = ("borrower",)
    readonly_fields = ("exposure_shown", "available_shown")
    inlines = [LimitHistoryInline]

    def get_queryset(self, request):
        return with_available(super().get_queryset(request))

    @admin.display(description=_("owed or approved"), ordering="exposure")
    def exposure_shown(self, obj):
        return quantize_money(obj.exposure)

    @admin.display(description=_("available"), ordering="available")
    def available_shown(self, obj):
        return quantize_money(obj.available)
