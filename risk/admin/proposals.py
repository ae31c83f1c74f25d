"""Limit increase proposals: the nightly review's (or an analyst's), approved or rejected by a
risk analyst with the approve permission, never their own (four eyes)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from lending.access import Perm, may
from lending.admin.columns import money_column
from lending.errors import LendingError
from risk.models import LimitIncreaseProposal
from risk.reason_texts import stored_reason
from risk.services.limits import (
    check_increase,
    limit_increase_approve,
    limit_increase_propose,
    limit_increase_reject,
)

SHOWN = (
    "borrower",
    "status",
    money_column(LimitIncreaseProposal.current_amount),
    money_column(LimitIncreaseProposal.proposed_amount),
    "on_time_installments",
    "as_of",
    "reason_shown",
    "policy",
    "proposed_by",
    "created_at",
    "decided_by",
    "decided_at",
    "decision_note",
)


class ProposalForm(forms.ModelForm):
    """Proposing by hand; the service checks again under the limit's lock when saving."""

    class Meta:
        model = LimitIncreaseProposal
        fields = ["credit_limit", "proposed_amount", "reason"]

    def clean(self):
        data = super().clean()
        if data.get("credit_limit") and data.get("proposed_amount"):
            try:
                check_increase(data["credit_limit"], data["proposed_amount"])
            except LendingError as exc:
                raise ValidationError({exc.field: exc.message}) from None
        return data


@admin.register(LimitIncreaseProposal)
class LimitIncreaseProposalAdmin(admin.ModelAdmin):
    form = ProposalForm
    list_display = (
        "created_at",
        "borrower",
        money_column(LimitIncreaseProposal.current_amount),
        money_column(LimitIncreaseProposal.proposed_amount),
        "on_time_installments",
        "status",
        "proposed_by",
        "decided_by",
    )
    list_filter = ("status", "as_of")
    list_select_related = ("credit_limit__borrower", "proposed_by", "decided_by")
    search_fields = ("credit_limit__borrower__full_name",)
    raw_id_fields = ("credit_limit",)
    actions = ["approve", "reject"]

    def get_fields(self, request, obj=None):
        return SHOWN if obj else ["credit_limit", "proposed_amount", "reason"]

    def get_readonly_fields(self, request, obj=None):
        return SHOWN if obj else []

    @admin.display(description=_("borrower"))
    def borrower(self, obj):
        return obj.credit_limit.borrower

    @admin.display(description=_("reason"))
    def reason_shown(self, obj):
        return stored_reason(obj)

    def has_change_permission(self, request, obj=None):
        return False  # decided through the actions, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return may(request.user, Perm.APPROVE_LIMIT_PROPOSAL)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = limit_increase_propose(
            borrower=data["credit_limit"].borrower,
            amount=data["proposed_amount"],
            reason=data["reason"],
            acting_user=request.user,
        )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def _decide(self, request, queryset, service, done: str) -> None:
        for proposal in queryset.select_related("credit_limit__borrower"):
            try:
                service(proposal_id=proposal.pk, acting_user=request.user)
            except LendingError as exc:
                messages.error(request, f"{proposal.credit_limit.borrower}: {exc.message}")
            else:
                messages.success(request, done % {"borrower": proposal.credit_limit.borrower})

    @admin.action(description=_("Approve the selected proposals"), permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, limit_increase_approve, _("Limit of %(borrower)s raised."))

    @admin.action(description=_("Reject the selected proposals"), permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(
            request, queryset, limit_increase_reject, _("Proposal for %(borrower)s rejected.")
        )
