"""Compliance policies, contact holds and queues: managers edit them through the services."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from debt_collection.access import CollectionsPerm
from debt_collection.models import CompliancePolicy, ContactHold, PolicyStatus, Queue
from debt_collection.services.contacts import contact_hold_lift, contact_hold_place
from debt_collection.services.policies import (
    EDITABLE_FIELDS,
    compliance_policy_activate,
    compliance_policy_save,
)
from debt_collection.services.queues import queue_save
from lending.access import may
from lending.errors import LendingError


class ServiceForm(forms.ModelForm):
    """A ModelForm whose clean runs the service (`call`, set per request by the admin) inside
    the admin's transaction: a refusal lands on the field it names; success is saved by that
    same call, so the admin saves nothing itself."""

    call = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.saved = type(self).call(data)
        except LendingError as exc:
            field = exc.field if exc.field in self.fields else None
            raise forms.ValidationError({field or "__all__": exc.message}) from None
        return data


class _Saved:
    form = ServiceForm

    def service_call(self, request, obj):
        raise NotImplementedError

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.call = staticmethod(self.service_call(request, obj))
        return form

    def save_model(self, request, obj, form, change):
        obj.pk = form.saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # the service saved everything


def _decide(request, queryset, func, done):
    for obj in queryset:
        try:
            func(obj)
        except LendingError as exc:
            messages.error(request, f"{obj}: {exc.message}")
        else:
            messages.success(request, done % {"obj": obj})


@admin.register(CompliancePolicy)
class CompliancePolicyAdmin(_Saved, admin.ModelAdmin):
    list_display = (
        "version",
        "name",
        "status",
        "contact_from",
        "contact_until",
        "daily_connected_calls",
        "weekly_attempts",
        "activated_at",
    )
    list_filter = ("status",)
    actions = ["activate"]
    readonly_fields = ("version", "status", "activated_at", "activated_by")

    fields = ("version", "status", *EDITABLE_FIELDS, "activated_at", "activated_by")

    def service_call(self, request, obj):
        pk = getattr(obj, "pk", None)
        return lambda d: compliance_policy_save(values=d, policy_id=pk, acting_user=request.user)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self.has_activate_permission(request)

    def has_change_permission(self, request, obj=None):
        draft = obj is None or obj.status == PolicyStatus.DRAFT
        return (
            draft
            and super().has_change_permission(request, obj)
            and (self.has_activate_permission(request))
        )

    def has_delete_permission(self, request, obj=None):
        return False  # contacts name the version they were checked under

    def has_activate_permission(self, request):
        return may(request.user, CollectionsPerm.MANAGE_COMPLIANCE_POLICY)

    @admin.action(description=_("Activate the selected policy"), permissions=["activate"])
    def activate(self, request, queryset):
        _decide(
            request,
            queryset[:1],
            lambda p: compliance_policy_activate(policy_id=p.pk, acting_user=request.user),
            gettext("%(obj)s is now enforced."),
        )


@admin.register(ContactHold)
class ContactHoldAdmin(_Saved, admin.ModelAdmin):
    list_display = ("borrower", "kind", "reason", "placed_at", "placed_by", "lifted_at")
    list_filter = ("kind", ("lifted_at", admin.EmptyFieldListFilter))
    raw_id_fields = ("borrower",)
    actions = ["lift"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("borrower", "kind", "reason")
        return ("borrower", "kind", "reason", "placed_at", "placed_by", "lifted_at", "lifted_by")

    def service_call(self, request, obj):
        return lambda d: contact_hold_place(
            borrower_id=d["borrower"].pk,
            kind=d["kind"],
            reason=d["reason"],
            acting_user=request.user,
        )

    def get_readonly_fields(self, request, obj=None):
        return (
            ("borrower", "kind", "reason", "placed_at", "placed_by", "lifted_at", "lifted_by")
            if obj
            else ()
        )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self.has_manage_permission(request)

    def has_change_permission(self, request, obj=None):
        return False  # lifted by the action

    def has_delete_permission(self, request, obj=None):
        return False

    def has_manage_permission(self, request):
        return may(request.user, CollectionsPerm.MANAGE_HOLD)

    @admin.action(description=_("Lift the selected holds"), permissions=["manage"])
    def lift(self, request, queryset):
        _decide(
            request,
            queryset,
            lambda h: contact_hold_lift(hold_id=h.pk, acting_user=request.user),
            gettext("%(obj)s lifted."),
        )


@admin.register(Queue)
class QueueAdmin(_Saved, admin.ModelAdmin):
    list_display = ("name", "from_bucket", "to_bucket", "outside_agency", "active", "collectors")
    filter_horizontal = ("members",)

    fields = ("name", "from_bucket", "to_bucket", "outside_agency", "active", "members")

    def service_call(self, request, obj):
        pk = getattr(obj, "pk", None)
        return lambda d: queue_save(
            values=d, members=list(d.get("members") or []), queue_id=pk, acting_user=request.user
        )

    def has_delete_permission(self, request, obj=None):
        return False  # cases keep the queue they were in

    @admin.display(description=_("collectors"))
    def collectors(self, obj):
        return ", ".join(m.username for m in obj.members.all()) or "—"
