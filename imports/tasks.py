"""Celery adapter for large uploads: fetch by id, call the service, nothing else (DESIGN §3.2).
The record shows the progress while it runs (imports.services._ProgressWriter)."""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from imports.reading import FileRefused
from imports.services import import_confirm, import_dry_run
from lending.errors import LendingError

logger = logging.getLogger(__name__)


@shared_task(name="imports.run_import", ignore_result=True)
def import_run_task(record_id: int, user_id: int | None, dry_run: bool) -> str:
    """Run (or dry-run) a kept upload as the user who asked; the outcome is on the record."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    run = import_dry_run if dry_run else import_confirm
    try:
        result = run(record_id=record_id, acting_user=user)
    except (FileRefused, LendingError) as exc:  # kept on the record by the service
        logger.info("import %s not run: %s", record_id, exc)
        return str(exc)
    return f"import {record_id}: {result.counts()}"
