from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiKeysConfig(AppConfig):
    """The API's Idempotency-Key store (docs/api.md). `config.api` is a plain package, not an
    app, so the one table the HTTP door keeps for itself lives in this small app."""

    name = "apikeys"
    verbose_name = _("API idempotency keys")
    default_auto_field = "django.db.models.BigAutoField"
