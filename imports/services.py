"""Imports as operations: upload a file, dry-run it, confirm it, or run it in one go. Every door
(admin, API, command, Celery task) calls these; each row goes through the kind's services
with the acting user (imports.engine).

Who may (docs/imports.md, "Access"), decided here for every door:

* import a kind: the kind's permission (then every row's service checks its own);
* see an import (its page, its report, its error rows): its uploader, or whoever holds
  `imports.view_all_imports`; anyone else is told it does not exist;
* run a kept upload (dry run, confirm, queue): its uploader only, still holding the kind's
  permission. Seeing everyone's imports is a read grant: it does not let an auditor or an
  administrator write rows someone else prepared and checked.
"""

import hashlib

from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from imports.engine import ImportResult, run_import
from imports.files import error_rows_file
from imports.models import ImportRecord, ImportState
from imports.reading import MAX_FILE_BYTES, FileRefused
from imports.registry import Kind, get_kind
from lending.access import SYSTEM, may, require, stored_user
from lending.errors import LendingError, LendingErrorCode
from lending.services.audit import audit_log
from lending.validation import clean_text

MAX_REPORT_ROWS = 5000  # rows whose fate the record keeps for the dry-run page (errors: all)
PROGRESS_EVERY = 500  # rows between progress writes
VIEW_ALL_IMPORTS = "imports.view_all_imports"


# --- who may -----------------------------------------------------------------------------


def importable_kinds(acting_user) -> list[Kind]:
    """The kinds `acting_user` may import (the start page lists these)."""
    from imports.registry import registered_kinds

    return [k for k in registered_kinds() if may(acting_user, k.permission)]


def sees_all_imports(acting_user) -> bool:
    return acting_user is SYSTEM or may(acting_user, VIEW_ALL_IMPORTS)


def visible_imports(queryset, acting_user):
    """The imports of `queryset` the user may see: their own; everyone's with
    imports.view_all_imports."""
    if sees_all_imports(acting_user):
        return queryset
    user_id = getattr(acting_user, "pk", None)
    if user_id is None or not getattr(acting_user, "is_authenticated", False):
        return queryset.none()
    return queryset.filter(created_by_id=user_id)


def import_not_found() -> LendingError:
    return LendingError(LendingErrorCode.NOT_FOUND, _("no such import"), field="import")


def visible_import(*, record_id, acting_user) -> ImportRecord:
    """The import `record_id` if the user may see it; otherwise not found (never "forbidden",
    which would confirm it exists)."""
    if not str(record_id).isdigit() or len(str(record_id)) > 18:
        raise import_not_found()
    record = visible_imports(ImportRecord.objects.all(), acting_user).filter(pk=record_id).first()
    if record is None:
        raise import_not_found()
    return record


def may_run_import(record: ImportRecord, acting_user) -> bool:
    """Whether `acting_user` may run `record`'s kept upload: its uploader, still holding the
    kind's permission (SYSTEM always)."""
    if acting_user is SYSTEM:
        return True
    kind = get_kind(record.kind)
    return (
        kind is not None
        and record.created_by_id is not None
        and record.created_by_id == getattr(acting_user, "pk", None)
        and may(acting_user, kind.permission)
    )


def _require_run(record_id, acting_user, *, lock: bool = False) -> ImportRecord:
    """The record, if `acting_user` may run it: not found unless they may see it, refused
    (permission_denied) unless it is their upload and they may import its kind."""
    record = visible_import(record_id=record_id, acting_user=acting_user)
    if lock:
        record = ImportRecord.objects.select_for_update().get(pk=record.pk)
    if not may_run_import(record, acting_user):
        raise LendingError(
            LendingErrorCode.PERMISSION_DENIED,
            _(
                "only the user who uploaded an import, holding the permission to import "
                "%(kind)s, may run it"
            )
            % {"kind": record.kind},
            field="import",
        )
    return record


def kind_or_error(name: str) -> Kind:
    kind = get_kind(str(name or ""))
    if kind is None:
        from imports.registry import registered_kinds

        raise LendingError(
            LendingErrorCode.NOT_FOUND,
            _("no import kind %(kind)r; the kinds are %(kinds)s")
            % {"kind": name, "kinds": ", ".join(k.name for k in registered_kinds())},
            field="kind",
        )
    return kind


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_upload(
    *, kind: str, file_name: str, data: bytes, acting_user, valid_rows_only: bool = False
) -> ImportRecord:
    """Keep an upload for a dry run and a confirm (the kind's permission is checked first: a
    user who may not import the kind leaves no file behind)."""
    found = kind_or_error(kind)
    require(acting_user, found.permission, to=_("import %(kind)s") % {"kind": found.name})
    file_name = clean_text(file_name or "upload", field="file", max_length=255)
    if len(data) > MAX_FILE_BYTES:
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("the file is larger than %(max)s MB") % {"max": MAX_FILE_BYTES // 1024 // 1024},
            field="file",
        )
    return ImportRecord.objects.create(
        kind=found.name,
        file_name=file_name,
        sha256=sha256_of(data),
        size=len(data),
        content=data,
        created_by=stored_user(acting_user),
        valid_rows_only=valid_rows_only,
    )


def import_dry_run(*, record_id: int, acting_user) -> ImportResult | None:
    """Run the kept upload without writing: every row's fate on the record."""
    return _execute(record_id, acting_user, dry_run=True)


def import_confirm(
    *, record_id: int, acting_user, sha256: str | None = None, valid_rows_only: bool | None = None
) -> ImportResult | None:
    """Write the kept upload (the bytes the dry run read: `sha256` is the hash the confirming
    page showed, refused if the record holds other bytes). Once written, never again."""
    record = _require_run(record_id, acting_user)
    if sha256 is not None and sha256 != record.sha256:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("the file changed since its dry run; upload it again"),
            field="sha256",
        )
    if sha256_of(bytes(record.content)) != record.sha256:
        raise LendingError(
            LendingErrorCode.INVALID, _("the kept upload is damaged; upload it again"), field="file"
        )
    if valid_rows_only is not None and valid_rows_only != record.valid_rows_only:
        ImportRecord.objects.filter(pk=record.pk).update(valid_rows_only=valid_rows_only)
    return _execute(record_id, acting_user, dry_run=False)


def import_file(
    *,
    kind: str,
    file_name: str,
    data: bytes,
    acting_user,
    dry_run: bool = False,
    valid_rows_only: bool = False,
    progress=None,
) -> tuple[ImportRecord, ImportResult | None]:
    """Upload and run in one go (the command, the API without a confirm step)."""
    record = import_upload(
        kind=kind,
        file_name=file_name,
        data=data,
        acting_user=acting_user,
        valid_rows_only=valid_rows_only,
    )
    result = _execute(record.pk, acting_user, dry_run=dry_run, progress=progress)
    record.refresh_from_db()
    return record, result


def _claim(record_id: int, acting_user, dry_run: bool) -> ImportRecord:
    """Mark the record running, committed (so other pages see it), or refuse a second run."""
    with transaction.atomic():
        record = _require_run(record_id, acting_user, lock=True)
        if record.written or record.state == ImportState.RUNNING:
            raise LendingError(
                LendingErrorCode.ILLEGAL_TRANSITION,
                _("this import is %(state)s; it cannot run again")
                % {"state": record.get_state_display().lower()},
                field="import",
            )
        record.state = ImportState.RUNNING
        record.dry_run = dry_run
        record.run_by = stored_user(acting_user)
        record.progress = 0
        record.save(update_fields=["state", "dry_run", "run_by", "progress"])
    return record


def _execute(record_id: int, acting_user, *, dry_run: bool, progress=None):
    kind = None
    record = _claim(record_id, acting_user, dry_run)
    kind = kind_or_error(record.kind)
    tracker = _ProgressWriter(record.pk, progress)
    try:
        result = run_import(
            kind=kind,
            data=bytes(record.content),
            acting_user=acting_user,
            dry_run=dry_run,
            valid_rows_only=record.valid_rows_only,
            progress=tracker,
        )
    except FileRefused as exc:
        _finish(record, state=ImportState.REFUSED, message=exc.text(_))
        raise
    except LendingError as exc:
        _finish(record, state=ImportState.REFUSED, message=exc.message)
        raise
    except Exception as exc:
        _finish(record, state=ImportState.FAILED, message=repr(exc)[:1000])
        raise
    finally:
        tracker.close()
    _record_result(record, result, acting_user)
    return result


def _finish(record: ImportRecord, **fields) -> None:
    fields["finished_at"] = timezone.now()
    ImportRecord.objects.filter(pk=record.pk).update(**fields)


@transaction.atomic
def _record_result(record: ImportRecord, result: ImportResult, acting_user) -> None:
    counts = result.counts()
    report = [
        {"row": r.row, "fate": str(r.fate), **r.as_dict()}
        for i, r in enumerate(result.results)
        if i < MAX_REPORT_ROWS or r.fate == "error"
    ]
    if result.dry_run:
        state = ImportState.CHECKED
    else:
        state = ImportState.WRITTEN if result.written else ImportState.NOT_WRITTEN
    error_file = (
        error_rows_file(result.table, result.errors, record.file_format) if result.errors else None
    )
    _finish(
        record,
        state=state,
        message="",
        written=result.written,
        report=report,
        error_file=error_file,
        progress=counts["rows"],
        **counts,
    )
    if result.written:
        record.refresh_from_db()
        audit_log(
            actor=acting_user,
            action="import.write",
            obj=record,
            summary=f"{record.kind} {record.file_name}: {counts['new']} new, "
            f"{counts['updated']} updated, {counts['errors']} errors",
            data={"sha256": record.sha256, **counts},
        )


class _ProgressWriter:
    """Rows done, written where other pages can read it while the import's own transaction is
    still open: through a second database connection (PostgreSQL). SQLite allows one writer at
    a time, so there the count appears when the import ends. `callback` (the command's bar)
    is called for every row."""

    def __init__(self, record_id: int, callback=None):
        self.record_id, self.callback = record_id, callback
        self.written = 0  # the count last written
        self.side = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection("default")

    def __call__(self, done: int, total: int) -> None:
        if self.callback is not None:
            self.callback(done, total)
        # Every PROGRESS_EVERY rows, and once per count: a batched kind reports the same count
        # for every row of a batch still waiting, and each write of the same row leaves a row
        # version the import's open transaction keeps alive.
        moved = done // PROGRESS_EVERY != self.written // PROGRESS_EVERY
        if self.side is not None and done != self.written and (moved or done == total):
            self.written = done
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportRecord._meta.db_table} SET progress = %s WHERE id = %s",
                    [done, self.record_id],
                )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def async_threshold() -> int:
    """Uploads larger than this many bytes run as a Celery task (IMPORTS_ASYNC_BYTES)."""
    from django.conf import settings

    return int(getattr(settings, "IMPORTS_ASYNC_BYTES", 1_000_000))


def import_enqueue(
    *, record_id: int, acting_user, dry_run: bool, valid_rows_only: bool | None = None
) -> ImportRecord:
    """Queue the run of a kept upload for a Celery worker (after this transaction commits);
    the record shows its progress meanwhile. `valid_rows_only` (None: as uploaded) is kept on
    the record for the run, once the run is allowed."""
    record = _require_run(record_id, acting_user)
    kind_or_error(record.kind)
    if record.written or record.state in (ImportState.RUNNING, ImportState.QUEUED):
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _("this import is %(state)s; it cannot run again")
            % {"state": record.get_state_display().lower()},
            field="import",
        )
    chosen = {} if valid_rows_only is None else {"valid_rows_only": valid_rows_only}
    ImportRecord.objects.filter(pk=record.pk).update(
        state=ImportState.QUEUED,
        dry_run=dry_run,
        run_by=stored_user(acting_user),
        progress=0,
        **chosen,
    )
    from imports.tasks import import_run_task

    user_id = getattr(acting_user, "pk", None)
    transaction.on_commit(lambda: import_run_task.delay(record.pk, user_id, dry_run))
    record.refresh_from_db()
    return record
