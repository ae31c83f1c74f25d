from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from lending.access import Perm, may
from lending.admin.columns import money_column
from lending.admin.figures import shown
from lending.admin.paging import BigListMixin
from lending.admin.related import related_links
from lending.admin.search import reference_or_name_search
from lending.errors import LendingError, translated
from lending.identity import IdentityError, normalize_mobile, parse_national_id
from lending.models import Borrower, EmergencyContact, Loan
from lending.pii import masked
from lending.selectors import borrower_find
from lending.services.borrowers import (
    EDITABLE,
    borrower_create,
    borrower_reveal_pii,
    borrower_update,
    borrower_validate,
    contact_fields,
    emergency_contact_add,
    emergency_contact_remove,
    emergency_contact_update,
)


class KeepCurrentPii:
    """On an existing record, personal data is never sent to the browser: its inputs start empty
    with the masked value as a placeholder, and empty means "keep the current value"."""

    pii_inputs: tuple[str, ...] = ()

    def hide_current_pii(self):
        if not self.instance.pk:
            return
        for name in self.pii_inputs:
            if name not in self.fields:  # read-only page: shown masked, not as an input
                continue
            current = masked(name, getattr(self.instance, name))
            self.initial[name] = ""
            field = self.fields[name]
            field.required = False
            field.widget.attrs["placeholder"] = current
            field.help_text = _("Leave empty to keep the current value.")

    def kept(self, name: str):
        """The submitted value, or the current one when the input was left empty."""
        value = self.cleaned_data.get(name)
        if not value and self.instance.pk:
            return getattr(self.instance, name)
        return value


class BorrowerForm(KeepCurrentPii, forms.ModelForm):
    # Wider than the stored values: staff paste "+86 139-1234-5678"; the clean_* methods
    # normalize to the 11 and 18 characters stored.
    national_id = forms.CharField(label=_("national ID"), max_length=32)
    mobile = forms.CharField(label=_("mobile phone"), max_length=32)
    pii_inputs = ("national_id", "mobile", "address")

    class Meta:
        model = Borrower
        fields = ["full_name", "national_id", "mobile", *sorted(EDITABLE - {"full_name", "mobile"})]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hide_current_pii()

    def clean_national_id(self):
        value = self.kept("national_id")
        try:
            return parse_national_id(value).number
        except IdentityError as exc:
            raise ValidationError(translated(exc)) from None

    def clean_mobile(self):
        try:
            return normalize_mobile(self.kept("mobile"))
        except IdentityError as exc:
            raise ValidationError(translated(exc)) from None

    def clean_address(self):
        return self.kept("address") or ""

    def clean(self):
        """The service's profile rules (income not negative, a blacklisting with its reason …)
        on their fields, before the database's constraints could answer in their own words."""
        data = super().clean()
        probe = Borrower(
            **{
                name: data.get(name, getattr(self.instance, name))
                for name in ("full_name", "mobile", "monthly_income")
            },
            is_blacklisted=data.get("is_blacklisted", False),
            blacklist_reason=data.get("blacklist_reason") or "",
        )
        try:
            borrower_validate(probe)
        except LendingError as exc:
            field = exc.field if exc.field in self.fields else None
            if field is None or field not in self.errors:
                self.add_error(field, exc.message)
        return data


class EmergencyContactForm(KeepCurrentPii, forms.ModelForm):
    phone = forms.CharField(label=_("phone"), max_length=32)
    pii_inputs = ("phone",)

    class Meta:
        model = EmergencyContact
        fields = ["name", "relation", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hide_current_pii()

    def clean_phone(self):
        try:
            return normalize_mobile(self.kept("phone"), field="phone")
        except IdentityError as exc:
            raise ValidationError(translated(exc)) from None


class EmergencyContactFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """The service's rules on each contact (e.g. not the borrower's own number), shown on the
        field instead of failing the save; `self.instance` carries the mobile being saved."""
        super().clean()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data.get("phone") or data.get("DELETE"):
                continue
            try:
                contact_fields(self.instance, data.get("name") or "", data["phone"])
            except LendingError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class EmergencyContactInline(admin.TabularInline):
    model = EmergencyContact
    form = EmergencyContactForm
    formset = EmergencyContactFormSet
    extra = 1

    def get_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return ["name", "relation", "phone"]
        return ["name", "relation", "masked_phone"]  # read-only pages show no personal data

    def get_readonly_fields(self, request, obj=None):
        return ["masked_phone"]

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return masked("phone", obj.phone)


MASKED_DISPLAY = {
    "national_id": "masked_national_id",
    "mobile": "masked_mobile",
    "address": "masked_address",
}
# Read-only pages also show the figures formatted (an editor's input keeps 12000.00 as typed).
READ_ONLY_DISPLAY = {**MASKED_DISPLAY, "monthly_income": money_column(Borrower.monthly_income)}


class FindBorrowerForm(forms.Form):
    identifier = forms.CharField(label=_("National ID or mobile"), max_length=32)


class LoanInline(admin.TabularInline):
    model = Loan
    fields = readonly_fields = shown(
        Loan, ("reference", "product", "principal", "status", "next_due_date")
    )
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Borrower)
class BorrowerAdmin(BigListMixin, admin.ModelAdmin):
    form = BorrowerForm
    list_display = (
        "full_name",
        "masked_national_id",
        "masked_mobile",
        "kyc_status",
        "is_blacklisted",
        money_column(Borrower.monthly_income),
        "created_at",
    )
    list_filter = ("kyc_status", "is_blacklisted", "sex")
    # GET search by name only: a national ID or phone in a URL would end up in access logs.
    # The changelist's "Find" form posts them instead (find_view), matched by keyed hash.
    search_fields = ("full_name",)
    change_list_template = "admin/lending/borrower/change_list.html"
    change_form_template = "admin/lending/borrower/change_form.html"
    readonly_fields = ("date_of_birth", "sex", "created_at", "updated_at")
    inlines = [EmergencyContactInline, LoanInline]
    fieldsets = (
        (None, {"fields": ("full_name", "national_id", "date_of_birth", "sex", "mobile")}),
        (_("Profile"), {"fields": ("address", "employer", "monthly_income", "kyc_status")}),
        (_("Blacklist"), {"fields": ("is_blacklisted", "blacklist_reason")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description=_("national ID"))
    def masked_national_id(self, obj):
        return obj.masked_national_id

    @admin.display(description=_("mobile phone"))
    def masked_mobile(self, obj):
        return obj.masked_mobile

    @admin.display(description=_("address"))
    def masked_address(self, obj):
        return masked("address", obj.address)

    def get_fieldsets(self, request, obj=None):
        """Read-only pages (no change permission) show personal data masked, like lists."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return [
            (name, {**opts, "fields": tuple(READ_ONLY_DISPLAY.get(f, f) for f in opts["fields"])})
            for name, opts in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *READ_ONLY_DISPLAY.values())

    def get_urls(self):
        return [
            path("find/", self.admin_site.admin_view(self.find_view), name="lending_borrower_find"),
            path(
                "<int:borrower_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="lending_borrower_reveal",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "find_form": FindBorrowerForm()}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        borrower = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "may_reveal": may(request.user, Perm.VIEW_PII),
            # Applying is risk's door; named by its permission, not imported (DESIGN §3.2).
            "may_apply": request.user.has_perm("risk.add_loanapplication"),
            "related_links": related_links(request, borrower) if borrower else [],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_search_results(self, request, queryset, search_term):
        """By name, or by a loan's reference or the borrower's number: what an officer has at
        hand besides the name. Never by national ID or phone in the URL. One or the other
        (lending/admin/search.py): OR-ing the name with the loans' references read every
        borrower joined to their loans."""

        def by_reference(lookup, term):
            # The borrowers of that exact reference (unique: one loan) and, for digits, the
            # borrower of that number: a few ids, so no OR of a join reaches the planner.
            loans = Loan.objects.filter(reference__iexact=term)
            ids = set(loans.values_list("borrower_id", flat=True))
            if term.isascii() and term.isdigit() and len(term) < 19:  # not "²"; fits a bigint
                ids.add(int(term))
            return queryset.filter(pk__in=ids)

        found = reference_or_name_search(
            queryset, search_term, reference=by_reference, name="full_name"
        )
        return found, False

    @method_decorator(require_POST)
    def find_view(self, request):
        """Exact lookup by national ID or mobile, posted so the number stays out of URLs."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:lending_borrower_changelist")
        form = FindBorrowerForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Enter a national ID or mobile number to find."))
            return HttpResponseRedirect(changelist)
        try:
            found = borrower_find(identifier=form.cleaned_data["identifier"])
        except LendingError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(changelist)
        if not found:
            messages.warning(request, _("No borrower has that national ID or mobile number."))
            return HttpResponseRedirect(changelist)
        if len(found) == 1:
            return HttpResponseRedirect(
                reverse("admin:lending_borrower_change", args=[found[0].pk])
            )
        ids = ",".join(str(b.pk) for b in found)
        return HttpResponseRedirect(f"{changelist}?id__in={ids}")

    def reveal_view(self, request, borrower_id):
        """The unmasked personal data of one borrower: only by POST (a deliberate click), only
        with view_pii, and every reveal is an audit event."""
        if request.method != "POST" or not may(request.user, Perm.VIEW_PII):
            raise PermissionDenied
        try:
            borrower = borrower_reveal_pii(borrower_id=borrower_id, acting_user=request.user)
        except LendingError as exc:
            raise PermissionDenied(exc.message) from None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Personal data of %s") % borrower.full_name,
            "opts": self.model._meta,
            "original": borrower,
            "contacts": borrower.emergency_contacts.all(),
        }
        response = TemplateResponse(request, "admin/lending/borrower/reveal.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.cleaned_data}
        try:
            if change:
                changed = {name: data[name] for name in form.changed_data if name in data}
                saved = borrower_update(borrower_id=obj.pk, acting_user=request.user, **changed)
            else:
                saved = borrower_create(acting_user=request.user, **data)
        except LendingError as exc:
            # The form has validated the same rules; reaching here means a race (e.g. the ID
            # was registered meanwhile). Nothing was written.
            messages.error(request, str(exc))
            raise
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        for contact in formset.save(commit=False):
            if contact.pk:
                emergency_contact_update(
                    contact_id=contact.pk,
                    name=contact.name,
                    relation=contact.relation,
                    phone=contact.phone,
                    acting_user=request.user,
                )
            else:
                emergency_contact_add(
                    borrower=form.instance,
                    name=contact.name,
                    relation=contact.relation,
                    phone=contact.phone,
                    acting_user=request.user,
                )
        for contact in formset.deleted_objects:
            emergency_contact_remove(contact_id=contact.pk, acting_user=request.user)
