"""Policy versions: validated on save, read-only once retired, activated or copied by action."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from lending.errors import LendingError
from risk.models import CreditPolicy
from risk.services.policies import (
    EDITABLE,
    policy_activate,
    policy_copy,
    policy_create,
    policy_parse,
    policy_update,
)


class PolicyForm(forms.ModelForm):
    definition = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "style": "font-family: monospace"}),
        help_text=_("Hard rules, scorecard bands, grade cut-offs, limit rules and outcomes."),
    )

    class Meta:
        model = CreditPolicy
        fields = ["name", "definition", "notes"]

    def clean_definition(self):
        definition = self.cleaned_data["definition"]
        try:
            policy_parse(definition)
        except LendingError as exc:
            raise ValidationError(exc.message) from None
        return definition


@admin.register(CreditPolicy)
class CreditPolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ("version", "name", "status", "created_at", "created_by", "activated_at")
    list_filter = ("status",)
    actions = ["activate", "copy_to_draft"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status not in EDITABLE:
            return ["name", "definition_text", "notes", "status", "version"]
        return ["status", "version"]

    def get_fields(self, request, obj=None):
        if obj is not None and obj.status not in EDITABLE:
            return ["version", "status", "name", "definition_text", "notes"]
        return ["version", "status", "name", "definition", "notes"]

    @admin.display(description=_("definition"))
    def definition_text(self, obj):
        return json.dumps(obj.definition, indent=2, ensure_ascii=False)

    def has_delete_permission(self, request, obj=None):
        return False  # decisions refer to every version

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = policy_update(
                policy_id=obj.pk,
                acting_user=request.user,
                definition=data["definition"],
                name=data["name"],
                notes=data["notes"],
            )
        else:
            saved = policy_create(
                name=data["name"],
                definition=data["definition"],
                notes=data["notes"],
                acting_user=request.user,
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

    @admin.action(description=_("Activate the selected version"), permissions=["change"])
    def activate(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, _("Select exactly one version to activate."))
            return
        try:
            policy = policy_activate(policy_id=queryset.get().pk, acting_user=request.user)
        except LendingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Version %s is now active.") % policy.version)

    @admin.action(description=_("Copy to a new draft"), permissions=["add"])
    def copy_to_draft(self, request, queryset):
        for policy in queryset:
            copy = policy_copy(policy_id=policy.pk, acting_user=request.user)
            messages.success(request, _("Draft version %s created.") % copy.version)
