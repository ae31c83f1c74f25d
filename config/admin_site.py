"""The admin site with the platform's technical sections (users and groups, API tokens, scheduled
tasks, login records, idempotency keys) gathered under one "System" section, after the business
apps, on the index and in the side menu. Each model's own pages and permissions are unchanged:
the section only regroups what `get_app_list` would list for the user anyway.

`BackOfficeAdminConfig` stands in INSTALLED_APPS for "django.contrib.admin": `admin.site` (and
every `@admin.register`) is then this site from the start.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

SYSTEM_APPS = ("auth", "authtoken", "django_celery_beat", "axes", "apikeys")
SYSTEM_LABEL = "system"


class SystemSectionMixin:
    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps  # an app's own page lists that app, as before
        business = [app for app in apps if app["app_label"] not in SYSTEM_APPS]
        technical = [app for app in apps if app["app_label"] in SYSTEM_APPS]
        if not technical:
            return business
        models = sorted((m for app in technical for m in app["models"]), key=lambda m: m["name"])
        system = {
            "name": _("System"),
            "app_label": SYSTEM_LABEL,
            "app_url": reverse("admin:system_index", current_app=self.name),
            "has_module_perms": True,
            "models": models,
        }
        return [*business, system]

    def get_urls(self):
        system = path("system/", self.admin_view(self.system_index), name="system_index")
        return [system, *super().get_urls()]

    def system_index(self, request):
        """The System section's own page, like an app's index."""
        system = [app for app in self.get_app_list(request) if app["app_label"] == SYSTEM_LABEL]
        context = {
            **self.each_context(request),
            "title": _("System"),
            "subtitle": None,
            "app_list": system,
            "app_label": SYSTEM_LABEL,
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/app_index.html", context)


class BackOfficeSite(SystemSectionMixin, admin.AdminSite):
    pass


class BackOfficeAdminConfig(AdminConfig):
    default_site = "config.admin_site.BackOfficeSite"
