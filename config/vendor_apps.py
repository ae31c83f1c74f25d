"""Third-party apps under a name people read in their language: django-axes names its app
"Axes" (a plain string, not marked for translation), shown as the section of its pages."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AxesAppConfig):
    verbose_name = _("Login protection")
