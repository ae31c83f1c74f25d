"""Policy versions: edited in a structured editor (risk/admin/policy_forms.py), read-only once
active or retired, exported and imported as JSON, put forward for activation and activated by a
second person, and simulated over the current book beside the active version."""

import copy
import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.access import Perm, may
from lending.errors import LendingError
from risk.admin.policy_forms import PolicyEditor
from risk.models import CreditPolicy, PolicyStatus
from risk.policy import DEFAULT_POLICY, PolicyError, parse_policy
from risk.services.policies import (
    EDITABLE,
    policy_activate,
    policy_copy,
    policy_create,
    policy_issues,
    policy_makers,
    policy_request_activation,
    policy_update,
)
from risk.simulation import BAD_DPD, comparison, simulate_policy

MAX_IMPORT_BYTES = 1_000_000


def _share(fraction) -> str:
    return "–" if fraction is None else formatting.rate(fraction)


def simulation_cells(figures) -> list[str]:
    """One version's column of `risk.simulation.comparison`, row for row, in the reader's
    formats (2,000 borrowers, 24.00 %, 1,234,000.00); the command prints the plain one."""
    count, money = formatting.count, formatting.money
    grades = figures.grades.values()
    return [
        count(figures.evaluated),
        *(f"{count(n)} ({_share(figures.outcome_rates[o])})" for o, n in figures.outcomes.items()),
        money(figures.total_limit),
        *(f"{count(g.count)} ({_share(g.share)})" for g in grades),
        *(f"{count(g.bad)}/{count(g.count)} ({_share(g.bad_rate)})" for g in grades),
    ]


class ImportForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    file = forms.FileField(label=_("JSON file"), required=False)
    text = forms.CharField(
        label=_("or paste the JSON"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100, "style": "font-family: monospace"}),
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_IMPORT_BYTES:
                raise forms.ValidationError(
                    {"file": gettext("is larger than 1 MB: a policy definition is a few KB")}
                )
            raw = upload.read()
        else:
            raw = (data.get("text") or "").encode()
            if len(raw) > MAX_IMPORT_BYTES:
                raise forms.ValidationError(
                    {"text": gettext("is larger than 1 MB: a policy definition is a few KB")}
                )
        if not raw.strip():
            raise forms.ValidationError({"text": gettext("upload a JSON file or paste the JSON")})
        try:
            data["definition"] = json.loads(raw.decode("utf-8"), parse_float=str)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # deep nesting too
            where = "file" if upload is not None else "text"
            raise forms.ValidationError(
                {where: gettext("is not valid JSON: %(error)s") % {"error": exc}}
            ) from None
        return data


@admin.register(CreditPolicy)
class CreditPolicyAdmin(admin.ModelAdmin):
    list_display = ("version", "name", "status", "created_at", "created_by", "activated_at")
    list_filter = ("status",)
    actions = ["activate", "request_activation", "copy_to_draft", "simulate"]

    def has_delete_permission(self, request, obj=None):
        return False  # decisions refer to every version

    def has_change_permission(self, request, obj=None):
        # Active and retired versions are shown, never saved (copy one to change it); a page
        # opened while still a draft is refused on save, not failed half-way.
        if obj is not None and obj.status not in EDITABLE:
            return False
        return super().has_change_permission(request, obj)

    def has_activate_permission(self, request) -> bool:
        return may(request.user, Perm.ACTIVATE_POLICY)

    # ---- the editor (add and change pages)

    def _changeform_view(self, request, object_id, form_url, extra_context):
        policy = None
        if object_id is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
            editable = True
            active = CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE).first()
            definition = copy.deepcopy(active.definition if active else DEFAULT_POLICY)
        else:
            policy = self.get_object(request, unquote(object_id))
            if policy is None:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
            if not self.has_view_or_change_permission(request, policy):
                raise PermissionDenied
            editable = self.has_change_permission(request, policy)
            definition = policy.definition
        if request.method == "POST" and not editable:
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        editor = PolicyEditor.build(
            definition=definition, policy=policy, data=data, disabled=not editable
        )
        if data is not None:
            saved = self._save(request, editor, policy)
            if saved is not None:
                return saved
        return self._render_editor(request, editor, policy, editable)

    def _save(self, request, editor: PolicyEditor, policy):
        """The policy written and a redirect, or None with every problem shown on the page."""
        definition = editor.definition()
        forms_ok = editor.forms_valid()
        editor.name_errors()  # the forms' own, before the policy's are added to them
        try:
            parse_policy(definition)
        except PolicyError as exc:
            editor.show(policy_issues(exc))
            forms_ok = False
        if not forms_ok or editor.problems:
            return None
        fields = editor.version.cleaned_data
        try:
            if policy is None:
                policy = policy_create(
                    name=fields["name"],
                    definition=definition,
                    notes=fields["notes"],
                    acting_user=request.user,
                )
            else:
                policy = policy_update(
                    policy_id=policy.pk,
                    definition=definition,
                    name=fields["name"],
                    notes=fields["notes"],
                    acting_user=request.user,
                )
        except LendingError as exc:
            transaction.set_rollback(True)
            editor.problems.append(exc.message)
            return None
        messages.success(
            request, gettext("Version %(version)s saved.") % {"version": policy.version}
        )
        if "_simulate" in request.POST:
            target = "admin:risk_creditpolicy_simulate"
        else:
            target = "admin:risk_creditpolicy_change"
        return HttpResponseRedirect(reverse(target, args=[policy.pk]))

    def _render_editor(self, request, editor, policy, editable):
        if policy is None:
            title = gettext("New credit policy draft")
        elif editable:
            title = gettext("Edit credit policy version %(version)s") % {"version": policy.version}
        else:
            title = gettext("Credit policy version %(version)s") % {"version": policy.version}
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "original": policy,
            "editor": editor,
            "editable": editable,
            "has_view_permission": True,
            **self._next_steps(request, policy),
        }
        return TemplateResponse(request, "admin/risk/creditpolicy/editor.html", context)

    def _next_steps(self, request, policy) -> dict:
        """What the reader can do next with this version, and why not when they cannot."""
        if policy is None:
            return {}
        may_change = self.has_change_permission(request, policy)
        may_activate = policy.status in EDITABLE and self.has_activate_permission(request)
        wrote_it = request.user.pk in policy_makers(policy)
        return {
            "can_request": policy.status == PolicyStatus.DRAFT and may_change,
            "can_activate": may_activate and not wrote_it,
            "activate_blocked": may_activate and wrote_it,
            "can_copy": self.has_add_permission(request),
            "awaiting": policy.status == PolicyStatus.CANDIDATE,
        }

    # ---- JSON out and in

    def get_urls(self):
        return [
            path(
                "<int:policy_id>/simulate/",
                self.admin_site.admin_view(self.simulate_view),
                name="risk_creditpolicy_simulate",
            ),
            path(
                "<int:policy_id>/definition.json",
                self.admin_site.admin_view(self.json_view),
                name="risk_creditpolicy_json",
            ),
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="risk_creditpolicy_import",
            ),
            *super().get_urls(),
        ]

    def json_view(self, request, policy_id):
        policy = get_object_or_404(CreditPolicy, pk=policy_id)
        if not self.has_view_permission(request, policy):
            raise PermissionDenied
        body = json.dumps(policy.definition, indent=2, ensure_ascii=False) + "\n"
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        filename = f"credit-policy-v{policy.version}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def import_view(self, request):
        """A new draft from a JSON definition, checked by the same validator as the editor."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            definition = form.cleaned_data["definition"]
            try:
                parse_policy(definition)
            except PolicyError as exc:
                problems = [f"{rule}: {message}" for rule, message in policy_issues(exc)]
            else:
                try:
                    policy = policy_create(
                        name=form.cleaned_data["name"],
                        definition=definition,
                        notes=gettext("imported from JSON"),
                        acting_user=request.user,
                    )
                except LendingError as exc:
                    problems = [str(exc)]
                else:
                    messages.success(
                        request,
                        gettext("Draft version %(version)s created from the JSON.")
                        % {"version": policy.version},
                    )
                    url = reverse("admin:risk_creditpolicy_change", args=[policy.pk])
                    return HttpResponseRedirect(url)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Create a draft from JSON"),
            "opts": self.opts,
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/risk/creditpolicy/import.html", context)

    # ---- actions (also the buttons of the editor and the simulation page)

    def _one(self, request, queryset, message):
        if queryset.count() != 1:
            messages.error(request, message)
            return None
        return queryset.get()

    def _back(self, request, policy):
        """Back to the page the button was on (the editor or the simulation), else the list."""
        if request.POST.get("_from") == "simulate":
            return HttpResponseRedirect(
                reverse("admin:risk_creditpolicy_simulate", args=[policy.pk])
            )
        if request.POST.get("_from") == "change":
            return HttpResponseRedirect(reverse("admin:risk_creditpolicy_change", args=[policy.pk]))
        return None

    @admin.action(description=_("Activate the selected version"), permissions=["activate"])
    def activate(self, request, queryset):
        policy = self._one(request, queryset, gettext("Select exactly one version to activate."))
        if policy is None:
            return None
        try:
            policy = policy_activate(policy_id=policy.pk, acting_user=request.user)
        except LendingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, gettext("Version %s is now active.") % policy.version)
        return self._back(request, policy)

    @admin.action(description=_("Put forward for activation"), permissions=["change"])
    def request_activation(self, request, queryset):
        policy = self._one(
            request, queryset, gettext("Select exactly one version to put forward for activation.")
        )
        if policy is None:
            return None
        try:
            policy = policy_request_activation(policy_id=policy.pk, acting_user=request.user)
        except LendingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                gettext(
                    "Version %(version)s is put forward for activation: another analyst or an "
                    "administrator activates it."
                )
                % {"version": policy.version},
            )
        return self._back(request, policy)

    @admin.action(description=_("Copy to a new draft"), permissions=["add"])
    def copy_to_draft(self, request, queryset):
        copied = None
        for policy in queryset:
            try:
                copied = policy_copy(policy_id=policy.pk, acting_user=request.user)
            except LendingError as exc:
                messages.error(
                    request, gettext("Version %(v)s: %(e)s") % {"v": policy.version, "e": exc}
                )
            else:
                url = reverse("admin:risk_creditpolicy_change", args=[copied.pk])
                messages.success(
                    request,
                    format_html(
                        '<a href="{}">{}</a>',
                        url,
                        gettext("Draft version %s created.") % copied.version,
                    ),
                )
        if copied is not None and queryset.count() == 1 and request.POST.get("_from"):
            return HttpResponseRedirect(reverse("admin:risk_creditpolicy_change", args=[copied.pk]))
        return None

    @admin.action(description=_("Simulate over the current book"), permissions=["view"])
    def simulate(self, request, queryset):
        policy = self._one(request, queryset, gettext("Select exactly one version to simulate."))
        if policy is None:
            return None
        url = reverse("admin:risk_creditpolicy_simulate", args=[policy.pk])
        return HttpResponseRedirect(url)

    # ---- simulation

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
        titles, plain = comparison(result)
        shown = [result.active, result.candidate] if result.compared else [result.candidate]
        columns = [simulation_cells(figures) for figures in shown]
        rows = [(label, [column[i] for column in columns]) for i, (label, _) in enumerate(plain)]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Simulate version %s over the current book") % policy.version,
            "opts": self.opts,
            "original": policy,
            "result": result,
            "coverage": result.coverage,
            "titles": titles,
            "rows": rows,
            "bad_dpd": BAD_DPD,
            "editable": self.has_change_permission(request, policy),
            **self._next_steps(request, policy),
        }
        return TemplateResponse(request, "admin/risk/creditpolicy/simulate.html", context)
