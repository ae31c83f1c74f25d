"""Profiles, decisions with their trace, and loan applications."""

from django.contrib import admin

from risk.admin.base import ReadOnlyAdmin
from risk.models import Decision, LoanApplication, RiskProfile


@admin.register(RiskProfile)
class RiskProfileAdmin(admin.ModelAdmin):
    list_display = (
        "borrower",
        "employment_type",
        "income_source",
        "bureau_score",
        "bureau_inquiries_6m",
        "existing_monthly_debt",
        "updated_at",
    )
    list_filter = ("employment_type", "income_source")
    search_fields = ("borrower__full_name", "=borrower__national_id", "=borrower__mobile")
    raw_id_fields = ("borrower",)


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "borrower", "outcome", "grade", "score", "limit", "policy")
    list_filter = ("outcome", "grade", "policy")
    search_fields = ("borrower__full_name",)


@admin.register(LoanApplication)
class LoanApplicationAdmin(ReadOnlyAdmin):
    list_display = ("submitted_at", "borrower", "product", "amount", "term_months", "status")
    list_filter = ("status", "product")
