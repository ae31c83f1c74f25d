"""The work list: a collector's own cases by priority (managers see all), each with its
priority explained, last contact and promise state, and the case's one-click operations (log a
contact, record a promise) that call the services and show a refusal on the field it names."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from debt_collection.access import CollectionsPerm, visible_cases
from debt_collection.admin.common import ScopedAdmin
from debt_collection.admin.forms import ContactForm, PromiseForm, ReassignForm, TimeZoneForm
from debt_collection.exports import CaseExport
from debt_collection.models import Case, PromiseState, PromiseToPay
from debt_collection.priority_labels import PART_NAMES
from debt_collection.services.case_time_zone import case_time_zone_set
from debt_collection.services.cases import case_reassign
from debt_collection.services.contacts import contact_log
from debt_collection.services.promises import promise_record
from lending import formatting
from lending.access import may
from lending.admin.columns import money_column, note
from lending.admin.filters import BucketFilter
from lending.admin.forms import attach_error
from lending.admin.paging import BigListMixin
from lending.admin.search import ReferenceOrNameSearchMixin
from lending.errors import LendingError
from lending.exports import ExportSelectedMixin


def explain(parts: dict) -> str:
    return " + ".join(f"{PART_NAMES.get(k, k)} {v}" for k, v in parts.items() if v) or "0"


@admin.register(Case)
class CaseAdmin(BigListMixin, ReferenceOrNameSearchMixin, ExportSelectedMixin, ScopedAdmin):
    case_path = ""
    # Fits 1440 px with the sidebar open (tests/browser/test_widths.py): the borrower under the
    # loan, the priority's parts under it, the queue under the collector.
    list_display = (
        "id",
        "loan_and_borrower",
        "bucket",
        "dpd",
        money_column(Case.overdue_amount, _("overdue")),
        "priority_and_parts",
        "last_contact",
        "promise",
        "assigned",
        "status",
    )
    list_display_links = ("id",)
    list_filter = ("status", ("bucket", BucketFilter), "queue")
    list_select_related = ("loan", "borrower", "collector", "queue")
    ordering = ("-priority", "id")
    search_fields = ("loan__reference", "borrower__full_name")
    search_reference = "loan__reference"  # a reference or a name: lending/admin/search.py
    actions = ["reassign"]
    export_kinds = (CaseExport,)  # debt_collection/exports.py
    fields = (
        "loan",
        "borrower",
        "masked_mobile",
        "status",
        "close_reason",
        "opened_on",
        "closed_on",
        "dpd",
        "bucket",
        money_column(Case.overdue_amount),
        money_column(Case.total_outstanding),
        "time_zone",
        "priority",
        "priority_explained",
        "broken_promises",
        "last_contact_at",
        "queue",
        "collector",
        "assigned_at",
        "operations",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        latest = PromiseToPay.objects.filter(case=OuterRef("pk")).order_by("-recorded_at", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                promise_state=Subquery(latest.values("state")[:1]),
                promise_for=Subquery(latest.values("promised_for")[:1]),
            )
        )

    def has_add_permission(self, request):
        return False  # the nightly run opens cases

    def has_change_permission(self, request, obj=None):
        return False  # cases change through their operations

    def has_delete_permission(self, request, obj=None):
        return False

    def has_reassign_permission(self, request):
        return may(request.user, CollectionsPerm.REASSIGN_CASE)

    @admin.display(description=_("priority explained"))
    def priority_explained(self, obj):
        return explain(obj.priority_parts or {})

    @admin.display(description=_("loan / borrower"), ordering="loan__reference")
    def loan_and_borrower(self, obj):
        url = reverse("admin:collections_case_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>{}', url, obj.loan.reference, note(obj.borrower))

    @admin.display(description=_("priority"), ordering="priority")
    def priority_and_parts(self, obj):
        # Each part kept whole: a narrow cell breaks between the parts, not inside one.
        parts = format_html_join(
            " + ",
            '<span class="nowrap">{} {}</span>',
            ((PART_NAMES.get(k, k), v) for k, v in (obj.priority_parts or {}).items() if v),
        )
        return format_html("{}{}", obj.priority, note(parts) if parts else "")

    @admin.display(description=_("last contact"), ordering="last_contact_at")
    def last_contact(self, obj):
        # The day on the list; the time is on the case's page.
        if obj.last_contact_at is None:
            return "—"
        return format_html(
            '<span class="nowrap">{}</span>', formatting.local_date(obj.last_contact_at)
        )

    @admin.display(description=_("promise"))
    def promise(self, obj):
        state = getattr(obj, "promise_state", None)
        if not state:
            return "—"
        when = format_html('<span class="nowrap">{}</span>', formatting.local_date(obj.promise_for))
        return format_html("{}{}", PromiseState(state).label, note(when))

    @admin.display(description=_("collector"), ordering="collector__username")
    def assigned(self, obj):
        return format_html("{}{}", obj.collector or "—", note(obj.queue or "—"))

    @admin.display(description=_("mobile phone"))
    def masked_mobile(self, obj):
        return obj.borrower.masked_mobile

    def get_fields(self, request, obj=None):
        # A manager's operations add the time zone: a display method does not see the request.
        if may(request.user, CollectionsPerm.SET_TIME_ZONE):
            return [f if f != "operations" else "operations_and_time_zone" for f in self.fields]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("operations"))
    def operations_and_time_zone(self, obj):
        return self.operations(obj, time_zone=True)

    @admin.display(description=_("operations"))
    def operations(self, obj, time_zone=False):
        links = []
        if obj.status == "open":
            for name, label in (
                ("contact", _("Log a contact")),
                ("promise", _("Record a promise")),
            ):
                url = reverse(f"admin:collections_case_{name}", args=[obj.pk])
                links.append((url, label))
            for name, label in (  # admin/concessions.py: a manager decides them
                ("waiverproposal", _("Propose a waiver")),
                ("settlementproposal", _("Propose a settlement")),
            ):
                url = reverse(f"admin:collections_{name}_propose", args=[obj.pk])
                links.append((url, label))
            if time_zone:
                url = reverse("admin:collections_case_time_zone", args=[obj.pk])
                links.append((url, _("Set the time zone")))
        return format_html_join(" · ", '<a class="button" href="{}">{}</a>', links) or "—"

    # --- operations ---------------------------------------------------------------------

    def get_urls(self):
        def view(func, suffix):
            return path(
                f"<int:case_id>/{suffix}/",
                self.admin_site.admin_view(func),
                name=f"collections_case_{suffix}",
            )

        return [
            view(self.contact_view, "contact"),
            view(self.promise_view, "promise"),
            view(self.time_zone_view, "time_zone"),
            *super().get_urls(),
        ]

    def _case(self, request, case_id, perm) -> Case:
        if not may(request.user, perm):
            raise PermissionDenied
        case = visible_cases(Case.objects.select_related("loan", "borrower"), request.user)
        case = case.filter(pk=case_id).first()
        if case is None:
            raise Http404
        return case

    def _run(self, request, case, form, title, operation, done):
        if request.method == "POST" and form.is_valid():
            try:
                operation(form.cleaned_data)
            except LendingError as exc:
                attach_error(form, exc)
            else:
                messages.success(request, done)
                return HttpResponseRedirect(
                    reverse("admin:collections_case_change", args=[case.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "case": case,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/collections/case/operation.html", context)

    def contact_view(self, request, case_id):
        case = self._case(request, case_id, CollectionsPerm.LOG_CONTACT)
        data = request.POST if request.method == "POST" else None
        form = ContactForm(data, case=case)
        return self._run(
            request,
            case,
            form,
            gettext("Log a contact on %s") % case,
            lambda d: contact_log(
                case_id=case.pk,
                channel=d["channel"],
                party=d["party"],
                contacted_at=d["contacted_at"],
                connected=d["connected"],
                outcome=d["outcome"],
                note=d["note"],
                acting_user=request.user,
                emergency_contact_id=getattr(d["emergency_contact"], "pk", None),
            ),
            gettext("Contact logged."),
        )

    def promise_view(self, request, case_id):
        case = self._case(request, case_id, CollectionsPerm.RECORD_PROMISE)
        form = PromiseForm(request.POST if request.method == "POST" else None)
        return self._run(
            request,
            case,
            form,
            gettext("Record a promise on %s") % case,
            lambda d: promise_record(
                case_id=case.pk,
                amount=d["amount"],
                promised_for=d["promised_for"],
                acting_user=request.user,
            ),
            gettext("Promise recorded."),
        )

    def time_zone_view(self, request, case_id):
        case = self._case(request, case_id, CollectionsPerm.SET_TIME_ZONE)
        data = request.POST if request.method == "POST" else None
        form = TimeZoneForm(data, initial={"time_zone": case.time_zone})
        return self._run(
            request,
            case,
            form,
            gettext("Set the borrower's time zone on %s") % case,
            lambda d: case_time_zone_set(
                case_id=case.pk,
                time_zone=d["time_zone"],
                reason=d["reason"],
                acting_user=request.user,
            ),
            gettext("Time zone set: contact hours are checked in it from now on."),
        )

    @admin.action(description=_("Reassign the selected cases"), permissions=["reassign"])
    def reassign(self, request, queryset):
        applying = "apply" in request.POST
        form = ReassignForm(request.POST if applying else None)
        if applying and form.is_valid():
            d = form.cleaned_data
            try:
                done = case_reassign(
                    case_ids=list(queryset.values_list("pk", flat=True)),
                    queue_id=getattr(d["queue"], "pk", None),
                    collector_id=getattr(d["collector"], "pk", None),
                    reason=d["reason"],
                    acting_user=request.user,
                )
            except LendingError as exc:
                attach_error(form, exc)
            else:
                messages.success(request, gettext("%s cases reassigned.") % len(done))
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Reassign cases"),
            "form": form,
            "cases": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/collections/case/reassign.html", context)


def link(obj) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:collections_case_change", args=[obj.pk]), obj
    )
