"""Read permissions from the role groups (lending/roles.py). Who may *do* something is decided
by the service the view calls (lending/access.py), so every door obeys one rule."""

from rest_framework.permissions import BasePermission

from lending.access import may


class HasReadPermission(BasePermission):
    """Authenticated, active, and holding the view's `read_permission` (when it names one):
    DjangoModelPermissions' idea, with `view` required for reads as well."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        perm = getattr(view, "read_permission", None)
        return perm is None or may(user, perm)
