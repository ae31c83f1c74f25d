"""The reminder outbox (read-only: the night writes it, the sender empties it) and the
templates, which collections managers edit through the service."""

from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from debt_collection.access import sees_all_cases
from debt_collection.admin.policies import _Saved
from debt_collection.models import Reminder, ReminderState, ReminderTemplate
from debt_collection.services.reminders import (
    reminder_language,
    reminder_render,
    reminder_template_save,
)
from lending.admin.columns import money_column, rate_column
from lending.admin.filters import KnownValuesFilter
from lending.admin.paging import BigListMixin
from lending.models import Installment, Loan


class LanguageFilter(KnownValuesFilter):
    """The site's languages and the one the night writes reminders in (a setting)."""

    def values(self):
        codes = [code for code, _name in settings.LANGUAGES]
        return codes if reminder_language() in codes else [*codes, reminder_language()]


@admin.register(Reminder)
class ReminderAdmin(BigListMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "loan",
        "borrower",
        "kind",
        "language",
        "due_date",
        money_column(Reminder.amount_due),
        "send_on",
        "state",
        "sent_at",
        "attempts",
    )
    list_filter = ("state", "kind", ("language", LanguageFilter), "send_on")
    list_select_related = ("loan", "borrower")
    search_fields = ("loan__reference",)

    def get_search_results(self, request, queryset, search_term):
        # Reminders have no index by loan (the model says why): the reference finds its loans,
        # their installments, and those installments' reminders by the (installment, kind)
        # index, instead of a join that walks every reminder (0.4 s at a million loans).
        term = search_term.strip()
        if not term:
            return queryset, False
        loans = Loan.objects.filter(reference__istartswith=term).values("pk")
        installments = Installment.objects.filter(loan__in=loans).values("pk")
        return queryset.filter(installment__in=installments), False

    readonly_fields = (
        "loan",
        "borrower",
        "installment",
        "kind",
        "language",
        "business_date",
        "send_on",
        "time_zone",
        "due_date",
        money_column(Reminder.amount_due),
        "currency",
        rate_column(Reminder.penalty_rate),
        "penalty_from",
        "grace_until",
        rate_column(Reminder.cost_cap_rate),
        "state",
        "attempts",
        "last_error",
        "sender",
        "sent_at",
        "subject",
        "body",
        "preview",
    )
    fields = readonly_fields

    # The outbox holds every borrower's reminders: only those who see every case read it
    # (managers, finance, auditors), not a collector limited to their own cases.
    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and sees_all_cases(request.user)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("what it would say now"))
    def preview(self, obj):
        if obj.state != ReminderState.PENDING:
            return "—"
        try:
            subject, body = reminder_render(obj)
        except LookupError:
            return _("no template for this kind")
        return f"{subject}\n\n{body}"


@admin.register(ReminderTemplate)
class ReminderTemplateAdmin(_Saved, admin.ModelAdmin):
    list_display = ("kind", "language", "subject", "updated_at", "updated_by")
    list_filter = ("kind", "language")
    fields = ("kind", "language", "subject", "body", "updated_at", "updated_by")

    def get_readonly_fields(self, request, obj=None):
        # A template is one kind in one language: those are its identity, not editable.
        base = ("updated_at", "updated_by")
        return ("kind", "language", *base) if obj else base

    def service_call(self, request, obj):
        return lambda d: reminder_template_save(
            acting_user=request.user,
            kind=obj.kind if obj else d["kind"],
            language=obj.language if obj else d["language"],
            subject=d["subject"],
            body=d["body"],
        )

    def has_delete_permission(self, request, obj=None):
        return False  # the sender needs one per kind and language
