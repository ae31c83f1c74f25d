"""Credit limits with their history of every change."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.admin.columns import money_column
from lending.admin.figures import shown
from lending.admin.paging import BigListMixin
from lending.admin.read_only import ReadOnlyAdmin
from risk.models import CreditLimit, CreditLimitChange, LimitStatus
from risk.reason_texts import stored_reason
from risk.selectors import with_available

# The change kinds services and the nightly review store (risk.behaviour, risk.services), in words.
KIND_WORDS = {
    "set": _("Limit set"),
    "increase": _("Increase approved"),
    "freeze": _("Frozen"),
    "unfreeze": _("Unfrozen"),
    "cut": _("Cut"),
    "behaviour_freeze": _("Frozen by the nightly review"),
    "behaviour_cut": _("Cut by the nightly review"),
    "behaviour_restore": _("Restored by the nightly review"),
    "release_hold": _("Review hold released"),
}


def status_word(code: str) -> str:
    return str(LimitStatus(code).label) if code in LimitStatus.values else code


class LimitHistoryInline(admin.TabularInline):
    model = CreditLimitChange
    fields = readonly_fields = shown(
        CreditLimitChange,
        (
            "changed_at",
            "kind_shown",
            "from_amount",
            "to_amount",
            "from_status_shown",
            "to_status_shown",
            "reason_shown",
            "adverse_action",
            "policy",
            "changed_by",
        ),
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("kind"))
    def kind_shown(self, obj):
        return KIND_WORDS.get(obj.kind, obj.kind)

    @admin.display(description=_("from status"))
    def from_status_shown(self, obj):
        return status_word(obj.from_status)

    @admin.display(description=_("to status"))
    def to_status_shown(self, obj):
        return status_word(obj.to_status)

    @admin.display(description=_("reason"))
    def reason_shown(self, obj):
        return stored_reason(obj)


@admin.register(CreditLimit)
class CreditLimitAdmin(BigListMixin, ReadOnlyAdmin):
    list_display = (
        "borrower",
        money_column(CreditLimit.amount),
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
    fields = readonly_fields = shown(
        CreditLimit,
        (
            "borrower",
            "amount",
            "exposure_shown",
            "available_shown",
            "status",
            "review_hold",
            "review_on",
            "updated_at",
        ),
    )
    inlines = [LimitHistoryInline]

    def get_queryset(self, request):
        return with_available(super().get_queryset(request))

    @admin.display(description=_("owed or approved"), ordering="exposure")
    def exposure_shown(self, obj):
        return formatting.money(obj.exposure)

    @admin.display(description=_("available"), ordering="available")
    def available_shown(self, obj):
        return formatting.money(obj.available)
