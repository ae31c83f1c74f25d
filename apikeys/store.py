"""The Idempotency-Key store: claim a key for a request, then keep the answer or let it go.

Used by config.api.idempotency inside one database transaction with the operation itself, so a
crash leaves neither the operation nor the key, and a second request with the same key waits on
the first one's row (the unique index) and then replays its answer.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from apikeys.models import IdempotencyKey

NEW, REPLAY, CONFLICT, IN_PROGRESS = "new", "replay", "conflict", "in_progress"


def ttl() -> timedelta:
    """How long a key is kept (API_IDEMPOTENCY_KEY_HOURS, at least 24)."""
    return timedelta(hours=settings.API_IDEMPOTENCY_KEY_HOURS)


def canonical(value) -> str:
    return json.dumps(value, cls=JSONEncoder, sort_keys=True, separators=(",", ":"))


def fingerprint(*, method: str, path: str, body) -> str:
    text = canonical({"method": method.upper(), "path": path, "body": body})
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Claim:
    outcome: str  # NEW, REPLAY, CONFLICT or IN_PROGRESS
    row: IdempotencyKey


def claim(*, user, key: str, method: str, path: str, body) -> Claim:
    """Inside the caller's transaction: the key's row for this user, new (NEW) or as stored —
    REPLAY when it answered this same request, CONFLICT when it was used for another,
    IN_PROGRESS when its request has not answered yet. An expired row is replaced."""
    print_ = fingerprint(method=method, path=path, body=body)
    now = timezone.now()
    found = IdempotencyKey.objects.select_for_update().filter(user=user, key=key).first()
    if found is not None and found.created_at <= now - ttl():
        found.delete()
        found = None
    if found is None:
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    method=method.upper(),
                    path=path,
                    fingerprint=print_,
                    created_at=now,
                )
            return Claim(NEW, row)
        except IntegrityError:  # another request took it between our read and our write
            found = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
    if found.fingerprint != print_:
        return Claim(CONFLICT, found)
    if found.status_code is None:
        return Claim(IN_PROGRESS, found)
    return Claim(REPLAY, found)


def keep(row: IdempotencyKey, *, status_code: int, body) -> None:
    row.status_code = status_code
    row.body = json.loads(canonical(body))
    row.save(update_fields=["status_code", "body"])


def release(row: IdempotencyKey) -> None:
    """The request was not decided (bad input, not allowed): the key may be used again."""
    row.delete()


def purge(*, now: datetime | None = None) -> int:
    """Delete the keys older than the time they are kept; the number deleted."""
    cutoff = (now or timezone.now()) - ttl()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted
