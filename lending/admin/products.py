from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.admin.figures import columns_in, shown_fieldsets
from lending.admin.forms import QuoteForm, attach_error
from lending.errors import LendingError
from lending.models import LoanProduct
from lending.selectors import product_quote
from lending.services.products import product_save


def whole_or_money(amount) -> str:
    """A product's bounds are round figures: 200,000 keeps the list narrow; 500.50 stays exact."""
    if amount == amount.to_integral_value():
        return formatting.count(amount)
    return formatting.money(amount)


@admin.register(LoanProduct)
class LoanProductAdmin(admin.ModelAdmin):
    # Ranges in one cell each, rates as percentages: fits 1440 px with room for the name.
    list_display = (
        "code",
        "name",
        "repayment_method",
        "rates",
        "terms",
        "amounts",
        "apr_ceiling_shown",
        "is_active",
    )
    list_filter = ("repayment_method", "day_count", "is_active")
    search_fields = ("code", "name")
    change_list_template = "admin/lending/loanproduct/change_list.html"
    fieldsets = (
        (None, {"fields": ("code", "name", "currency", "is_active")}),
        (
            _("Pricing"),
            {
                "fields": (
                    "repayment_method",
                    ("min_rate", "max_rate"),
                    ("min_term_months", "max_term_months"),
                    ("min_amount", "max_amount"),
                    "day_count",
                    ("fee_type", "fee_value", "fee_collection"),
                    "apr_ceiling",
                    ("max_first_period_days", "max_overpayment"),
                )
            },
        ),
        (_("Repayments"), {"fields": ("allocation_order", "grace_days", "arrears_tolerance")}),
        (
            _("Penalty interest and caps"),
            {
                "fields": (
                    "penalty_base",
                    ("penalty_rate_type", "penalty_rate_value"),
                    "penalty_start",
                    ("cost_cap_type", "cost_cap_value"),
                    "write_off_dpd",
                )
            },
        ),
    )

    @admin.display(description=_("annual rate"), ordering="max_rate")
    def rates(self, obj):
        return f"{formatting.rate(obj.min_rate)} – {formatting.rate(obj.max_rate)}"

    @admin.display(description=_("term (months)"), ordering="max_term_months")
    def terms(self, obj):
        return f"{obj.min_term_months} – {obj.max_term_months}"

    @admin.display(description=_("amount"), ordering="max_amount")
    def amounts(self, obj):
        return f"{whole_or_money(obj.min_amount)} – {whole_or_money(obj.max_amount)}"

    @admin.display(description=_("APR ceiling"), ordering="apr_ceiling")
    def apr_ceiling_shown(self, obj):
        return formatting.rate(obj.apr_ceiling)

    def get_fieldsets(self, request, obj=None):
        """Those who may only look read the figures formatted (24.00 %, 1,000.00, the penalty
        rate in words); an editor's inputs keep the figures as typed."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return shown_fieldsets(LoanProduct, fieldsets)

    def get_readonly_fields(self, request, obj=None):
        fixed = super().get_readonly_fields(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fixed
        return (*fixed, *columns_in(self.get_fieldsets(request, obj)))

    def save_model(self, request, obj, form, change):
        # The form ran the model's clean() already (the APR ceiling rule); the service re-checks
        # inside its transaction and writes the audit event.
        product_save(product=obj, acting_user=request.user)

    def get_urls(self):
        custom = [
            path(
                "quote/",
                self.admin_site.admin_view(self.quote_view),
                name="lending_loanproduct_quote",
            )
        ]
        return custom + super().get_urls()

    def quote_view(self, request):
        # A quote shows a product's pricing: whoever may see products may quote.
        if not self.has_view_permission(request):
            raise PermissionDenied
        # Reached from a borrower's page only ?borrower= is given: an empty form, not errors.
        form = QuoteForm(request.GET if "product" in request.GET else None)
        result = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = product_quote(
                    product=data["product"],
                    amount=data["amount"],
                    annual_rate=data["rate"],
                    term_months=data["term"],
                    start_date=data["start_date"],
                    first_due_date=data["first_due_date"],
                )
            except LendingError as exc:
                attach_error(form, exc, request)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Quote a loan"),
            "form": form,
            "quote": result,
            "opts": self.model._meta,
            # Applying is risk's door, named by its permission (lending imports no risk).
            "may_apply": request.user.has_perm("risk.add_loanapplication"),
        }
        return TemplateResponse(request, "admin/lending/quote.html", context)
