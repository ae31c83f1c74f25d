from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils import timezone
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


class QuoteForm(forms.Form):
    product = forms.ModelChoiceField(LoanProduct.objects.filter(is_active=True))
    amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0.01)
    rate = forms.DecimalField(
        label=_("Annual rate"), max_digits=9, decimal_places=6, help_text=_("0.18 = 18 %")
    )
    term = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=360)
    start_date = forms.DateField(initial=timezone.localdate)
    first_due_date = forms.DateField(required=False)


class DisburseForm(forms.Form):
    disbursement_date = forms.DateField(initial=timezone.localdate)
    first_due_date = forms.DateField(
        required=False, help_text=_("Leave empty for one month after disbursement.")
    )


class RepaymentForm(forms.Form):
    amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0.01)
    value_date = forms.DateField(initial=timezone.localdate)
    external_reference = forms.CharField(required=False, max_length=100)
    idempotency_key = forms.CharField(
        required=False,
        max_length=100,
        help_text=_("The payment's unique id from the channel: posting it twice records it once."),
    )
    channel = forms.CharField(required=False, max_length=32)
    note = forms.CharField(required=False, max_length=255)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"size": 60}))


class WriteOffForm(ReasonForm):
    value_date = forms.DateField(initial=timezone.localdate)
