"""Replaying a repayment: `repayment_post` posts a key once and answers a repeat with the
first transaction (it compares loan and amount). The API's promise is stricter — the same key
with *another body* is a 422 — so the rest of the body is compared here, against the stored
transaction, before the first answer is replayed."""

from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response

from lending.errors import LendingError, LendingErrorCode

REPLAYED_HEADER = "Idempotent-Replayed"


def replay_or_conflict(transaction, data: dict, body: dict) -> Response:
    stored = {
        "value_date": transaction.value_date,
        "channel": transaction.channel,
        "external_id": transaction.external_reference,
        "note": transaction.note,
    }
    sent = {
        "value_date": data["value_date"],
        "channel": data["channel"].strip(),
        "external_id": data["external_id"].strip(),
        "note": data["note"].strip(),
    }
    differing = sorted(name for name in stored if stored[name] != sent[name])
    if differing:
        raise LendingError(
            LendingErrorCode.IDEMPOTENCY_CONFLICT,
            _("this idempotency key was used for another request (%(fields)s differ)")
            % {"fields": ", ".join(differing)},
            field="idempotency_key",
        )
    return Response(body, status=status.HTTP_201_CREATED, headers={REPLAYED_HEADER: "true"})
