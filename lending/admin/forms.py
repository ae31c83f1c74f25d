from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from lending.errors import LendingError
from lending.models import LoanProduct


def attach_error(form: forms.BaseForm, error: LendingError, request=None) -> None:
    """Show a service's refusal on the field it names (or on the whole form). With the request,
    also a banner: the refusal itself when no field shows it, else a pointer to the field (not
    the raw "value_date: …" beside the same words under the field)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, ValidationError(error.message, code=str(error.code)))
    if request is not None:
        banner = _("Please correct the error below.") if field else error.message
        messages.error(request, banner)


def label(text):
    """A form label from a lower-case msgid the models already translate ("value date")."""
    return capfirst(text)


class QuoteForm(forms.Form):
    product = forms.ModelChoiceField(
        LoanProduct.objects.filter(is_active=True), label=label(_("product"))
    )
    amount = forms.DecimalField(
        label=label(_("amount")), max_digits=18, decimal_places=2, min_value=0.01
    )
    rate = forms.DecimalField(
        label=_("Annual rate"), max_digits=9, decimal_places=6, help_text=_("0.18 = 18 %")
    )
    term = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=360)
    # The quote's start is the day the money would be paid out.
    start_date = forms.DateField(label=label(_("disbursement date")), initial=timezone.localdate)
    first_due_date = forms.DateField(label=label(_("first due date")), required=False)


class DisburseForm(forms.Form):
    disbursement_date = forms.DateField(
        label=label(_("disbursement date")), initial=timezone.localdate
    )
    first_due_date = forms.DateField(
        label=label(_("first due date")),
        required=False,
        help_text=_("Leave empty for one month after disbursement."),
    )


class RepaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=label(_("amount")), max_digits=18, decimal_places=2, min_value=0.01
    )
    value_date = forms.DateField(label=label(_("value date")), initial=timezone.localdate)
    external_reference = forms.CharField(
        label=label(_("external reference")), required=False, max_length=100
    )
    idempotency_key = forms.CharField(
        label=label(_("idempotency key")),
        required=False,
        max_length=100,
        help_text=_("The payment's unique id from the channel: posting it twice records it once."),
    )
    channel = forms.CharField(label=label(_("channel")), required=False, max_length=32)
    note = forms.CharField(label=label(_("note")), required=False, max_length=255)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=label(_("reason")), max_length=255, widget=forms.TextInput(attrs={"size": 60})
    )


class WriteOffForm(ReasonForm):
    value_date = forms.DateField(label=label(_("value date")), initial=timezone.localdate)
