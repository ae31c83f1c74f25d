"""The admin's History page from the audit trail (templates/admin/object_history.html): the
services write an audit event for every change, where the admin's own log sees only its forms."""

from django import template
from django.utils.translation import gettext_lazy as _

from lending.access import may
from lending.models import AuditEvent

register = template.Library()
SHOWN = 100

# The commonest actions in words; any other code is shown as words ("limit.increase_approved"
# → "limit increase approved"). The code itself stays in the data and the audit list's filter.
ACTION_LABELS = {
    "borrower.create": _("Borrower registered"),
    "borrower.update": _("Borrower details changed"),
    "borrower.reveal_pii": _("Personal data revealed"),
    "application.submit": _("Application submitted"),
    "application.approve": _("Application approved"),
    "loan.create": _("Loan booked"),
    "loan.approve": _("Loan approved"),
    "loan.disburse": _("Loan disbursed"),
    "loan.settle": _("Loan settled"),
    "loan.write_off": _("Loan written off"),
    "loan.waiver": _("Charges waived"),
    "loan.recovery": _("Recovery posted"),
    "repayment.post": _("Repayment posted"),
    "repayment.reverse": _("Repayment reversed"),
    "credit.apply": _("Credit balance applied"),
    "credit.refund": _("Credit balance refunded"),
    "product.create": _("Product created"),
    "policy.create": _("Policy version created"),
    "policy.update": _("Policy version edited"),
    "policy.activate": _("Policy version activated"),
    "close.begin": _("Night started"),
    "close.retry": _("Night retried"),
    "close.done": _("Night closed"),
    "close.failed": _("Night failed"),
    "close.abandon": _("Night marked failed"),
    "contact.log": _("Contact logged"),
    "promise.record": _("Promise to pay recorded"),
    "case.reassign": _("Case reassigned"),
    "case.close": _("Case closed"),
}


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
    label = ACTION_LABELS.get(code)
    return str(label) if label else code.replace(".", " ").replace("_", " ").capitalize()
