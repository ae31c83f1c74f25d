from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.access import Perm, may
from lending.admin.columns import money_column
from lending.admin.figures import columns_in, shown, shown_fieldsets
from lending.admin.filters import BucketFilter
from lending.admin.forms import (
    DisburseForm,
    ReasonForm,
    RepaymentForm,
    WriteOffForm,
    attach_error,
)
from lending.admin.paging import BigListMixin
from lending.admin.related import related_links
from lending.admin.search import ReferenceOrNameSearchMixin
from lending.delinquency import NPL_DPD
from lending.errors import LendingError
from lending.exports import ExportSelectedMixin, LoanExport, OverdueExport, ScheduleExport
from lending.models import Installment, Loan, Transaction, TransactionKind
from lending.selectors import loan_payoff_quote, loans_for_list
from lending.services.concessions import transaction_reverse
from lending.services.loans import (
    loan_cancel,
    loan_disburse,
    loan_reject,
    loan_write_off,
)
from lending.services.repayments import REVERSIBLE_WHILE, repayment_post
from lending.transaction_notes import note_text

# The operations on a loan's page and the permission each needs (the services check the same).
OPERATION_PERMISSIONS = {
    "cancel": Perm.CANCEL_LOAN,
    "disburse": Perm.DISBURSE_LOAN,
    "repay": Perm.POST_REPAYMENT,
    "write_off": Perm.WRITE_OFF_LOAN,
    "reverse": Perm.REVERSE_TRANSACTION,
}


class DelinquencyFilter(admin.SimpleListFilter):
    title = _("delinquency")
    parameter_name = "delinquency"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue (1+ dpd)")),
            ("npl", _("Non-performing (90+ dpd)")),
            ("write_off", _("Write-off candidates (product threshold)")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(dpd__gt=0)
        if self.value() == "npl":
            return queryset.filter(dpd__gte=NPL_DPD)
        if self.value() == "write_off":
            return queryset.filter(dpd__gte=F("product__write_off_dpd"))
        return queryset


class CreditBalanceFilter(admin.SimpleListFilter):
    """Money received beyond what was due, kept on the loan: what finance matches to the next
    installment or refunds."""

    title = _("credit balance")
    parameter_name = "credit"

    def lookups(self, request, model_admin):
        return [("yes", _("With a credit balance"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(credit_balance__gt=0)
        return queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class InstallmentInline(ReadOnlyInline):
    model = Installment
    fields = readonly_fields = shown(
        Installment,
        (
            "seq",
            "due_date",
            "principal_due",
            "interest_due",
            "fee_due",
            "penalty_due",
            "total",
            "settled",
            "outstanding_amount",
            "settled_on",
        ),
    )
    verbose_name_plural = _("schedule")

    @admin.display(description=_("total"))
    def total(self, obj):
        return formatting.money(obj.total_due)

    @admin.display(description=_("settled"))
    def settled(self, obj):
        return formatting.money(obj.total_settled)

    @admin.display(description=_("outstanding"))
    def outstanding_amount(self, obj):
        return formatting.money(obj.outstanding)


class TransactionInline(ReadOnlyInline):
    model = Transaction
    fk_name = "loan"
    fields = readonly_fields = shown(
        Transaction,
        (
            "kind",
            "value_date",
            "cash",
            "principal",
            "interest",
            "fee",
            "penalty",
            "credit",
            "external_reference",
            "posted_by",
            "note_words",
            "reverse_link",
        ),
    )

    may_reverse = False  # set per request by LoanAdmin.get_inline_instances
    loan_status = ""  # the same

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("caused_by", "posted_by")

    @admin.display(description=_("note"))
    def note_words(self, obj):
        return note_text(obj)

    @admin.display(description=_("cash moved"))
    def cash(self, obj):
        # Accruals, adjustments and write-offs move no cash (amount 0): their figure is in the
        # component columns, so "0.00" here would only mislead.
        return formatting.money(obj.amount) if obj.amount else "—"

    @admin.display(description="")
    def reverse_link(self, obj):
        if not self.may_reverse:
            return ""
        if self.loan_status not in REVERSIBLE_WHILE.get(obj.kind, ()):
            return ""  # the service would refuse it: not offered
        if hasattr(obj, "reversed_by"):
            return ""
        url = reverse("admin:lending_loan_reverse", args=[obj.loan_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Reverse"))


def repayment_message(loan, result) -> str:
    """What the payment did, in words: paid off, part kept as credit, or all of it credit."""
    txn = result.transaction
    values = {
        "amount": formatting.money(txn.amount),
        "loan": loan,
        "credit": formatting.money(txn.credit),
    }
    if result.closed:
        return _("%(amount)s posted to %(loan)s: the loan is paid off.") % values
    if txn.credit > 0 and txn.credit == txn.amount:
        return (
            _(
                "%(amount)s posted to %(loan)s as credit: nothing was due yet; it pays the next "
                "installment on its due date."
            )
            % values
        )
    if txn.credit > 0:
        return (
            _(
                "%(amount)s posted to %(loan)s; %(credit)s of it is kept as credit for what "
                "falls due next."
            )
            % values
        )
    return _("%(amount)s posted to %(loan)s.") % values


@admin.register(Loan)
class LoanAdmin(BigListMixin, ReferenceOrNameSearchMixin, ExportSelectedMixin, admin.ModelAdmin):
    list_display = (
        "reference",
        "borrower_name",
        "product_code",
        money_column(Loan.principal),
        "outstanding",
        "status",
        "dpd",
        "bucket",
        "next_due_date",
    )
    list_filter = (
        "status",
        ("bucket", BucketFilter),
        DelinquencyFilter,
        CreditBalanceFilter,
        "product",
        "repayment_method",
        "start_date",
    )
    # A reference or a name, never both across the join (lending/admin/search.py).
    search_fields = (
        "reference",
        "borrower__full_name",
    )
    list_select_related = ("borrower", "product")
    inlines = [InstallmentInline, TransactionInline]
    actions = ["disburse_selected_today"]
    export_kinds = (LoanExport, ScheduleExport, OverdueExport)  # lending/exports.py
    change_form_template = "admin/lending/loan/change_form.html"
    change_list_template = "admin/lending/loan/change_list.html"
    fieldsets = shown_fieldsets(
        Loan,
        (
            (
                None,
                {
                    "fields": (
                        "reference",
                        "borrower",
                        "product",
                        "status",
                        "status_reason",
                        "purpose",
                    )
                },
            ),
            (
                _("Contract"),
                {
                    "fields": (
                        ("principal", "annual_rate", "term_months"),
                        ("repayment_method", "day_count"),
                        ("origination_fee", "fee_collection"),
                        ("start_date", "first_due_date", "maturity_date"),
                    )
                },
            ),
            (
                _("Contract terms for arrears (fixed at booking)"),
                {
                    "fields": (
                        ("grace_days", "arrears_tolerance", "allocation_order"),
                        ("penalty_base", "penalty_start"),
                        ("penalty_rate_type", "penalty_rate_value"),
                        ("cost_cap_type", "cost_cap_value"),
                    )
                },
            ),
            (
                _("Balances"),
                {
                    "fields": (
                        ("principal_outstanding", "interest_outstanding"),
                        ("fee_outstanding", "penalty_outstanding"),
                        ("outstanding", "credit_balance", "next_due_date"),
                    )
                },
            ),
            (_("Delinquency"), {"fields": (("dpd", "bucket", "dpd_as_of"),)}),
            (
                _("Record"),
                {
                    "fields": (
                        ("created_at", "created_by"),
                        ("approved_at", "approved_by"),
                        "disbursed_at",
                        "closed_at",
                    )
                },
            ),
        ),
    )
    # Nothing on a loan's page is edited: every field is shown, the figures formatted.
    readonly_fields = [
        *(f.name for f in Loan._meta.fields),
        "outstanding",
        *columns_in(fieldsets),
    ]

    def get_queryset(self, request):
        return loans_for_list().annotate(
            outstanding_total=F("principal_outstanding")
            + F("interest_outstanding")
            + F("fee_outstanding")
            + F("penalty_outstanding")
        )

    @admin.display(description=_("borrower"), ordering="borrower__full_name")
    def borrower_name(self, obj):
        return obj.borrower.full_name  # the masked ID is on the borrower's page

    @admin.display(description=_("product"), ordering="product__code")
    def product_code(self, obj):
        return obj.product.code

    @admin.display(description=_("outstanding"), ordering="outstanding_total")
    def outstanding(self, obj):
        return formatting.money(obj.total_outstanding)

    def has_delete_permission(self, request, obj=None):
        return False  # loans carry money history (DESIGN §10)

    # Loans are booked only through their application (risk) or a book migration: no add page.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a loan changes only through the operations below, each its own permission

    def change_view(self, request, object_id, form_url="", extra_context=None):
        loan = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "may": self._operations_allowed(request),
            "related_links": related_links(request, loan) if loan else [],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        # The finance day's work lists, one click from the loans list (docs/workflows.md).
        user = request.user
        extra_context = {
            **(extra_context or {}),
            "may_disburse": may(user, Perm.DISBURSE_LOAN),
            "may_match": may(user, Perm.POST_REPAYMENT) or may(user, Perm.REFUND_CREDIT),
            "may_write_off": may(user, Perm.WRITE_OFF_LOAN),
            "sees_write_off_proposals": user.has_perm("collections.view_writeoffproposal"),
        }
        return super().changelist_view(request, extra_context)

    def _operations_allowed(self, request) -> dict[str, bool]:
        return {name: may(request.user, perm) for name, perm in OPERATION_PERMISSIONS.items()}

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            inline.may_reverse = may(request.user, Perm.REVERSE_TRANSACTION)
            inline.loan_status = obj.status if obj is not None else ""
        return inlines

    # --- per-loan operations ----------------------------------------------------------------

    def get_urls(self):
        def view(func, suffix):
            return path(
                f"<int:loan_id>/{suffix}/",
                self.admin_site.admin_view(func),
                name=f"lending_loan_{suffix}",
            )

        return [
            view(self.reject_view, "reject"),
            view(self.cancel_view, "cancel"),
            view(self.disburse_view, "disburse"),
            view(self.repay_view, "repay"),
            view(self.write_off_view, "write_off"),
            path(
                "<int:loan_id>/reverse/<int:transaction_id>/",
                self.admin_site.admin_view(self.reverse_view),
                name="lending_loan_reverse",
            ),
            *super().get_urls(),
        ]

    def _form_page(self, request, loan, form, title, preview=None):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "loan": loan,
            "preview": preview,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/lending/loan/operation.html", context)

    def _run(self, request, loan, form_class, title, operation, done, preview=None, *, perm):
        """Show the form; on a valid POST call the service and report success or its error.
        Without the operation's permission: 403 for the page and for a forged POST alike (the
        service would refuse as well; this keeps the form from being offered)."""
        if not may(request.user, perm):
            raise PermissionDenied
        form = form_class(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                outcome = operation(form.cleaned_data)
            except LendingError as exc:
                attach_error(form, exc, request)
            else:
                # An operation may say what happened better than `done`: (level, message).
                level, text = outcome if isinstance(outcome, tuple) else (messages.SUCCESS, done)
                messages.add_message(request, level, text)
                return HttpResponseRedirect(reverse("admin:lending_loan_change", args=[loan.pk]))
        return self._form_page(request, loan, form, title, preview)

    def reject_view(self, request, loan_id):
        loan = get_object_or_404(Loan, pk=loan_id)
        return self._run(
            request,
            loan,
            ReasonForm,
            _("Reject loan %s") % loan,
            lambda d: loan_reject(loan_id=loan.pk, reason=d["reason"], acting_user=request.user),
            _("Loan %s rejected.") % loan,
            perm=Perm.CANCEL_LOAN,
        )

    def cancel_view(self, request, loan_id):
        loan = get_object_or_404(Loan, pk=loan_id)
        return self._run(
            request,
            loan,
            ReasonForm,
            _("Cancel loan %s") % loan,
            lambda d: loan_cancel(loan_id=loan.pk, reason=d["reason"], acting_user=request.user),
            _("Loan %s cancelled.") % loan,
            perm=Perm.CANCEL_LOAN,
        )

    def disburse_view(self, request, loan_id):
        loan = get_object_or_404(Loan, pk=loan_id)
        return self._run(
            request,
            loan,
            DisburseForm,
            _("Disburse loan %s") % loan,
            lambda d: loan_disburse(
                loan_id=loan.pk,
                disbursement_date=d["disbursement_date"],
                first_due_date=d["first_due_date"],
                acting_user=request.user,
            ),
            _("Loan %s disbursed; its schedule is fixed.") % loan,
            perm=Perm.DISBURSE_LOAN,
        )

    def repay_view(self, request, loan_id):
        loan = get_object_or_404(Loan, pk=loan_id)
        preview = loan_payoff_quote(loan, timezone.localdate()) if loan.status == "active" else None

        def post(data):
            result = repayment_post(
                loan_id=loan.pk,
                amount=data["amount"],
                value_date=data["value_date"],
                external_reference=data["external_reference"],
                idempotency_key=data["idempotency_key"],
                channel=data["channel"],
                note=data["note"],
                acting_user=request.user,
            )
            if result.duplicate:
                return messages.WARNING, _("This payment was posted before; nothing new.")
            if result.corrections:
                messages.info(
                    request,
                    _(
                        "Valued %(date)s, before nights already closed: the loan was re-lived "
                        "from that date; penalty changed by %(penalty)s, %(count)d correction(s) "
                        "posted with the payment."
                    )
                    % {
                        "date": formatting.local_date(data["value_date"]),
                        "penalty": formatting.money(result.penalty_change),
                        "count": len(result.corrections),
                    },
                )
            return messages.SUCCESS, repayment_message(loan, result)

        return self._run(
            request,
            loan,
            RepaymentForm,
            _("Post a repayment to %s") % loan,
            post,
            _("Repayment posted to %s.") % loan,
            preview,
            perm=Perm.POST_REPAYMENT,
        )

    def write_off_view(self, request, loan_id):
        loan = get_object_or_404(Loan, pk=loan_id)
        return self._run(
            request,
            loan,
            WriteOffForm,
            _("Write off loan %s") % loan,
            lambda d: loan_write_off(
                loan_id=loan.pk,
                reason=d["reason"],
                value_date=d["value_date"],
                acting_user=request.user,
            ),
            _("Loan %s written off.") % loan,
            perm=Perm.WRITE_OFF_LOAN,
        )

    def reverse_view(self, request, loan_id, transaction_id):
        loan = get_object_or_404(Loan, pk=loan_id)
        txn = get_object_or_404(Transaction, pk=transaction_id, loan=loan)
        return self._run(
            request,
            loan,
            ReasonForm,
            _("Reverse %(txn)s on %(loan)s") % {"txn": txn, "loan": loan},
            lambda d: transaction_reverse(
                transaction_id=txn.pk, reason=d["reason"], acting_user=request.user
            ),
            _("Recovery reversed; left to recover again.")
            if txn.kind == TransactionKind.RECOVERY
            else _("Repayment reversed; balances restored."),
            perm=Perm.REVERSE_TRANSACTION,
        )

    def _call(self, request, operation, done) -> bool:
        try:
            operation()
        except LendingError as exc:
            messages.error(request, str(exc))
            return False
        messages.success(request, done)
        return True

    # --- list actions -------------------------------------------------------------------------

    def has_disburse_permission(self, request) -> bool:
        return may(request.user, Perm.DISBURSE_LOAN)

    @admin.action(description=_("Disburse selected loans today"), permissions=["disburse"])
    def disburse_selected_today(self, request, queryset):
        today = timezone.localdate()
        for loan in queryset:
            self._call(
                request,
                lambda chosen=loan: loan_disburse(
                    loan_id=chosen.pk, disbursement_date=today, acting_user=request.user
                ),
                _("Loan %s disbursed.") % loan,
            )
