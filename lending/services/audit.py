from django.db import models

from lending.access import stored_user
from lending.close_of_business.bulk import new_instance
from lending.models import AuditEvent


def audit_log(
    *, actor, action: str, obj: models.Model, summary: str = "", data: dict | None = None
) -> AuditEvent:
    """Record who did what; call inside the service's transaction so both land or neither."""
    event = audit_event(actor=actor, action=action, obj=obj, summary=summary, data=data)
    event.save(force_insert=True)
    return event


def audit_event(
    *, actor, action: str, obj: models.Model, summary: str = "", data: dict | None = None
) -> AuditEvent:
    """The event unsaved (a batch inserts many in one statement)."""
    return new_instance(
        AuditEvent,
        actor=stored_user(actor),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        summary=summary[:255],
        data=data or {},
    )
