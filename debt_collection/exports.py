"""The collections work list as a spreadsheet (issue 12; lending/exports.py has the rules every
export shares: permission, masking, audit, cells, size). Rows are narrowed with
`debt_collection.access.visible_cases` — the admin's and the API's own rule — so a collector
exports only their own cases, whatever list or selection the request names. Both kinds need
`collections.export_case`, the work list's export grant, besides reading it."""

from collections import defaultdict
from itertools import islice

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from debt_collection.access import CollectionsPerm, visible_cases
from debt_collection.models import Case, CaseByBorrower, CaseStatus, PromiseState, PromiseToPay
from lending.exports import CHUNK_SIZE, AuditedExport, Column, label
from lending.models import Loan
from lending.money import ZERO

EXPORT_CASE = "collections.export_case"  # the work list, whichever way it is grouped


class CaseExport(AuditedExport):
    """The work list, one row per case, as the list shows it (filters, search, order)."""

    kind = "work_list"
    display_name = _("Work list")
    model = Case
    permission = EXPORT_CASE
    reads = CollectionsPerm.VIEW_CASE
    pii_columns = ("mobile",)

    case = Column("pk", _("case"))
    loan = Column("loan__reference", label(Loan, "reference"))
    borrower = Column("borrower__full_name", label(Case, "borrower"))
    mobile = Column(column_name=_("mobile phone"))
    status = Column(column_name=label(Case, "status"))
    opened_on = Column("opened_on", label(Case, "opened_on"))
    bucket = Column("bucket", label(Case, "bucket"))
    dpd = Column("dpd", label(Case, "dpd"))
    overdue_amount = Column("overdue_amount", label(Case, "overdue_amount"), money=True)
    total_outstanding = Column("total_outstanding", label(Case, "total_outstanding"), money=True)
    priority = Column("priority", label(Case, "priority"))
    priority_explained = Column(column_name=_("priority explained"))
    last_contact_at = Column("last_contact_at", label(Case, "last_contact_at"))
    promise = Column(column_name=_("promise"))
    promised_for = Column("latest_promise_for", _("promised for"))
    collector = Column("collector__username", label(Case, "collector"))
    queue = Column("queue__name", label(Case, "queue"))

    def rows(self, queryset):
        latest = PromiseToPay.objects.filter(case=OuterRef("pk")).order_by("-recorded_at", "-pk")
        return (
            visible_cases(queryset, self.acting_user)
            .select_related("loan", "borrower", "collector", "queue")
            .annotate(
                latest_promise_state=Subquery(latest.values("state")[:1]),
                latest_promise_for=Subquery(latest.values("promised_for")[:1]),
            )
        )

    def dehydrate_mobile(self, case):
        return self.personal("mobile", case.borrower.mobile)

    def dehydrate_status(self, case):
        return case.get_status_display()

    def dehydrate_priority_explained(self, case):
        from debt_collection.admin.cases import explain  # the list's own wording

        return explain(case.priority_parts or {})

    def dehydrate_promise(self, case):
        state = getattr(case, "latest_promise_state", None)
        return PromiseState(state).label if state else ""


class CaseByBorrowerExport(AuditedExport):
    """The work list by borrower: one row per borrower with open cases this user may see, the
    loans grouped on it ("reference bucket dpd overdue; …"), the most urgent case's figures."""

    kind = "work_list_by_borrower"
    display_name = _("Work list by borrower")
    model = CaseByBorrower
    permission = EXPORT_CASE
    reads = "collections.view_casebyborrower"
    pii_columns = ("mobile",)

    borrower = Column("borrower__full_name", label(Case, "borrower"))
    mobile = Column(column_name=_("mobile phone"))
    loans = Column(column_name=_("loans"))
    cases = Column(column_name=_("open cases"))
    overdue_total = Column(column_name=_("overdue, all loans"), money=True)
    priority = Column("priority", label(Case, "priority"))
    bucket = Column("bucket", label(Case, "bucket"))
    dpd = Column("dpd", label(Case, "dpd"))
    collector = Column("collector__username", label(Case, "collector"))

    def rows(self, queryset):
        return visible_cases(queryset, self.acting_user).select_related("borrower", "collector")

    def iter_queryset(self, queryset):
        """Rows in chunks, each chunk's grouped loans read in one query (not one per row)."""
        rows = super().iter_queryset(queryset)
        while chunk := list(islice(rows, CHUNK_SIZE)):
            grouped = defaultdict(list)
            open_cases = (
                visible_cases(Case.objects.filter(status=CaseStatus.OPEN), self.acting_user)
                .filter(borrower_id__in={row.borrower_id for row in chunk})
                .select_related("loan")
                .order_by("-priority", "pk")
            )
            for case in open_cases:
                grouped[case.borrower_id].append(case)
            for row in chunk:
                row.grouped = grouped.get(row.borrower_id, [])
                yield row

    def dehydrate_mobile(self, row):
        return self.personal("mobile", row.borrower.mobile)

    def dehydrate_loans(self, row):
        return "; ".join(
            f"{c.loan.reference} {c.bucket} {c.dpd} dpd {c.overdue_amount}" for c in row.grouped
        )

    def dehydrate_cases(self, row):
        return len(row.grouped)

    def dehydrate_overdue_total(self, row):
        return sum((c.overdue_amount for c in row.grouped), ZERO)
