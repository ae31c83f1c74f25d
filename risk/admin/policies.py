"""Policy versions: validated on save, read-only once retired, activated or copied by action,
and simulated over the current book beside the active version."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from lending.access import Perm, may
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
from risk.simulation import BAD_DPD, comparison, simulate_policy


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
    actions = ["activate", "copy_to_draft", "simulate"]
    change_form_template = "admin/risk/creditpolicy/change_form.html"

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

    def has_change_permission(self, request, obj=None):
        # Active and retired versions are shown, never saved (copy one to change it); a page
        # opened while still a draft is refused on save, not failed half-way.
        if obj is not None and obj.status not in EDITABLE:
            return False
        return super().has_change_permission(request, obj)

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

    def has_activate_permission(self, request) -> bool:
        return may(request.user, Perm.ACTIVATE_POLICY)

    @admin.action(description=_("Activate the selected version"), permissions=["activate"])
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
            try:
                copy = policy_copy(policy_id=policy.pk, acting_user=request.user)
            except LendingError as exc:
                messages.error(request, _("Version %(v)s: %(e)s") % {"v": policy.version, "e": exc})
            else:
                messages.success(request, _("Draft version %s created.") % copy.version)

    @admin.action(description=_("Simulate over the current book"), permissions=["view"])
    def simulate(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, _("Select exactly one version to simulate."))
            return None
        url = reverse("admin:risk_creditpolicy_simulate", args=[queryset.get().pk])
        return HttpResponseRedirect(url)

    def get_urls(self):
        return [
            path(
                "<int:policy_id>/simulate/",
                self.admin_site.admin_view(self.simulate_view),
                name="risk_creditpolicy_simulate",
            ),
            *super().get_urls(),
        ]

    def simulate_view(self, request, policy_id):
        """Read-only, so `view` is enough. It evaluates the whole book in the request: on a
        large book `manage.py simulate_policy` is the better tool."""
        policy = get_object_or_404(CreditPolicy, pk=policy_id)
        if not self.has_view_permission(request, policy):
            raise PermissionDenied
        try:
            result = simulate_policy(version=policy.version)
        except LendingError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("admin:risk_creditpolicy_change", args=[policy.pk]))
        titles, rows = comparison(result)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Simulate version %s over the current book") % policy.version,
            "opts": self.model._meta,
            "original": policy,
            "result": result,
            "titles": titles,
            "rows": rows,
            "bad_dpd": BAD_DPD,
        }
        return TemplateResponse(request, "admin/risk/creditpolicy/simulate.html", context)
