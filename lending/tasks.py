"""Celery adapters for the nightly close: fetch ids, call the runner, nothing else (DESIGN §3.2).

Beat starts `close_business_days_task` nightly (00:30 TIME_ZONE, for the previous date); it
closes the next date in order and fans that date's chunks out as a chord; the chord's callback
finishes the date and, while dates are left to catch up, starts the next one.
"""

import logging
from datetime import date, timedelta

from celery import chord, shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from lending.access import SYSTEM
from lending.close_of_business.runner import (
    AlreadyClosed,
    business_day_begin,
    business_day_fail_chunk,
    business_day_finish,
    business_day_run_chunk,
    dates_to_close,
)
from lending.errors import LendingError
from lending.models import ChunkStatus, RunStatus

logger = logging.getLogger(__name__)
CHUNK_RETRIES = 2


@shared_task(name="lending.close_business_days", ignore_result=True)
def close_business_days_task(until: str | None = None, requested_by: int | None = None) -> str:
    """Close the next date up to `until` (default: yesterday); the chord continues the rest.
    `requested_by` is the user who asked (a retry from the admin), checked like any other;
    beat's nightly start is the platform itself."""
    acting_user = SYSTEM
    if requested_by is not None:
        acting_user = get_user_model().objects.filter(pk=requested_by).first()
    last_date = date.fromisoformat(until) if until else timezone.localdate() - timedelta(days=1)
    dates = dates_to_close(last_date)
    if not dates:
        return f"nothing to close up to {last_date}"
    try:
        run = business_day_begin(business_date=dates[0], acting_user=acting_user)
    except AlreadyClosed as exc:
        return exc.message
    except LendingError as exc:
        logger.warning("close of business not started: %s", exc.message)
        return exc.message
    chunks = queue_run(run, until=last_date)
    return f"closing {run.business_date} in {chunks} chunk(s)"


def queue_run(run, *, until: date) -> int:
    """A begun run's unfinished chunks to the workers as a chord, its finish as the callback
    (which goes on to the next date up to `until`). Call after the run's row is committed."""
    chunk_ids = list(
        run.chunks.exclude(status=ChunkStatus.DONE).order_by("number").values_list("pk", flat=True)
    )
    finish = finish_business_day_task.si(run.pk, until.isoformat())
    if chunk_ids:
        chord(run_chunk_task.si(chunk_id) for chunk_id in chunk_ids)(finish)
    else:
        finish.delay()
    return len(chunk_ids)


@shared_task(
    name="lending.close_business_day_chunk", bind=True, acks_late=True, max_retries=CHUNK_RETRIES
)
def run_chunk_task(self, chunk_id: int) -> int:
    """One chunk in one transaction; retried on failure, then recorded as failed so the chord
    still completes and the run is marked failed with the chunk's loan ids."""
    try:
        business_day_run_chunk(chunk_id=chunk_id)
    except Exception as exc:
        final = self.request.retries >= self.max_retries
        business_day_fail_chunk(chunk_id=chunk_id, error=repr(exc), final=final)
        if not final:
            raise self.retry(exc=exc, countdown=2**self.request.retries) from exc
        logger.exception("close-of-business chunk %s failed for good", chunk_id)
    return chunk_id


@shared_task(name="lending.finish_business_day", ignore_result=True)
def finish_business_day_task(run_id: int, until: str) -> str:
    run = business_day_finish(run_id=run_id)
    if run.status == RunStatus.DONE and run.business_date < date.fromisoformat(until):
        close_business_days_task.delay(until)  # the catch-up continues as the platform's
    return f"{run.business_date}: {run.status}"
