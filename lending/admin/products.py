from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from lending.admin.forms import QuoteForm, attach_error
from lending.errors import LendingError
from lending.models import LoanProduct
from lending.selectors import product_quote
from lending.services.products import product_save


@admin.register(LoanProduct)
class LoanProductAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "repayment_method",
        "min_rate",
        "max_rate",
        "min_term_months",
        "max_term_months",
        "max_amount",
        "apr_ceiling",
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
        form = QuoteForm(request.GET or None)
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
        }
        return TemplateResponse(request, "admin/lending/quote.html", context)
