"""What the collections admin pages share: every read narrowed to the cases the user may see,
and an object outside them answered 404 (never 403: that would confirm it exists)."""

from django.contrib import admin
from django.http import Http404

from debt_collection.access import visible_cases
from debt_collection.models import Case


class ScopedAdmin(admin.ModelAdmin):
    case_path = "case"  # how the model reaches its case ("" for Case itself)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not self.has_view_or_change_permission(request):
            return queryset  # Django refuses them every page (403) before showing a row
        if not self.case_path:
            return visible_cases(queryset, request.user)
        return queryset.filter(
            **{f"{self.case_path}__in": visible_cases(Case.objects.all(), request.user)}
        )

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        # Someone who may read these pages is told "not found" (not Django's redirect); someone
        # who may not gets Django's 403, whatever the id.
        if obj is None and self.has_view_or_change_permission(request):
            raise Http404
        return obj


class ReadOnlyAdmin(ScopedAdmin):
    """Records written by the services only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
