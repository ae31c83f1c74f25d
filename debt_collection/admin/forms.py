import contextlib

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debt_collection.models import Channel, Outcome, Party, Queue
from debt_collection.selectors import active_policy
from debt_collection.services.case_time_zone import time_zone_choices
from debt_collection.shipped_texts import script_text
from lending.errors import LendingError
from lending.models import EmergencyContact


class ContactForm(forms.Form):
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    party = forms.ChoiceField(label=_("party"), choices=Party.choices)
    emergency_contact = forms.ModelChoiceField(
        EmergencyContact.objects.none(), label=_("emergency contact"), required=False
    )
    contacted_at = forms.DateTimeField(
        label=_("contacted at"),
        initial=timezone.localtime,
        help_text=_("In the server's time zone; the rules use the borrower's."),
    )
    connected = forms.BooleanField(label=_("connected"), required=False)
    outcome = forms.ChoiceField(label=_("outcome"), choices=Outcome.choices)
    note = forms.CharField(label=_("note"), widget=forms.Textarea, required=False)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["emergency_contact"]
        field.queryset = EmergencyContact.objects.filter(borrower_id=case.borrower_id)
        with contextlib.suppress(LendingError):  # no active policy: the service says so
            field.help_text = script_text(active_policy().emergency_note)


class PromiseForm(forms.Form):
    amount = forms.DecimalField(label=_("amount"), max_digits=18, decimal_places=2)
    promised_for = forms.DateField(label=_("promised for"))


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("borrower time zone"),
        choices=lambda: [(zone, zone) for zone in time_zone_choices()],
        help_text=_("Contact hours are checked in this time zone."),
    )
    reason = forms.CharField(
        label=_("reason"),
        max_length=255,
        help_text=_("How you know, e.g. the borrower said they work in Urumqi."),
    )


class ReassignForm(forms.Form):
    queue = forms.ModelChoiceField(
        Queue.objects.filter(active=True),
        label=_("queue"),
        required=False,
        help_text=_("Empty: each case stays in its queue."),
    )
    collector = forms.ModelChoiceField(
        get_user_model().objects.filter(is_active=True, collection_queues__isnull=False).distinct(),
        label=_("collector"),
        required=False,
        help_text=_("Empty: the queue member with the fewest open cases."),
    )
    reason = forms.CharField(label=_("reason"), max_length=255)
