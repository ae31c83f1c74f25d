"""One row per (user, Idempotency-Key): the request it was first used for and the answer
given, replayed when the same request comes again (config/api/idempotency.py)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

KEY_MAX_LENGTH = 100


class IdempotencyKey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    key = models.CharField(_("key"), max_length=KEY_MAX_LENGTH)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    fingerprint = models.CharField(
        _("request fingerprint"),
        max_length=64,
        help_text=_("SHA-256 of the method, the path and the body in canonical JSON."),
    )
    status_code = models.PositiveSmallIntegerField(
        _("response status"), null=True, blank=True, help_text=_("Empty while in progress.")
    )
    body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="apikeys_one_key_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.method} {self.path}"
