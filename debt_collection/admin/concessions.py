"""Waiver, settlement and write-off proposals, and recoveries: lists with approve/reject actions
and the propose / post forms. Every change is a service call; a refusal is shown as it came."""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from debt_collection.access import CollectionsPerm, sees_all_cases, visible_cases
from debt_collection.admin.common import ReadOnlyAdmin
from debt_collection.concession_selectors import (
    credited_to,
    recoveries_with_case,
    written_off_case,
)
from debt_collection.models import (
    Case,
    Queue,
    Recovery,
    SettlementProposal,
    WaiverProposal,
    WriteOffProposal,
)
from debt_collection.services.concessions import (
    settlement_decide,
    settlement_propose,
    settlement_settle_now,
    waiver_decide,
    waiver_propose,
    write_off_decide,
)
from lending.access import Perm, may
from lending.admin.columns import money_column
from lending.admin.forms import attach_error
from lending.admin.paging import BigListMixin
from lending.admin.related import Link, register
from lending.errors import LendingError
from lending.models import Loan, LoanStatus
from lending.services.concessions import recovery_post


class WaiverForm(forms.Form):
    penalty = forms.DecimalField(label=_("penalty to waive"), max_digits=18, decimal_places=2)
    interest = forms.DecimalField(
        label=_("interest to waive"), max_digits=18, decimal_places=2, required=False
    )
    reason = forms.CharField(label=_("reason"), max_length=255)


class SettlementForm(forms.Form):
    amount = forms.DecimalField(label=_("amount to pay"), max_digits=18, decimal_places=2)
    due_by = forms.DateField(label=_("to be paid by"))
    reason = forms.CharField(label=_("reason"), max_length=255)


class RecoveryForm(forms.Form):
    loan = forms.CharField(label=_("loan reference"), max_length=20)
    amount = forms.DecimalField(label=_("amount"), max_digits=18, decimal_places=2)
    value_date = forms.DateField(label=_("value date"), initial=timezone.localdate)
    idempotency_key = forms.CharField(label=_("idempotency key"), max_length=100, required=False)
    external_reference = forms.CharField(
        label=_("external reference"), max_length=100, required=False
    )


# A proposal's page: who asked, who decided, what was posted; each kind adds its figures,
# formatted as the lists show them.
PROPOSAL_FIELDS = (
    "case",
    "state",
    "reason",
    "proposed_by",
    "proposed_at",
    "decided_by",
    "decided_at",
    "decision_note",
    "transaction",
)


class ProposalAdmin(ReadOnlyAdmin):
    """Approve / reject the selected proposals; each refusal (same person, already decided,
    more than owed now) is reported with the proposal it concerns."""

    decide_perm: str = ""
    decide = staticmethod(lambda **kw: None)
    list_filter = ("state",)
    list_select_related = ("case__loan", "proposed_by", "decided_by")
    actions = ["approve", "reject"]

    def has_decide_permission(self, request):
        return may(request.user, self.decide_perm)

    def _each(self, request, queryset, call) -> int:
        """`call(proposal_id=…, acting_user=…)` for each selected proposal, a refusal reported
        with the proposal it concerns; how many went through."""
        done = 0
        for proposal in queryset.order_by("pk"):
            try:
                call(proposal_id=proposal.pk, acting_user=request.user)
            except LendingError as exc:
                messages.error(request, f"{proposal}: {exc.message} ({exc.code})")
            else:
                done += 1
        return done

    def _decide(self, request, queryset, approve: bool):
        done = self._each(request, queryset, partial(type(self).decide, approve=approve))
        if done:
            messages.success(request, gettext("%s proposals decided.") % done)

    @admin.action(description=_("Approve the selected proposals"), permissions=["decide"])
    def approve(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description=_("Reject the selected proposals"), permissions=["decide"])
    def reject(self, request, queryset):
        self._decide(request, queryset, False)

    # --- proposing from a case ----------------------------------------------------------

    propose_perm: str = ""
    propose_form = None

    def get_urls(self):
        if self.propose_form is None:
            return super().get_urls()
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "propose/<int:case_id>/",
                self.admin_site.admin_view(self.propose_view),
                name=f"{info}_propose",
            ),
            *super().get_urls(),
        ]

    def propose(self, request, case, data):
        raise NotImplementedError

    def propose_view(self, request, case_id):
        if not may(request.user, self.propose_perm):
            raise PermissionDenied
        case = visible_cases(Case.objects.select_related("loan", "borrower"), request.user)
        case = case.filter(pk=case_id).first()
        if case is None:
            raise Http404
        form = self.propose_form(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                self.propose(request, case, form.cleaned_data)
            except LendingError as exc:
                attach_error(form, exc)
            else:
                messages.success(request, gettext("Proposed; another person decides it."))
                return HttpResponseRedirect(
                    reverse("admin:collections_case_change", args=[case.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Propose a %(what)s on %(case)s")
            % {"what": self.opts.verbose_name, "case": case},
            "form": form,
            "case": case,
            "opts": Case._meta,
        }
        return TemplateResponse(request, "admin/collections/case/operation.html", context)


@admin.register(WaiverProposal)
class WaiverProposalAdmin(ProposalAdmin):
    list_display = (
        "id",
        "case",
        money_column(WaiverProposal.penalty),
        money_column(WaiverProposal.interest),
        "reason",
        "state",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "transaction",
    )
    fields = readonly_fields = (
        *PROPOSAL_FIELDS,
        money_column(WaiverProposal.penalty),
        money_column(WaiverProposal.interest),
    )
    decide_perm = CollectionsPerm.DECIDE_WAIVER
    decide = staticmethod(waiver_decide)
    propose_perm = CollectionsPerm.PROPOSE_WAIVER
    propose_form = WaiverForm

    def propose(self, request, case, data):
        waiver_propose(
            case_id=case.pk,
            penalty=data["penalty"],
            interest=data.get("interest") or 0,
            reason=data["reason"],
            acting_user=request.user,
        )


@admin.register(SettlementProposal)
class SettlementProposalAdmin(ProposalAdmin):
    list_display = (
        "id",
        "case",
        money_column(SettlementProposal.amount),
        "due_by",
        "state",
        "agreed_on",
        money_column(SettlementProposal.paid),
        "resolved_on",
        "proposed_by",
        "decided_by",
    )
    fields = readonly_fields = (
        *PROPOSAL_FIELDS,
        money_column(SettlementProposal.amount),
        "due_by",
        "agreed_on",
        money_column(SettlementProposal.paid),
        "resolved_on",
    )
    decide_perm = CollectionsPerm.DECIDE_SETTLEMENT
    decide = staticmethod(settlement_decide)
    propose_perm = CollectionsPerm.PROPOSE_SETTLEMENT
    propose_form = SettlementForm
    actions = ["approve", "reject", "settle_now"]

    @admin.action(
        description=_("Settle the selected agreements now (paid in full)"), permissions=["decide"]
    )
    def settle_now(self, request, queryset):
        """The night's settlement, today: each refusal (not paid in full yet, not running) is
        reported with the agreement it concerns."""
        done = self._each(request, queryset, settlement_settle_now)
        if done:
            messages.success(
                request,
                ngettext("%(count)s loan settled.", "%(count)s loans settled.", done)
                % {"count": done},
            )

    def propose(self, request, case, data):
        settlement_propose(
            case_id=case.pk,
            amount=data["amount"],
            due_by=data["due_by"],
            reason=data["reason"],
            acting_user=request.user,
        )


@admin.register(WriteOffProposal)
class WriteOffProposalAdmin(ProposalAdmin):
    list_display = (
        "id",
        "case",
        "dpd",
        money_column(WriteOffProposal.outstanding),
        "reason",
        "state",
        "decided_by",
    )
    fields = readonly_fields = (
        *PROPOSAL_FIELDS,
        "dpd",
        money_column(WriteOffProposal.outstanding),
    )
    decide_perm = CollectionsPerm.DECIDE_WRITE_OFF
    decide = staticmethod(write_off_decide)


class CaseFieldFilter(admin.SimpleListFilter):
    """Recoveries by the collector or queue of the case that ended in the write-off."""

    field = ""

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():  # a hand-edited address: no such collector or queue
            return queryset.none()
        return credited_to(queryset, **{self.field: int(value)})


class CollectorFilter(CaseFieldFilter):
    title = _("collector")
    parameter_name = field = "collector_id"

    def lookups(self, request, model_admin):
        ids = Case.objects.filter(close_reason="written_off").values("collector")
        return [(u.pk, str(u)) for u in get_user_model().objects.filter(pk__in=ids)]


class QueueFilter(CaseFieldFilter):
    title = _("queue")
    parameter_name = field = "queue_id"

    def lookups(self, request, model_admin):
        return [(q.pk, str(q)) for q in Queue.objects.all()]


@admin.register(Recovery)
class RecoveryAdmin(BigListMixin, ReadOnlyAdmin):
    list_display = (
        "value_date",
        "loan",
        money_column(Recovery.amount),
        "collector",
        "queue",
        "posted_by",
    )
    list_filter = (CollectorFilter, QueueFilter, "value_date")
    list_select_related = ("loan", "posted_by")
    fields = (
        "loan",
        "value_date",
        money_column(Recovery.amount),
        "external_reference",
        "channel",
        "note",
        "posted_by",
    )
    readonly_fields = fields
    actions = None

    def get_queryset(self, request):
        # The names ride along as annotations: the columns would otherwise query once per row.
        queryset = (
            recoveries_with_case()
            .annotate(
                collector_name=written_off_case("collector__username"),
                queue_name=written_off_case("queue__name"),
            )
            .select_related("loan", "posted_by")
        )
        if sees_all_cases(request.user) or not self.has_view_or_change_permission(request):
            return queryset
        return credited_to(queryset, collector_id=request.user.pk)  # their own cases' recoveries

    @admin.display(description=_("collector"))
    def collector(self, obj):
        return obj.collector_name or "—"

    @admin.display(description=_("queue"))
    def queue(self, obj):
        return obj.queue_name or "—"

    def get_urls(self):
        return [
            path(
                "post/",
                self.admin_site.admin_view(self.post_view),
                name="collections_recovery_post",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_post": may(request.user, Perm.POST_RECOVERY),
        }
        return super().changelist_view(request, extra_context)

    def post_view(self, request):
        if not may(request.user, Perm.POST_RECOVERY):
            raise PermissionDenied
        # "Post a recovery" on a written-off loan's page names the loan (_recovery_links).
        form = RecoveryForm(
            request.POST if request.method == "POST" else None,
            initial={"loan": request.GET.get("loan", "")[:20]},
        )
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            loan = Loan.objects.filter(reference=d["loan"].strip()).first()
            if loan is None:
                form.add_error("loan", gettext("no loan with this reference"))
            else:
                try:
                    recovery_post(
                        loan_id=loan.pk,
                        amount=d["amount"],
                        value_date=d["value_date"],
                        idempotency_key=d["idempotency_key"],
                        external_reference=d["external_reference"],
                        acting_user=request.user,
                    )
                except LendingError as exc:
                    attach_error(form, exc)
                else:
                    messages.success(request, gettext("Recovery posted."))
                    return HttpResponseRedirect(reverse("admin:collections_recovery_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Post a recovery on a written-off loan"),
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/collections/recovery/post.html", context)


def _recovery_links(request, loan) -> list[Link]:
    """A written-off loan's page leads to posting money recovered on it (finance) and to its
    recoveries."""
    if loan.status != LoanStatus.WRITTEN_OFF:
        return []
    links = []
    if may(request.user, Perm.POST_RECOVERY):
        url = reverse("admin:collections_recovery_post") + "?" + urlencode({"loan": loan.reference})
        links.append(Link(gettext("recovery"), gettext("Post a recovery"), url))
    if request.user.has_perm("collections.view_recovery"):
        url = reverse("admin:collections_recovery_changelist") + f"?loan__id__exact={loan.pk}"
        links.append(Link(gettext("recoveries"), gettext("recoveries on this loan"), url))
    return links


register("lending.loan", _recovery_links)
