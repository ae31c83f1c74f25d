"""Spreadsheet exports (issue 12, DESIGN §9–10): the loans list, schedules and the overdue list
here; the collections work list in debt_collection/exports.py; nightly runs in
lending/close_of_business/exports.py. docs/exports.md says the same in words.

django-import-export does the admin screens (the list's Export button, the "export selected"
action, the choice of kind, format and columns) and the row loop over a chunked
`queryset.iterator()`. What it cannot do is written here, once, for every kind:

* who may: bulk export is a grant of its own. Each kind names its export permission
  (`permission`: `lending.export_loan`, …) and the view permission of what it holds (`reads`):
  a role needs both. The check is in `AuditedExport.export`, so any door calling it obeys it;
* personal data: national ID and mobile go out masked by `lending.pii.masked` — the admin's own
  rule — unless the user holds `lending.view_pii` *and* `lending.export_pii` (revealing one
  borrower is not taking every borrower's numbers away) *and* ticked "unmasked" on the form;
* every export is an audit event (who, which kind, how many rows, which columns, unmasked or not);
* cells: money as exact decimals with two places, dates ISO 8601, text that a spreadsheet would
  run as a formula (=, +, -, @) neutralised; XLSX keeps numbers and dates typed;
* size: more rows than `EXPORT_MAX_ROWS` (setting, default 100,000) is refused with the count,
  before anything is read: the file is built in memory, so the limit bounds it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from io import BytesIO

from django import forms
from django.conf import settings
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ExportActionMixin, ExportMixin
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.forms import SelectableFieldsExportForm

from lending.access import Perm, may, require
from lending.errors import LendingError, LendingErrorCode
from lending.models import Installment, Loan, LoanStatus
from lending.models.loans import INSTALLMENT_OUTSTANDING
from lending.money import quantize_money
from lending.pii import masked
from lending.services.audit import audit_log

DEFAULT_MAX_ROWS = 100_000
CHUNK_SIZE = 2_000  # rows per database round trip (queryset.iterator / paginator)

# A cell a spreadsheet would run as a formula starts with one of these (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportPerm(StrEnum):
    """lending's export grants (declared in the models' Meta; docs/exports.md says who holds
    them). collections' and the night's are beside their kinds."""

    EXPORT_LOAN = "lending.export_loan"  # the loan book and its schedules
    EXPORT_OVERDUE = "lending.export_overdue"  # the overdue list
    EXPORT_PII = "lending.export_pii"  # national ID and mobile unmasked, in bulk


def may_unmask(user) -> bool:
    """Whether `user` may take national ID and mobile unmasked in an export: the right to see
    them and the right to take them away in bulk."""
    return may(user, Perm.VIEW_PII) and may(user, ExportPerm.EXPORT_PII)


def export_limit() -> int:
    return getattr(settings, "EXPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


def label(model, name: str):
    """A column named as the admin names the field (its translated verbose name)."""
    return model._meta.get_field(name).verbose_name


# --- cells -------------------------------------------------------------------------------


class Column(Field):
    """A column; `money` ones are shown with two places, whatever the value's own exponent."""

    def __init__(self, attribute=None, column_name=None, *, money: bool = False, **kwargs):
        super().__init__(attribute=attribute, column_name=column_name, readonly=True, **kwargs)
        self.money = money


def cell(value, *, native: bool, money: bool = False):
    """One value as it goes into the file: native types for XLSX (typed cells), text for CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if money:
        value = quantize_money(value)
    if isinstance(value, Decimal):
        return value if native else f"{value:f}"
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        if native:
            return local.replace(tzinfo=None)  # Excel has no time zones: local wall time
        return local.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value if native else value.isoformat()
    if isinstance(value, int):
        return value if native else str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text  # shown as typed, never run
    return text


def counts_text(counts: dict | None) -> str:
    """A step's or chunk's counts on one line: "loans_examined=3, loans_cured=1"."""
    return ", ".join(f"{key}={value}" for key, value in sorted((counts or {}).items()))


# --- the base of every export ------------------------------------------------------------


class ExportTooLarge(ValueError):
    """Refused before anything is read; the admin shows the message on the export form."""


class _Exported:
    """What an export's audit event is recorded against: a kind of record, not one row."""

    pk = "*"

    def __init__(self, model):
        self._meta = model._meta


class AuditedExport(resources.Resource):
    """An export kind: its columns (declared `Column`s, dehydrate_<name> for computed ones),
    which rows of the queryset it holds (`rows`), who may take it (`permission`, the export
    grant, and `reads`, the view permission of what it holds: both are needed) and which of
    its columns carry personal data (`pii_columns`, masked unless unmasking was chosen)."""

    kind = ""  # the audit event's "export.<kind>" and the file name
    model = None
    permission: str = ""
    reads: str = ""
    pii_columns: tuple[str, ...] = ()

    class Meta:
        chunk_size = CHUNK_SIZE

    def __init__(self, *, acting_user=None, unmask_pii: bool = False, filters: str = "", **kw):
        super().__init__(**kw)
        self.acting_user = acting_user
        self.unmask_pii = unmask_pii
        self.filters = filters

    @classmethod
    def get_display_name(cls):
        return cls.display_name

    @classmethod
    def may_export(cls, user) -> bool:
        return may(user, cls.permission) and may(user, cls.reads)

    # --- rows -----------------------------------------------------------------------------

    def rows(self, queryset):
        """The rows this kind holds, given the records the list shows (override)."""
        return queryset

    def filter_export(self, queryset, **kwargs):
        queryset = self.rows(queryset)
        count = queryset.count()
        if count > export_limit():
            raise ExportTooLarge(
                gettext(
                    "%(count)s rows is more than one export holds (%(limit)s): narrow the list "
                    "with its filters or search, or select rows, and export again."
                )
                % {"count": count, "limit": export_limit()}
            )
        return queryset

    # --- cells ----------------------------------------------------------------------------

    def personal(self, column: str, value) -> str:
        """National ID or mobile: masked as the admin masks it, unless unmasking was chosen."""
        if self.unmask_pii:
            return "" if value is None else str(value)
        return masked(column, value)

    def export_field(self, field, instance, **kwargs):
        name = self.get_field_name(field)
        method = getattr(self, f"dehydrate_{name}", None)
        value = method(instance) if method is not None else field.get_value(instance)
        return cell(value, native=kwargs.get("native_cells", False), money=field.money)

    # --- the act --------------------------------------------------------------------------

    def export(self, queryset=None, **kwargs):
        """The rows as a tablib Dataset; refused without the kind's permission (and without
        view_pii when unmasking was asked for); audited."""
        require(self.acting_user, self.reads, to=f"read {self.kind}")
        require(self.acting_user, self.permission, to=f"export {self.kind}")
        if self.unmask_pii and not may_unmask(self.acting_user):
            raise LendingError(
                LendingErrorCode.PERMISSION_DENIED,
                "you do not have permission to export personal data unmasked",
            )
        if queryset is None:
            raise ValueError("an export needs the records it is taken from")
        dataset = super().export(queryset, **kwargs)
        selected = [
            self.get_field_name(f) for f in self.get_export_fields(kwargs.get("export_fields"))
        ]
        unmasked = self.unmask_pii and any(name in self.pii_columns for name in selected)
        with transaction.atomic():
            audit_log(
                actor=self.acting_user,
                action=f"export.{self.kind}",
                obj=_Exported(self.model),
                summary=f"exported {dataset.height} rows of {self.kind}"
                + (" with personal data unmasked" if unmasked else ""),
                data={
                    "kind": self.kind,
                    "rows": dataset.height,
                    "format": kwargs.get("export_format", ""),
                    "columns": selected,
                    "pii_unmasked": unmasked,
                    "filters": self.filters,
                },
            )
        return dataset


# --- formats -----------------------------------------------------------------------------


class CsvExport(base_formats.CSV):
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""

    def export_data(self, dataset, **kwargs):
        return "\ufeff" + dataset.export("csv")


class XlsxExport(base_formats.XLSX):
    """Typed cells: numbers with their places ("0.00" for money), dates and times formatted
    ISO-like, a bold header row; written with openpyxl's write-only workbook."""

    native_cells = True

    def export_data(self, dataset, **kwargs):
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Font

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=(dataset.title or "export")[:31])
        bold = Font(bold=True)

        def typed(value):
            if isinstance(value, str):
                return WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            written = WriteOnlyCell(sheet, value=value)
            if isinstance(value, Decimal):
                places = max(0, -value.as_tuple().exponent)
                written.number_format = "0." + "0" * places if places else "0"
            elif isinstance(value, dt.datetime):
                written.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(value, dt.date):
                written.number_format = "yyyy-mm-dd"
            return written

        header = []
        for name in dataset.headers or []:
            title = WriteOnlyCell(sheet, value=name)
            title.font = bold
            header.append(title)
        sheet.append(header)
        for row in dataset:
            sheet.append([typed(value) for value in row])
        out = BytesIO()
        book.save(out)
        return out.getvalue()


# --- the admin side (the admin modules only list their kinds) -----------------------------


class ExportOptionsForm(SelectableFieldsExportForm):
    unmask_pii = forms.BooleanField(
        label=_("National ID and mobile unmasked"),
        required=False,
        help_text=_(
            "Only with the permission to see personal data. Every export is audited, "
            "and whether it was unmasked."
        ),
    )


class ExportButtonMixin(ExportMixin):
    """The list's Export button: what the list shows (its filters and search), in the kinds
    the user may take (`export_kinds`), as CSV or XLSX."""

    export_kinds: tuple[type[AuditedExport], ...] = ()
    export_formats = [CsvExport, XlsxExport]
    export_form_class = ExportOptionsForm
    change_form_template = None  # the model's own (import_export's adds a button we don't use)
    show_change_form_export = False

    def get_export_resource_classes(self, request):
        return [kind for kind in self.export_kinds if kind.may_export(request.user)]

    def has_export_permission(self, request):
        return self.has_view_permission(request) and bool(self.get_export_resource_classes(request))

    def get_export_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("export_form")
        chosen = getattr(form, "cleaned_data", None) or {}
        return {
            "acting_user": request.user,
            "unmask_pii": bool(chosen.get("unmask_pii")),
            "filters": request.GET.urlencode()[:500],
        }

    def init_request_context_data(self, request, form):
        kinds = self.get_export_resource_classes(request)
        if not (may_unmask(request.user) and any(k.pii_columns for k in kinds)):
            form.fields.pop("unmask_pii", None)  # offered only to who may and where it matters
        return super().init_request_context_data(request, form)

    def export_action(self, request):
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            # A filter the list does not have: back to the list, as Django answers it there.
            opts = self.model._meta
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")

    def get_valid_export_item_pks(self, request):
        # The selected rows, among those this user's list holds (never the whole table); a
        # value that is no row id is no choice (the form says so).
        chosen = [
            pk for pk in request.POST.getlist("export_items") if pk.isdigit() and len(pk) <= 18
        ]
        queryset = self.get_export_queryset(request).filter(pk__in=chosen)
        return [str(pk) for pk in queryset.values_list("pk", flat=True)]

    def get_data_for_export(self, request, queryset, **kwargs):
        kind = self.choose_export_resource_class(kwargs.get("export_form"), request)
        request.export_kind = kind.kind  # for the file name
        return super().get_data_for_export(request, queryset, **kwargs)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        kwargs["export_format"] = file_format.get_extension()
        kwargs["native_cells"] = getattr(file_format, "native_cells", False)
        try:
            return super().get_export_data(file_format, request, queryset, **kwargs)
        except LendingError as exc:
            if exc.code == LendingErrorCode.PERMISSION_DENIED:
                raise PermissionDenied(exc.message) from None
            raise ValueError(exc.message) from None

    def get_export_filename(self, request, queryset, file_format):
        kind = getattr(request, "export_kind", self.model._meta.model_name)
        return f"{kind}-{timezone.localdate():%Y-%m-%d}.{file_format.get_extension()}"


class ExportSelectedMixin(ExportButtonMixin, ExportActionMixin):
    """The Export button and the list action "Export selected …"."""


# --- lending's kinds ---------------------------------------------------------------------


class LoanExport(AuditedExport):
    kind = "loans"
    display_name = _("Loans")
    model = Loan
    permission = ExportPerm.EXPORT_LOAN
    reads = "lending.view_loan"
    pii_columns = ("national_id", "mobile")

    reference = Column("reference", label(Loan, "reference"))
    borrower = Column("borrower__full_name", _("borrower"))
    national_id = Column(column_name=_("national ID"))
    mobile = Column(column_name=_("mobile phone"))
    product = Column("product__code", label(Loan, "product"))
    status = Column(column_name=label(Loan, "status"))
    currency = Column("currency", label(Loan, "currency"))
    principal = Column("principal", label(Loan, "principal"), money=True)
    annual_rate = Column("annual_rate", label(Loan, "annual_rate"))
    term_months = Column("term_months", label(Loan, "term_months"))
    start_date = Column("start_date", label(Loan, "start_date"))
    maturity_date = Column("maturity_date", label(Loan, "maturity_date"))
    principal_outstanding = Column(
        "principal_outstanding", label(Loan, "principal_outstanding"), money=True
    )
    interest_outstanding = Column(
        "interest_outstanding", label(Loan, "interest_outstanding"), money=True
    )
    fee_outstanding = Column("fee_outstanding", label(Loan, "fee_outstanding"), money=True)
    penalty_outstanding = Column(
        "penalty_outstanding", label(Loan, "penalty_outstanding"), money=True
    )
    outstanding = Column(column_name=_("outstanding"), money=True)
    credit_balance = Column("credit_balance", label(Loan, "credit_balance"), money=True)
    next_due_date = Column("next_due_date", label(Loan, "next_due_date"))
    dpd = Column("dpd", label(Loan, "dpd"))
    bucket = Column("bucket", label(Loan, "bucket"))

    def rows(self, queryset):
        return queryset.select_related("borrower", "product")

    def dehydrate_national_id(self, loan):
        return self.personal("national_id", loan.borrower.national_id)

    def dehydrate_mobile(self, loan):
        return self.personal("mobile", loan.borrower.mobile)

    def dehydrate_status(self, loan):
        return loan.get_status_display()

    def dehydrate_outstanding(self, loan):
        return loan.total_outstanding


class ScheduleExport(AuditedExport):
    """The installments of the loans the list shows (or of the selected ones)."""

    kind = "schedules"
    display_name = _("Schedules of these loans")
    model = Installment
    permission = ExportPerm.EXPORT_LOAN
    reads = "lending.view_installment"

    loan = Column("loan__reference", label(Loan, "reference"))
    borrower = Column("loan__borrower__full_name", _("borrower"))
    seq = Column("seq", label(Installment, "seq"))
    period_start = Column("period_start", label(Installment, "period_start"))
    due_date = Column("due_date", label(Installment, "due_date"))
    principal_due = Column("principal_due", label(Installment, "principal_due"), money=True)
    interest_due = Column("interest_due", label(Installment, "interest_due"), money=True)
    fee_due = Column("fee_due", label(Installment, "fee_due"), money=True)
    penalty_due = Column("penalty_due", label(Installment, "penalty_due"), money=True)
    total_due = Column(column_name=_("total"), money=True)
    total_settled = Column(column_name=_("settled"), money=True)
    outstanding = Column(column_name=_("outstanding"), money=True)
    settled_on = Column("settled_on", label(Installment, "settled_on"))

    def rows(self, queryset):
        return (
            Installment.objects.filter(loan_id__in=queryset.order_by().values("pk"))
            .select_related("loan__borrower")
            .order_by("loan__reference", "seq")
        )

    def dehydrate_total_due(self, installment):
        return installment.total_due

    def dehydrate_total_settled(self, installment):
        return installment.total_settled

    def dehydrate_outstanding(self, installment):
        return installment.outstanding


def overdue_amount_as_of_dpd():
    """What is overdue on a loan as of the night its dpd was measured: its installments due
    before that date and not settled (the night's own measure, lending_steps.flag_overdue)."""
    late = (
        Installment.objects.filter(
            loan_id=OuterRef("pk"), due_date__lt=OuterRef("dpd_as_of"), settled_on__isnull=True
        )
        .order_by()
        .values("loan_id")
        .annotate(amount=Sum(INSTALLMENT_OUTSTANDING))
        .values("amount")
    )
    money = DecimalField(max_digits=18, decimal_places=2)
    return Coalesce(Subquery(late, output_field=money), Decimal("0.00"), output_field=money)


class OverdueExport(AuditedExport):
    """Active loans past due (dpd > 0) among those the list shows, the most days late first."""

    kind = "overdue"
    display_name = _("Overdue list")
    model = Loan
    permission = ExportPerm.EXPORT_OVERDUE
    reads = "lending.view_loan"
    pii_columns = ("national_id", "mobile")

    reference = Column("reference", label(Loan, "reference"))
    borrower = Column("borrower__full_name", _("borrower"))
    national_id = Column(column_name=_("national ID"))
    mobile = Column(column_name=_("mobile phone"))
    product = Column("product__code", label(Loan, "product"))
    dpd = Column("dpd", label(Loan, "dpd"))
    bucket = Column("bucket", label(Loan, "bucket"))
    overdue_amount = Column("overdue_amount", _("overdue amount"), money=True)
    outstanding = Column(column_name=_("total outstanding"), money=True)
    next_due_date = Column("next_due_date", label(Loan, "next_due_date"))
    dpd_as_of = Column("dpd_as_of", label(Loan, "dpd_as_of"))

    def rows(self, queryset):
        return (
            queryset.filter(status=LoanStatus.ACTIVE, dpd__gt=0)
            .select_related("borrower", "product")
            .annotate(overdue_amount=overdue_amount_as_of_dpd())
            .order_by("-dpd", "reference")
        )

    dehydrate_national_id = LoanExport.dehydrate_national_id
    dehydrate_mobile = LoanExport.dehydrate_mobile
    dehydrate_outstanding = LoanExport.dehydrate_outstanding
