"""Audit events in words: an action code ("loan.disburse") and an object type ("lending.loan")
as the reader's language says them. The codes stay in the data, the filters' URLs and the API;
only what a person reads is a label (docs/i18n.md, "Audit events").

The summary a service writes beside the code is a record of the time, mostly English with the
figures in it; it is shown as recorded on the event's own page and the record's History, never
translated by matching its text."""

from django.apps import apps
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

# Every code a service writes (tests/test_audit_labels.py reads the services for them). Apps that
# write their own codes (risk, collections, imports, portfolio) are listed here as strings only:
# lending imports none of them.
ACTION_LABELS = {
    # lending: borrowers and products
    "borrower.create": _("Borrower registered"),
    "borrower.update": _("Borrower details changed"),
    "borrower.reveal_pii": _("Personal data revealed"),
    "borrower.contact_add": _("Emergency contact added"),
    "borrower.contact_update": _("Emergency contact corrected"),
    "borrower.contact_remove": _("Emergency contact removed"),
    "product.create": _("Product created"),
    "product.update": _("Product edited"),
    # lending: loans and money
    "loan.create": _("Loan booked"),
    "loan.approve": _("Loan approved"),
    "loan.rejected": _("Loan rejected"),
    "loan.cancelled": _("Loan cancelled"),
    "loan.disburse": _("Loan disbursed"),
    "loan.settle": _("Loan settled"),
    "loan.write_off": _("Loan written off"),
    "loan.waiver": _("Charges waived"),
    "loan.recovery": _("Recovery posted"),
    "recovery.reverse": _("Recovery reversed"),
    "loan.reconcile_repair": _("Cached balances rebuilt from the ledger"),
    "repayment.post": _("Repayment posted"),
    "repayment.reverse": _("Repayment reversed"),
    "credit.apply": _("Credit balance applied"),
    "credit.refund": _("Credit balance refunded"),
    # lending: the nightly run and exports
    "close.begin": _("Night started"),
    "close.retry": _("Night retried"),
    "close.done": _("Night closed"),
    "close.failed": _("Night failed"),
    "close.abandon": _("Night marked failed"),
    "export.loans": _("Loans exported"),
    "export.schedules": _("Schedules exported"),
    "export.overdue": _("Overdue installments exported"),
    "export.work_list": _("Work list exported"),
    "export.work_list_by_borrower": _("Work list by borrower exported"),
    # risk
    "application.submit": _("Application submitted"),
    "application.approve": _("Application approved"),
    "application.decline": _("Application declined"),
    "risk_profile.create": _("Risk profile created"),
    "risk_profile.update": _("Risk profile updated"),
    "policy.create": _("Policy version created"),
    "policy.update": _("Policy version edited"),
    "policy.request_activation": _("Policy version activation requested"),
    "policy.activate": _("Policy version activated"),
    "policy.scorecard_fit": _("Scorecard fitted"),
    "limit.set": _("Credit limit set"),
    "limit.increase": _("Credit limit increased"),
    "limit.behaviour_freeze": _("Credit limit frozen by the nightly review"),
    "limit.behaviour_cut": _("Credit limit cut by the nightly review"),
    "limit.behaviour_restore": _("Credit limit restored by the nightly review"),
    "limit.release_hold": _("Nightly review hold released"),
    "limit.propose_increase": _("Limit increase proposed"),
    "limit.increase_approved": _("Limit increase approved"),
    "limit.increase_rejected": _("Limit increase rejected"),
    # collections
    "contact.log": _("Contact logged"),
    "contact.refused": _("Contact refused by the compliance rules"),
    "promise.record": _("Promise to pay recorded"),
    "promise.kept": _("Promise to pay kept"),
    "promise.broken": _("Promise to pay broken"),
    "hold.place": _("Contact hold placed"),
    "hold.lift": _("Contact hold lifted"),
    "case.reassign": _("Case reassigned"),
    "case.close": _("Case closed"),
    "case.time_zone": _("Borrower time zone changed"),
    "queue.save": _("Queue saved"),
    "compliance_policy.save": _("Compliance policy saved"),
    "compliance_policy.activate": _("Compliance policy activated"),
    "reminder_template.save": _("Reminder template saved"),
    "waiver.propose": _("Waiver proposed"),
    "waiver.approved": _("Waiver approved"),
    "waiver.rejected": _("Waiver rejected"),
    "settlement.propose": _("Settlement proposed"),
    "settlement.approved": _("Settlement approved"),
    "settlement.rejected": _("Settlement rejected"),
    "settlement.settled": _("Settlement paid: loan settled"),
    "settlement.lapsed": _("Settlement lapsed"),
    "write_off.approved": _("Write-off approved"),
    "write_off.rejected": _("Write-off rejected"),
    # imports, portfolio
    "import.write": _("Import written"),
    "portfolio.backfill": _("Portfolio snapshots backfilled"),
}


def action_label(code: str) -> str:
    """The action in words; a code nobody listed yet is shown as its words ("limit.x_y" →
    "Limit x y"), so the page still reads, in English, until it is listed."""
    label = ACTION_LABELS.get(code)
    return str(label) if label else code.replace(".", " ").replace("_", " ").capitalize()


def object_type_label(label_lower: str) -> str:
    """'lending.loan' → the model's name ("Loan", 贷款); a model that no longer exists: the code."""
    try:
        model = apps.get_model(label_lower)
    except (LookupError, ValueError):
        return label_lower
    return str(capfirst(model._meta.verbose_name))
