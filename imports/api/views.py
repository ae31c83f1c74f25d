"""/api/v1/imports/: the same uploads as the admin and the command (imports.services). Who may
import a kind is the kind's permission and then each row's service; a user sees their own
imports (everyone's with imports.view_all_imports) and runs their own only (imports.services)."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from config.api.base import ApiView, InputSerializer, validated
from config.api.schema import problem_responses
from imports.files import template_xlsx
from imports.models import ImportRecord
from imports.reading import MAX_FILE_BYTES, FileRefused
from imports.services import (
    async_threshold,
    import_confirm,
    import_dry_run,
    import_enqueue,
    import_upload,
    kind_or_error,
    visible_import,
)
from lending.errors import LendingError, LendingErrorCode

TAGS = ["imports"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RowOutput(serializers.Serializer):
    row = serializers.IntegerField()
    fate = serializers.CharField()
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()


class ImportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    file_name = serializers.CharField()
    sha256 = serializers.CharField()
    state = serializers.CharField()
    dry_run = serializers.BooleanField()
    valid_rows_only = serializers.BooleanField()
    message = serializers.CharField()
    rows = serializers.IntegerField()
    new = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = serializers.IntegerField()
    written = serializers.BooleanField()
    progress = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    report = RowOutput(many=True, help_text="Each row's fate (the first 5,000 rows; every error).")


def _answer(record: ImportRecord, code=status.HTTP_200_OK) -> Response:
    record.refresh_from_db()
    return Response(ImportOutput(record).data, status=code)


def _refused(exc: FileRefused) -> LendingError:
    return LendingError(LendingErrorCode.INVALID, exc.text(_), field="file")


def record_or_404(request, pk) -> ImportRecord:
    return visible_import(record_id=pk, acting_user=request.user)


class Upload(ApiView):
    parser_classes = [MultiPartParser, FormParser]

    class Input(InputSerializer):
        kind = serializers.CharField(max_length=32)
        file = serializers.FileField(max_length=255)
        dry_run = serializers.BooleanField(default=True)
        valid_rows_only = serializers.BooleanField(default=False)

    @extend_schema(
        summary="Upload a CSV or XLSX file to import",
        description="Needs the kind's permission (borrowers: lending.add_borrower, loans: "
        "lending.migrate_loan, repayments: lending.post_repayment, bureau: "
        "risk.change_riskprofile, agency_results: collections.log_contact); each row then "
        "goes through its service. `dry_run` (the default) checks every row and writes "
        "nothing; confirm with `imports/{id}/confirm/`. Without `dry_run` the file is written "
        "at once (all-or-nothing unless `valid_rows_only`). Files over the async threshold "
        "answer 202 and run on a worker: read `imports/{id}/` for progress. A refused file "
        "is a 400 naming `file`.",
        request={"multipart/form-data": Input},
        responses={
            200: ImportOutput,
            201: ImportOutput,
            202: ImportOutput,
            **problem_responses(400, 403, 404),
        },
        tags=TAGS,
    )
    def post(self, request):
        data = validated(self, request)
        upload = data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise LendingError(
                LendingErrorCode.OUT_OF_RANGE,
                _("the file is larger than %(max)s MB") % {"max": MAX_FILE_BYTES // 2**20},
                field="file",
            )
        record = import_upload(
            kind=data["kind"],
            file_name=upload.name,
            data=upload.read(),
            acting_user=request.user,
            valid_rows_only=data["valid_rows_only"],
        )
        if record.size > async_threshold():
            record = import_enqueue(
                record_id=record.pk, acting_user=request.user, dry_run=data["dry_run"]
            )
            return _answer(record, status.HTTP_202_ACCEPTED)
        run = import_dry_run if data["dry_run"] else import_confirm
        try:
            run(record_id=record.pk, acting_user=request.user)
        except FileRefused as exc:
            raise _refused(exc) from None
        return _answer(record, status.HTTP_200_OK if data["dry_run"] else status.HTTP_201_CREATED)


class Detail(ApiView):
    @extend_schema(
        summary="An import: its state, counts and each row's fate",
        responses={200: ImportOutput, **problem_responses(404)},
        tags=TAGS,
    )
    def get(self, request, pk: int):
        return _answer(record_or_404(request, pk))


class Confirm(ApiView):
    class Input(InputSerializer):
        sha256 = serializers.CharField(max_length=64, help_text="The hash the dry run answered.")
        valid_rows_only = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(
        summary="Write an upload after its dry run",
        description="Re-reads the kept bytes (their SHA-256 must be the one given) and writes "
        "them; each row through its service again. Refused once written.",
        request=Input,
        responses={201: ImportOutput, 202: ImportOutput, **problem_responses(400, 403, 404, 409)},
        tags=TAGS,
    )
    def post(self, request, pk: int):
        data = validated(self, request)
        record = record_or_404(request, pk)
        if data["sha256"] != record.sha256:
            raise LendingError(
                LendingErrorCode.INVALID,
                _("the file changed since its dry run; upload it again"),
                field="sha256",
            )
        if record.size > async_threshold():
            record = import_enqueue(
                record_id=pk,
                acting_user=request.user,
                dry_run=False,
                valid_rows_only=data["valid_rows_only"],
            )
            return _answer(record, status.HTTP_202_ACCEPTED)
        try:
            import_confirm(
                record_id=pk,
                acting_user=request.user,
                sha256=data["sha256"],
                valid_rows_only=data["valid_rows_only"],
            )
        except FileRefused as exc:
            raise _refused(exc) from None
        return _answer(record, status.HTTP_201_CREATED)


class ErrorFile(ApiView):
    @extend_schema(
        summary="The error rows as a file (the upload's format, with an error column)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="CSV or XLSX"),
            **problem_responses(404),
        },
        tags=TAGS,
    )
    def get(self, request, pk: int):
        record = record_or_404(request, pk)
        if not record.error_file:
            raise LendingError(
                LendingErrorCode.NOT_FOUND, _("this import has no error rows"), field="import"
            )
        return file_response(bytes(record.error_file), record.error_file_name)


class Template(ApiView):
    @extend_schema(
        summary="A kind's XLSX template (its columns, under both names, explained)",
        responses={(200, XLSX_TYPE): OpenApiResponse(description="XLSX"), **problem_responses(404)},
        tags=TAGS,
    )
    def get(self, request, kind: str):
        found = kind_or_error(kind)
        return file_response(template_xlsx(found), f"{found.name}-template.xlsx")


def file_response(content: bytes, name: str) -> HttpResponse:
    content_type = XLSX_TYPE if name.endswith(".xlsx") else "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
