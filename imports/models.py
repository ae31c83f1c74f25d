from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from imports.registry import kind_label


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKED = "checked", _("Dry run done")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    WRITTEN = "written", _("Written")
    NOT_WRITTEN = "not_written", _("Not written (errors)")
    REFUSED = "refused", _("File refused")
    FAILED = "failed", _("Failed")


class ImportRecord(models.Model):
    """One uploaded file and what became of it: kept for every import, dry runs included.

    The upload itself is kept (`content`, with its SHA-256) so the confirm after a dry run
    re-reads exactly the bytes that were checked, and the error rows as a file to fix and
    upload again. Written only by imports.services.
    """

    kind = models.CharField(_("kind"), max_length=32)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    content = models.BinaryField(_("uploaded file"), editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True, db_index=True)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("run by"),
    )
    dry_run = models.BooleanField(_("dry run"), default=True)
    valid_rows_only = models.BooleanField(_("valid rows only"), default=False)
    state = models.CharField(
        _("state"), max_length=16, choices=ImportState.choices, default=ImportState.UPLOADED
    )
    message = models.TextField(_("message"), blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    new = models.PositiveIntegerField(_("new"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    written = models.BooleanField(_("written"), default=False)
    progress = models.PositiveIntegerField(_("rows done"), default=0)
    # Every row's fate for the dry-run page (cut at imports.services.MAX_REPORT_ROWS; the error
    # rows are always all there): [{"row", "fate", "column", "value", "message"}].
    report = models.JSONField(_("row report"), default=list, blank=True)
    error_file = models.BinaryField(_("error rows file"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        # view_importrecord shows a user their own imports; this, everyone's (docs/imports.md).
        permissions = [("view_all_imports", _("Can see every user's imports"))]

    def __str__(self) -> str:
        return f"{self.kind_label}: {self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def file_format(self) -> str:
        return "xlsx" if bytes(self.content[:4]) == b"PK\x03\x04" else "csv"

    @property
    def error_file_name(self) -> str:
        stem = self.file_name.rsplit(".", 1)[0] or "import"
        return f"{stem}.errors.{self.file_format}"
