from django.db import models

from lending.access import stored_user
from lending.models import AuditEvent


def audit_log(
    *, actor, action: str, obj: models.Model, summary: str = "", data: dict | None = None
) -> AuditEvent:
    """Record who did what; call inside the service's transaction so both land or neither."""
    return AuditEvent.objects.create(
        actor=stored_user(actor),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        summary=summary[:255],
        data=data or {},
    )
