from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from lending import audit_labels
from lending.admin.filters import distinct_values
from lending.admin.paging import BigListMixin
from lending.admin.read_only import ReadOnlyAdmin
from lending.models import AuditEvent


class _CodeFilter(admin.SimpleListFilter):
    """A filter on a code column whose choices read as words; the URL keeps the code (links to
    `?action=loan.disburse` still work)."""

    def label(self, code: str) -> str:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        # The codes in the trail, by the column's index (every auditor sees the whole trail).
        codes = distinct_values(AuditEvent, self.parameter_name)
        return sorted(((code, self.label(code)) for code in codes), key=lambda c: c[1])

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.parameter_name: self.value()})
        return queryset


class ActionFilter(_CodeFilter):
    title = _("action")
    parameter_name = "action"

    def label(self, code: str) -> str:
        return audit_labels.action_label(code)


class ObjectTypeFilter(_CodeFilter):
    title = _("object type")
    parameter_name = "object_type"

    def label(self, code: str) -> str:
        return audit_labels.object_type_label(code)


@admin.register(AuditEvent)
class AuditEventAdmin(BigListMixin, ReadOnlyAdmin):
    # The summary is the service's record of the time (English with its figures, or a person's
    # words): the event's page shows it as recorded; the list says what happened in the reader's
    # language (docs/i18n.md, "Audit events"). It is still searched.
    list_display = ("occurred_at", "actor", "action_words", "object_words", "object_id")
    # A date filter, not date_hierarchy: its DISTINCT DATE_TRUNC scans the whole trail.
    list_filter = (("occurred_at", admin.DateFieldListFilter), ActionFilter, ObjectTypeFilter)
    search_fields = ("object_id", "summary", "actor__username")
    # The event's page: each code once, after its words (a link to `?action=…` names it).
    fields = (
        "occurred_at",
        "actor",
        "action_shown",
        "object_shown",
        "object_id",
        "summary",
        "data",
    )
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        # An object id (exactly), an actor (the username, any case) or the summary's text: each
        # by its own index, OR-ed in one table (the user looked up first), where Django's
        # search ORs across the join to users and scanned the trail (1.3 s at 1.1M events).
        term = search_term.strip()
        if not term:
            return queryset, False
        found = Q(object_id=term) | Q(summary__icontains=term)
        actors = list(
            get_user_model().objects.filter(username__iexact=term).values_list("pk", flat=True)
        )
        if actors:
            found |= Q(actor_id__in=actors)
        return queryset.filter(found), False

    @admin.display(description=_("action"), ordering="action")
    def action_words(self, obj):
        return audit_labels.action_label(obj.action)

    @admin.display(description=_("object type"), ordering="object_type")
    def object_words(self, obj):
        return audit_labels.object_type_label(obj.object_type)

    @admin.display(description=_("action"))
    def action_shown(self, obj):
        return format_html("{} <code>{}</code>", self.action_words(obj), obj.action)

    @admin.display(description=_("object type"))
    def object_shown(self, obj):
        return format_html("{} <code>{}</code>", self.object_words(obj), obj.object_type)
