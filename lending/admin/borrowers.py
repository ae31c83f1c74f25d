from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from lending.errors import LendingError
from lending.identity import IdentityError, normalize_mobile, parse_national_id
from lending.models import Borrower, EmergencyContact, Loan
from lending.services.borrowers import (
    EDITABLE,
    borrower_create,
    borrower_update,
    emergency_contact_add,
)


class BorrowerForm(forms.ModelForm):
    # Wider than the stored columns: staff paste "+86 139-1234-5678"; the clean_* methods
    # normalize to the 11 and 18 characters stored.
    national_id = forms.CharField(label=_("national ID"), max_length=32)
    mobile = forms.CharField(label=_("mobile phone"), max_length=32)

    class Meta:
        model = Borrower
        fields = ["full_name", "national_id", "mobile", *sorted(EDITABLE - {"full_name", "mobile"})]

    def clean_national_id(self):
        try:
            return parse_national_id(self.cleaned_data["national_id"]).number
        except IdentityError as exc:
            raise ValidationError(exc.message) from None

    def clean_mobile(self):
        try:
            return normalize_mobile(self.cleaned_data["mobile"])
        except IdentityError as exc:
            raise ValidationError(exc.message) from None


class EmergencyContactForm(forms.ModelForm):
    phone = forms.CharField(label=_("phone"), max_length=32)

    class Meta:
        model = EmergencyContact
        fields = ["name", "relation", "phone"]

    def clean_phone(self):
        try:
            return normalize_mobile(self.cleaned_data["phone"], field="phone")
        except IdentityError as exc:
            raise ValidationError(exc.message) from None


class EmergencyContactInline(admin.TabularInline):
    model = EmergencyContact
    form = EmergencyContactForm
    extra = 1


class LoanInline(admin.TabularInline):
    model = Loan
    fields = ("reference", "product", "principal", "status", "next_due_date")
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Borrower)
class BorrowerAdmin(admin.ModelAdmin):
    form = BorrowerForm
    list_display = (
        "full_name",
        "masked_national_id",
        "masked_mobile",
        "kyc_status",
        "is_blacklisted",
        "monthly_income",
        "created_at",
    )
    list_filter = ("kyc_status", "is_blacklisted", "sex")
    # Staff search by name, full ID or phone; lists only ever show them masked.
    search_fields = ("full_name", "=national_id", "=mobile")
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
                contact.save()
            else:
                emergency_contact_add(
                    borrower=form.instance,
                    name=contact.name,
                    relation=contact.relation,
                    phone=contact.phone,
                    acting_user=request.user,
                )
        for contact in formset.deleted_objects:
            contact.delete()
