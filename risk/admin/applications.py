"""Profiles, decisions with their trace, and the credit officers' queue of referred applications:
each reviewed on its own page (decision, reasons, trace) and approved or declined with a note
through `application_review`, which refuses an officer's own application (four eyes)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from lending.access import Perm
from lending.admin.forms import attach_error
from lending.admin.read_only import ReadOnlyAdmin
from lending.errors import LendingError
from lending.money import quantize_money
from risk.admin.base import (
    reason_rows,
    reasons_summary,
    render_reasons,
    render_trace,
    trace_rows,
)
from risk.models import ApplicationStatus, CreditLimit, Decision, LoanApplication, RiskProfile
from risk.selectors import exposure
from risk.services.profiles import EDITABLE, risk_profile_save
from risk.services.underwriting import application_review

REVIEW_PERMISSION = Perm.DECIDE_APPLICATION


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
    search_fields = ("borrower__full_name",)
    raw_id_fields = ("borrower",)

    def get_readonly_fields(self, request, obj=None):
        return ("borrower",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.cleaned_data if name in EDITABLE}
        saved = risk_profile_save(borrower_id=obj.borrower_id, acting_user=request.user, **changes)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        return False  # decisions were taken on it; correct the fields instead


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "borrower",
        "outcome",
        "grade",
        "score",
        "limit",
        "policy",
        "reasons_text",
    )
    list_filter = ("outcome", "grade", "policy")
    list_select_related = ("borrower", "policy")
    search_fields = ("borrower__full_name",)
    readonly_fields = ("created_at", "reasons_list", "trace_table")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("borrower", "policy"),
                    ("outcome", "grade", "score", "limit"),
                    "created_at",
                )
            },
        ),
        (_("Why"), {"fields": ("reasons_list", "trace_table"), "classes": ("wide",)}),
    )

    @admin.display(description=_("reasons"))
    def reasons_text(self, obj):
        return reasons_summary(obj)

    @admin.display(description=_("reasons, most important first"))
    def reasons_list(self, obj):
        return render_reasons(obj)

    @admin.display(description=_("trace: every rule applied"))
    def trace_table(self, obj):
        return render_trace(obj)


class QueueFilter(admin.SimpleListFilter):
    """Status, defaulting to the referred ones: the list opens as the review queue."""

    title = _("status")
    parameter_name = "queue"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [
            (ApplicationStatus.REFERRED, _("Awaiting review (the queue)")),
            (ApplicationStatus.APPROVED, _("Approved")),
            (ApplicationStatus.DECLINED, _("Declined")),
            (self.ALL, _("All")),
        ]

    def chosen(self) -> str:
        return self.value() or ApplicationStatus.REFERRED

    def choices(self, changelist):
        # Django's own adds an "All" that would mean the queue here; ours is a lookup.
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else None
        for i, (lookup, title) in enumerate(self.lookup_choices):
            yield {
                "selected": self.chosen() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": f"{title} ({counts[f'{i}__c']})" if counts else title,
            }

    def queryset(self, request, queryset):
        if self.chosen() == self.ALL:
            return queryset
        return queryset.filter(status=self.chosen())


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("decline", _("Decline"))], widget=forms.HiddenInput
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=255,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text=_("Why you approve or decline; kept with the application."),
    )


@admin.register(LoanApplication)
class LoanApplicationAdmin(ReadOnlyAdmin):
    list_display = (
        "submitted_at",
        "borrower",
        "product",
        "amount",
        "term_months",
        "grade",
        "score",
        "reasons_text",
        "status",
        "review_link",
    )
    list_filter = (QueueFilter, "product")
    list_select_related = ("borrower", "product", "decision")
    search_fields = ("borrower__full_name",)
    change_form_template = "admin/risk/loanapplication/change_form.html"

    @admin.display(description=_("grade"), ordering="decision__grade")
    def grade(self, obj):
        return obj.decision.grade if obj.decision else ""

    @admin.display(description=_("score"), ordering="decision__score")
    def score(self, obj):
        return obj.decision.score if obj.decision else ""

    @admin.display(description=_("reasons"))
    def reasons_text(self, obj):
        return reasons_summary(obj.decision)

    @admin.display(description="")
    def review_link(self, obj):
        url = reverse("admin:risk_loanapplication_review", args=[obj.pk])
        label = _("Review") if obj.status == ApplicationStatus.REFERRED else _("Decision")
        return format_html('<a href="{}">{}</a>', url, label)

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    def get_urls(self):
        return [
            path(
                "<int:application_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="risk_loanapplication_review",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, application_id):
        application = get_object_or_404(
            LoanApplication.objects.select_related(
                "borrower", "product", "decision__policy", "loan", "submitted_by", "reviewed_by"
            ),
            pk=application_id,
        )
        if not self.has_view_permission(request, application):
            raise PermissionDenied
        may_review = self.has_review_permission(request)
        form = ReviewForm(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            if not may_review:
                raise PermissionDenied
            if form.is_valid():
                approve = form.cleaned_data["decision"] == "approve"
                try:
                    reviewed = application_review(
                        application_id=application.pk,
                        approve=approve,
                        note=form.cleaned_data["note"],
                        acting_user=request.user,
                    )
                except LendingError as exc:
                    attach_error(form, exc, request)
                else:
                    messages.success(request, self._done(reviewed))
                    return HttpResponseRedirect(reverse("admin:risk_loanapplication_changelist"))
        decision = application.decision
        limit = CreditLimit.objects.filter(borrower_id=application.borrower_id).first()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review application %s") % application.pk,
            "opts": self.model._meta,
            "application": application,
            "decision": decision,
            "reasons": reason_rows(decision) if decision else [],
            "rows": trace_rows(decision) if decision else [],
            "credit_limit": limit,
            "exposure": quantize_money(exposure(application.borrower_id)),
            "form": form,
            "can_review": may_review and application.status == ApplicationStatus.REFERRED,
        }
        return TemplateResponse(request, "admin/risk/loanapplication/review.html", context)

    def _done(self, application) -> str:
        if application.status == ApplicationStatus.APPROVED:
            return _("Application %(id)s approved: loan %(loan)s booked.") % {
                "id": application.pk,
                "loan": application.loan,
            }
        return _("Application %s declined; the note is kept with it.") % application.pk
