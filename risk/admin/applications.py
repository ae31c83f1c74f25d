"""Profiles, decisions with their trace, and the credit officers' queue of referred applications:
each reviewed on its own page (decision, reasons, trace) and approved or declined with a note
through `application_review`, which refuses an officer's own application (four eyes)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator, capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.access import Perm, is_other_person, may
from lending.admin.columns import money_column
from lending.admin.figures import shown
from lending.admin.filters import KnownValuesFilter
from lending.admin.forms import attach_error
from lending.admin.paging import BigListMixin
from lending.admin.read_only import ReadOnlyAdmin
from lending.admin.related import Link, register
from lending.errors import LendingError
from lending.models import Borrower, LoanProduct
from lending.money import quantize_money
from risk.admin.base import (
    reason_rows,
    reasons_summary,
    render_reasons,
    render_trace,
    trace_rows,
)
from risk.models import ApplicationStatus, CreditLimit, Decision, LoanApplication, RiskProfile
from risk.policy import GRADES
from risk.selectors import exposure, with_available
from risk.services.profiles import EDITABLE, risk_profile_save
from risk.services.underwriting import application_review, application_submit

REVIEW_PERMISSION = Perm.DECIDE_APPLICATION


class BorrowerPicker(AutocompleteSelect):
    """The autocomplete picker, drawing a value that is no borrower id (`?borrower=abc`, or
    past a 64-bit integer) as nothing chosen: Django's would query with it and fail."""

    def optgroups(self, name, value, attr=None):
        ids = [v for v in value if str(v).isascii() and str(v).isdecimal() and len(str(v)) < 19]
        return super().optgroups(name, ids, attr)


class SafeBorrowerPicker:
    """For autocomplete_fields admins: the borrower picker above."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "borrower":
            kwargs["widget"] = BorrowerPicker(db_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(RiskProfile)
class RiskProfileAdmin(SafeBorrowerPicker, BigListMixin, admin.ModelAdmin):
    list_display = (
        "borrower",
        "employment_type",
        "income_source",
        "bureau_score",
        "bureau_inquiries_6m",
        money_column(RiskProfile.existing_monthly_debt),
        "updated_at",
    )
    list_filter = ("employment_type", "income_source")
    search_fields = ("borrower__full_name",)
    autocomplete_fields = ("borrower",)

    def get_readonly_fields(self, request, obj=None):
        return ("borrower",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.cleaned_data if name in EDITABLE}
        saved = risk_profile_save(borrower_id=obj.borrower_id, acting_user=request.user, **changes)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        return False  # decisions were taken on it; correct the fields instead


class GradeFilter(KnownValuesFilter):
    """A to E: every policy version grades with exactly these (risk.policy checks it)."""

    def values(self):
        return GRADES


@admin.register(Decision)
class DecisionAdmin(BigListMixin, ReadOnlyAdmin):
    list_display = (
        "created_at",
        "borrower",
        "outcome",
        "grade",
        "score",
        money_column(Decision.limit),
        "policy",
        "reasons_text",
    )
    list_filter = ("outcome", ("grade", GradeFilter), "policy")
    list_select_related = ("borrower", "policy")
    list_defer = ("trace", "profile")
    search_fields = ("borrower__full_name",)
    readonly_fields = ("created_at", "reasons_list", "trace_table", money_column(Decision.limit))
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("borrower", "policy"),
                    ("outcome", "grade", "score", readonly_fields[-1]),
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


class ApplicationForm(forms.Form):
    """What an officer types to apply; the submission service underwrites it (the rules are
    there, not here). Prefilled from the address: ?borrower=…, or a quote's product, amount,
    term and rate."""

    borrower = forms.ModelChoiceField(Borrower.objects.all(), label=capfirst(_("borrower")))
    product = forms.ModelChoiceField(
        LoanProduct.objects.filter(is_active=True).order_by("code"), label=capfirst(_("product"))
    )
    amount = forms.DecimalField(label=capfirst(_("amount")), max_digits=18, decimal_places=2)
    term_months = forms.IntegerField(label=capfirst(_("term (months)")), min_value=1, max_value=360)
    annual_rate = forms.DecimalField(
        label=capfirst(_("annual rate")),
        max_digits=9,
        decimal_places=6,
        required=False,
        help_text=_("0.18 = 18 %. Empty: the product's maximum rate."),
    )
    purpose = forms.CharField(label=capfirst(_("purpose")), max_length=200, required=False)

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        # 600+ borrowers: searched as one types (BorrowerAdmin's search), shown masked.
        field = self.fields["borrower"]
        field.widget = BorrowerPicker(LoanApplication._meta.get_field("borrower"), admin_site)
        field.widget.choices = field.choices  # a widget set after the field needs its choices


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
    # Approving books a loan: the first POST shows what will be booked, the second books it.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


@admin.register(LoanApplication)
class LoanApplicationAdmin(SafeBorrowerPicker, BigListMixin, ReadOnlyAdmin):
    # Fits 1440 px: names and codes instead of long labels, the reasons cut (full on hover),
    # and the Review link and the status right after the figures it is decided on (a long
    # English reason must not push them off the page).
    list_display = (
        "borrower_name",
        "product_code",
        "amount_shown",
        "term_months",
        "grade",
        "score",
        "review_link",
        "status",
        "reasons_text",
        "submitted_on",
    )
    list_filter = (QueueFilter, "product")
    list_select_related = ("borrower", "product", "decision")
    list_defer = ("decision__trace", "decision__profile")
    search_fields = ("borrower__full_name",)
    autocomplete_fields = ("borrower",)
    change_form_template = "admin/risk/loanapplication/change_form.html"
    # The record as stored, read-only, the amount and rate formatted (the review page says more).
    fields = readonly_fields = shown(
        LoanApplication,
        [f.name for f in LoanApplication._meta.fields if f.name != "id"],
    )

    @admin.display(description=_("submitted at"), ordering="submitted_at")
    def submitted_on(self, obj):
        return date_format(localtime(obj.submitted_at), "SHORT_DATE_FORMAT")

    @admin.display(description=_("borrower"), ordering="borrower__full_name")
    def borrower_name(self, obj):
        return obj.borrower.full_name

    @admin.display(description=_("product"), ordering="product__code")
    def product_code(self, obj):
        return obj.product.code

    @admin.display(description=_("amount"), ordering="amount")
    def amount_shown(self, obj):
        return formatting.money(obj.amount)

    @admin.display(description=_("grade"), ordering="decision__grade")
    def grade(self, obj):
        return obj.decision.grade if obj.decision else ""

    @admin.display(description=_("score"), ordering="decision__score")
    def score(self, obj):
        return obj.decision.score if obj.decision else ""

    @admin.display(description=_("reasons"))
    def reasons_text(self, obj):
        text = reasons_summary(obj.decision)
        return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(40))

    @admin.display(description="")
    def review_link(self, obj):
        url = reverse("admin:risk_loanapplication_review", args=[obj.pk])
        label = _("Review") if obj.status == ApplicationStatus.REFERRED else _("Decision")
        return format_html('<a href="{}">{}</a>', url, label)

    def has_add_permission(self, request):
        # Applying is the submission service's permission; it underwrites and books.
        return may(request.user, Perm.SUBMIT_APPLICATION)

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

    # --- applying -------------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        """Apply for a borrower through `application_submit`: the active policy decides, and an
        approval within the limit books the loan at once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        posted = request.POST if request.method == "POST" else None
        initial = self.get_changeform_initial_data(request)
        form = ApplicationForm(posted, initial=initial, admin_site=self.admin_site)
        if posted is not None and form.is_valid():
            data = form.cleaned_data
            try:
                application = application_submit(
                    borrower_id=data["borrower"].pk,
                    product=data["product"],
                    amount=data["amount"],
                    term_months=data["term_months"],
                    annual_rate=data["annual_rate"],
                    purpose=data["purpose"],
                    acting_user=request.user,
                )
            except LendingError as exc:
                attach_error(form, exc, request)
            else:
                level = {
                    ApplicationStatus.APPROVED: messages.SUCCESS,
                    ApplicationStatus.REFERRED: messages.INFO,
                }.get(application.status, messages.WARNING)
                messages.add_message(request, level, self._done(application))
                return HttpResponseRedirect(
                    reverse("admin:risk_loanapplication_review", args=[application.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("New loan application"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/risk/loanapplication/add.html", context)

    # --- reviewing ------------------------------------------------------------------------

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
        confirming = False
        if request.method == "POST":
            if not may_review:
                raise PermissionDenied
            if form.is_valid():
                approve = form.cleaned_data["decision"] == "approve"
                # The submitter's own approval goes straight to the service, which refuses it
                # (four eyes): no confirmation page for what cannot happen.
                own = not is_other_person(application.submitted_by_id, request.user)
                if approve and not form.cleaned_data["confirmed"] and not own:
                    confirming = True
                else:
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
                        return HttpResponseRedirect(
                            reverse("admin:risk_loanapplication_changelist")
                        )
        decision = application.decision
        limit = CreditLimit.objects.filter(borrower_id=application.borrower_id).first()
        used = quantize_money(exposure(application.borrower_id))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review application %s") % application.pk,
            "opts": self.model._meta,
            "application": application,
            "decision": decision,
            "reasons": reason_rows(decision) if decision else [],
            "rows": trace_rows(decision) if decision else [],
            "credit_limit": limit,
            "exposure": used,
            "form": form,
            "can_review": may_review
            and application.status == ApplicationStatus.REFERRED
            and is_other_person(application.submitted_by_id, request.user),
            "own_application": application.status == ApplicationStatus.REFERRED
            and not is_other_person(application.submitted_by_id, request.user),
        }
        if confirming:
            context.update(
                title=_("Approve application %s?") % application.pk,
                after=quantize_money(used + application.amount),
                note=form.cleaned_data["note"],
            )
            return TemplateResponse(
                request, "admin/risk/loanapplication/confirm_approve.html", context
            )
        return TemplateResponse(request, "admin/risk/loanapplication/review.html", context)

    def _done(self, application) -> str:
        """What happened, with a link to the booked loan."""
        if application.status == ApplicationStatus.APPROVED:
            text = gettext("Application %(id)s approved: loan %(loan)s booked.") % {
                "id": application.pk,
                "loan": application.loan,
            }
            url = reverse("admin:lending_loan_change", args=[application.loan_id])
            return format_html('{} <a href="{}">{}</a>', text, url, gettext("Open the loan"))
        if application.status == ApplicationStatus.REFERRED:
            return gettext(
                "Application %s is awaiting review: another credit officer decides it."
            ) % (application.pk,)
        if application.reviewed_at:
            return gettext("Application %s declined; the note is kept with it.") % application.pk
        return gettext("Application %(id)s declined: %(reasons)s") % {
            "id": application.pk,
            "reasons": reasons_summary(application.decision),
        }


# --- links on the borrower's and the loan's pages (lending/admin/related.py) ----------------


def _borrower_links(request, borrower) -> list[Link]:
    user, links = request.user, []
    if user.has_perm("risk.view_creditlimit"):
        # The limits page's own figure: nothing available while the limit is not active.
        limit = with_available(CreditLimit.objects.filter(borrower=borrower)).first()
        if limit is None:
            links.append(Link(gettext("credit limit"), gettext("none set yet")))
        else:
            text = gettext("%(amount)s · %(status)s · %(available)s available") % {
                "amount": formatting.money(limit.amount),
                "status": limit.get_status_display(),
                "available": formatting.money(limit.available),
            }
            url = reverse("admin:risk_creditlimit_change", args=[limit.pk])
            links.append(Link(gettext("credit limit"), text, url))
    if user.has_perm("risk.view_riskprofile"):
        try:
            profile = borrower.risk_profile
        except ObjectDoesNotExist:
            url = ""
            if user.has_perm("risk.add_riskprofile"):
                url = reverse("admin:risk_riskprofile_add") + f"?borrower={borrower.pk}"
            links.append(Link(gettext("risk profile"), gettext("none yet: add one"), url))
        else:
            text = gettext("%(source)s income · bureau score %(score)s") % {
                "source": profile.get_income_source_display(),
                "score": profile.bureau_score if profile.bureau_score is not None else "—",
            }
            url = reverse("admin:risk_riskprofile_change", args=[profile.pk])
            links.append(Link(gettext("risk profile"), text, url))
    if user.has_perm("risk.view_loanapplication"):
        count = borrower.applications.count()
        url = (
            reverse("admin:risk_loanapplication_changelist")
            + f"?queue=all&borrower__id__exact={borrower.pk}"
        )
        links.append(Link(gettext("loan applications"), str(count), url if count else ""))
    return links


def _loan_links(request, loan) -> list[Link]:
    if not request.user.has_perm("risk.view_loanapplication"):
        return []
    try:
        application = loan.application
    except ObjectDoesNotExist:
        return []  # migrated from another system: no application of ours
    url = reverse("admin:risk_loanapplication_review", args=[application.pk])
    text = gettext("application %(id)s · %(status)s") % {
        "id": application.pk,
        "status": application.get_status_display(),
    }
    return [Link(gettext("loan application"), text, url)]


register("lending.borrower", _borrower_links)
register("lending.loan", _loan_links)
