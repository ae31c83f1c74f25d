from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.audit_labels import action_label, object_type_label


class AuditEvent(models.Model):
    """Who did what to which record, written by every service in the same transaction."""

    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    summary = models.CharField(_("summary"), max_length=255, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The auditor's search by an id copied from a page (lending/admin/audit.py).
            models.Index(fields=["object_id"], name="audit_object_id"),
        ]

    def __str__(self) -> str:
        # The page's title and breadcrumb: what happened to what, in the reader's words, as the
        # list says it (the codes are on the page); the time in the server's time zone, as the
        # list shows it (not the stored UTC).
        when = formatting.local_datetime(self.occurred_at)
        what = object_type_label(self.object_type)
        return f"{when} · {action_label(self.action)} · {what} #{self.object_id}"
