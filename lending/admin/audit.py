from django.contrib import admin

from lending.admin.paging import BigListMixin
from lending.admin.read_only import ReadOnlyAdmin
from lending.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(BigListMixin, ReadOnlyAdmin):
    list_display = ("occurred_at", "actor", "action", "object_type", "object_id", "summary")
    # A date filter, not date_hierarchy: its DISTINCT DATE_TRUNC scans the whole trail.
    list_filter = (("occurred_at", admin.DateFieldListFilter), "action", "object_type")
    search_fields = ("object_id", "summary", "actor__username")
