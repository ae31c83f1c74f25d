"""The admin's History page from the audit trail (templates/admin/object_history.html): the
services write an audit event for every change, where the admin's own log sees only its forms."""

from django import template

from lending import audit_labels
from lending.access import may
from lending.models import AuditEvent

register = template.Library()
SHOWN = 100


@register.simple_tag
def audit_history(obj, user):
    """The object's audit events, newest first, for those who may read the audit trail;
    None for others (the page says where the history is kept)."""
    if obj is None or not may(user, "lending.view_auditevent"):
        return None
    events = AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")
    total = events.count()
    return {"events": list(events[:SHOWN]), "total": total, "more": total > SHOWN}


@register.filter
def action_label(code: str) -> str:
    return audit_labels.action_label(code)
