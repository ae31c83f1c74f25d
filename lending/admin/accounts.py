"""Django's own user and group pages, with the permissions read in one query.

A page a viewer may not change (the auditor's) shows the permissions as text, and a permission's
text names its content type: Django read that type once per permission (226 queries for a
role's group). On the change page the permissions come prefetched with their content types."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.db.models import Prefetch

admin.site.unregister(Group)
admin.site.unregister(User)


def _on_change_page(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name.endswith("_change")


def _with_types(relation: str) -> Prefetch:
    return Prefetch(relation, Permission.objects.select_related("content_type"))


@admin.register(Group)
class RoleGroupAdmin(GroupAdmin):
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _on_change_page(request):
            queryset = queryset.prefetch_related(_with_types("permissions"))
        return queryset


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _on_change_page(request):
            queryset = queryset.prefetch_related(_with_types("user_permissions"), "groups")
        return queryset
