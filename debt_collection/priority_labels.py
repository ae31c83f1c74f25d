"""What each part of a case's priority score is called (admin and API show the same words;
`debt_collection.priority` computes the parts and stays free of Django)."""

from django.utils.translation import gettext_lazy as _

PART_NAMES = {
    "dpd": _("days past due"),
    "amount": _("overdue amount"),
    "broken_promises": _("broken promises"),
    "no_contact": _("days without contact"),
}
