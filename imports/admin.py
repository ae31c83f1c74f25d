"""The admin's imports: a page per kind (upload → dry run showing every row's fate → confirm),
and the import records, read-only, with their error files.

The upload is kept on its ImportRecord between the dry run and the confirm, and the confirm
form carries the SHA-256 the dry run showed: the confirm writes exactly the bytes that were
checked. Every step calls imports.services; each row goes through its kind's services with the
user, who needs the kind's permission (the services check each row's own).

Who may is imports.services' (docs/imports.md, "Access"): the start page lists the kinds the
user may import (none: 403); an upload page needs its kind's permission; an import's pages (run,
errors, the record's own) show a user their own imports, everyone's with
imports.view_all_imports, and answer 404 for the rest; only the uploader runs an upload. The
record list (imports.view_importrecord, held by every role that may import some kind) is the
"Imports" entry of the admin index, with a "New import" link to the start page.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports.api.views import file_response
from imports.files import template_xlsx
from imports.models import ImportRecord, ImportState
from imports.reading import MAX_FILE_BYTES, FileRefused
from imports.registry import get_kind, kind_label
from imports.services import (
    async_threshold,
    import_confirm,
    import_dry_run,
    import_enqueue,
    import_upload,
    importable_kinds,
    may_run_import,
    visible_import,
    visible_imports,
)
from lending.access import may
from lending.errors import LendingError

REPORT_ROWS_SHOWN = 1000


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or XLSX file"),
        help_text=gettext_lazy("Headers in English or Chinese, any order; at most 30 MB."),
    )
    valid_rows_only = forms.BooleanField(
        label=gettext_lazy("Import the valid rows only"),
        required=False,
        help_text=gettext_lazy(
            "Unticked (the default), one error row and nothing is written. Ticked, the rows "
            "without errors are written and the error rows come back as a file."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("the file is larger than %(max)s MB") % {"max": MAX_FILE_BYTES // 2**20}
            )
        return upload


class KindFilter(admin.SimpleListFilter):
    """The kinds of the imports listed, by their label; the URL keeps the code (?kind=loans)."""

    title = gettext_lazy("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        codes = (
            model_admin.get_queryset(request).order_by().values_list("kind", flat=True).distinct()
        )
        return sorted(((code, kind_label(code)) for code in codes), key=lambda c: c[1])

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind_words",
        "file_name",
        "created_by",
        "created_at",
        "state",
        "rows",
        "new",
        "updated",
        "skipped",
        "duplicates",
        "errors",
        "written",
    )
    list_filter = (KindFilter, "state", "written", "dry_run")
    search_fields = ("file_name", "sha256")
    date_hierarchy = "created_at"
    readonly_fields = [
        "kind_words" if f.name == "kind" else f.name
        for f in ImportRecord._meta.fields
        if f.name not in ("content", "error_file", "report")
    ]
    exclude = ("content", "error_file", "report", "kind")
    change_list_template = "imports/record_list.html"

    @admin.display(description=gettext_lazy("kind"), ordering="kind")
    def kind_words(self, obj):
        return obj.kind_label

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not self.has_view_or_change_permission(request):
            return queryset  # Django refuses them every page (403) before showing a row
        return visible_imports(queryset, request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        # Someone who may read these pages is told "not found" (not Django's redirect).
        if obj is None and self.has_view_or_change_permission(request):
            raise Http404
        return obj

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {**(extra_context or {}), "kinds": importable_kinds(request.user)}
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("start/", wrap(self.start_view), name="imports_importrecord_start"),
            path("upload/<slug:kind>/", wrap(self.upload_view), name="imports_importrecord_upload"),
            path(
                "template/<slug:kind>/",
                wrap(self.template_view),
                name="imports_importrecord_template",
            ),
            path("<path:object_id>/run/", wrap(self.run_view), name="imports_importrecord_run"),
            path(
                "<path:object_id>/errors/",
                wrap(self.errors_view),
                name="imports_importrecord_errors",
            ),
            *super().get_urls(),
        ]

    # -- the pages ------------------------------------------------------------------------------

    def _kind_or_404(self, request, name):
        kind = get_kind(name)
        if kind is None:
            raise Http404
        if not may(request.user, kind.permission):
            raise PermissionDenied
        return kind

    def _own_record(self, request, object_id) -> ImportRecord:
        try:
            return visible_import(record_id=object_id, acting_user=request.user)
        except LendingError:
            raise Http404 from None

    def start_view(self, request):
        """Every kind the user may import: its upload page and its template."""
        kinds = importable_kinds(request.user)
        if not kinds:
            raise PermissionDenied
        recent = ImportRecord.objects.filter(created_by_id=request.user.pk)[:20]
        return TemplateResponse(
            request,
            "imports/start.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Imports"),
                "opts": self.model._meta,
                "kinds": kinds,
                "recent": recent,
            },
        )

    def upload_view(self, request, kind):
        kind = self._kind_or_404(request, kind)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                record = import_upload(
                    kind=kind.name,
                    file_name=upload.name,
                    data=upload.read(),
                    acting_user=request.user,
                    valid_rows_only=form.cleaned_data["valid_rows_only"],
                )
                if record.size > async_threshold():
                    import_enqueue(record_id=record.pk, acting_user=request.user, dry_run=True)
                else:
                    import_dry_run(record_id=record.pk, acting_user=request.user)
            except FileRefused as exc:
                form.add_error("file", exc.text(_))
            except LendingError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect(reverse("admin:imports_importrecord_run", args=[record.pk]))
        return TemplateResponse(
            request,
            "imports/upload.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Import %(kind)s") % {"kind": kind.label},
                "opts": self.model._meta,
                "kind": kind,
                "form": form,
            },
        )

    def run_view(self, request, object_id):
        """The dry run's every row, and the confirm; afterwards the outcome (with progress
        while a worker runs it)."""
        record = self._own_record(request, object_id)
        kind = get_kind(record.kind)
        if request.method == "POST":
            if not may_run_import(record, request.user):
                raise PermissionDenied
            valid_rows_only = request.POST.get("valid_rows_only") == "on"
            try:
                if record.size > async_threshold():
                    import_enqueue(
                        record_id=record.pk,
                        acting_user=request.user,
                        dry_run=False,
                        valid_rows_only=valid_rows_only,
                    )
                else:
                    import_confirm(
                        record_id=record.pk,
                        acting_user=request.user,
                        sha256=request.POST.get("sha256", ""),
                        valid_rows_only=valid_rows_only,
                    )
            except FileRefused as exc:
                messages.error(request, exc.text(_))
            except LendingError as exc:
                messages.error(request, exc.message)
            return redirect(reverse("admin:imports_importrecord_run", args=[record.pk]))
        record.refresh_from_db()
        return TemplateResponse(
            request,
            "imports/run.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Import %(id)s: %(file)s") % {"id": record.pk, "file": record.file_name},
                "opts": self.model._meta,
                "record": record,
                "kind": kind,
                "report": record.report[:REPORT_ROWS_SHOWN],
                "report_cut": len(record.report) > REPORT_ROWS_SHOWN,
                "can_confirm": record.state in (ImportState.CHECKED, ImportState.NOT_WRITTEN)
                and not record.written
                and may_run_import(record, request.user),
                "in_progress": record.state in (ImportState.QUEUED, ImportState.RUNNING),
            },
        )

    def errors_view(self, request, object_id):
        record = self._own_record(request, object_id)
        if not record.error_file:
            raise Http404
        return file_response(bytes(record.error_file), record.error_file_name)

    def template_view(self, request, kind):
        kind = get_kind(kind)
        if kind is None:
            raise Http404
        return file_response(template_xlsx(kind), f"{kind.name}-template.xlsx")
