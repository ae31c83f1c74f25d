"""`Idempotency-Key` on the state-changing POSTs (repayments excepted: `repayment_post` keeps
its key on the transaction itself, lending/api/idempotency.py).

    @extend_schema(parameters=[IDEMPOTENCY_KEY], responses={..., **problem_responses(422)})
    @idempotent
    def post(self, request, ...): ...

Without the header nothing changes. With it, the key is claimed for (user, key) in the same
database transaction as the operation (apikeys.store):

- first use: the operation runs; a decided answer — a success (2xx) or a rule's refusal (409) —
  is kept with the key; an undecided one (400 bad input, 401/403/404, 429, 5xx) releases the
  key so the corrected request may use it again;
- the same key, method, path and body again: the kept answer, same status and body, with
  `Idempotent-Replayed: true`; nothing runs twice;
- the same key for another request: 422 `idempotency_conflict`;
- two requests with one key at once: the second waits for the first (the key's unique index)
  and replays its answer; if it reads the key before the first has answered it is a 409
  `duplicate`.

Keys are kept API_IDEMPOTENCY_KEY_HOURS (24 h by default); `manage.py purge_idempotency_keys`
deletes older ones, and an older key is treated as new.
"""

import functools

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from apikeys.models import KEY_MAX_LENGTH
from apikeys.store import CONFLICT, IN_PROGRESS, REPLAY, claim, keep, release
from config.api.errors import problem
from lending.errors import LendingError, LendingErrorCode

REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_STATUSES = range(200, 300)
KEPT_REFUSALS = {409}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Up to 100 characters, unique per request you mean once. The same key and "
    "body replay the first answer (`Idempotent-Replayed: true`); the same key with another "
    "body or path is a 422 `idempotency_conflict`. Kept 24 hours.",
)


def _key(request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > KEY_MAX_LENGTH or (key and not key.isprintable()):
        raise LendingError(
            LendingErrorCode.INVALID,
            _("at most %s printable characters") % KEY_MAX_LENGTH,
            field="idempotency_key",
        )
    return key.strip()


def _body(request):
    data = request.data
    if hasattr(data, "lists"):  # a form's QueryDict: every value of every field
        return {name: values for name, values in data.lists()}
    return data


def _answer(row) -> Response:
    response = Response(row.body, status=row.status_code, headers={REPLAYED_HEADER: "true"})
    response.problem = row.status_code >= 400
    return response


def idempotent(method):
    """Decorate an ApiView's `post` (see the module's docstring)."""

    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        key = _key(request)
        if not key or not request.user.is_authenticated:
            return method(self, request, *args, **kwargs)
        with transaction.atomic():
            found = claim(
                user=request.user,
                key=key,
                method=request.method,
                path=request.path,
                body=_body(request),
            )
            if found.outcome == CONFLICT:
                return problem(
                    code=LendingErrorCode.IDEMPOTENCY_CONFLICT,
                    detail=_(
                        "idempotency_key: this key was used for another request (%(method)s "
                        "%(path)s, another body)"
                    )
                    % {"method": found.row.method, "path": found.row.path},
                    errors={"idempotency_key": [_("this key was used for another request")]},
                )
            if found.outcome == IN_PROGRESS:
                return problem(
                    code=LendingErrorCode.DUPLICATE,
                    detail=_("idempotency_key: a request with this key is still in progress"),
                    errors={"idempotency_key": [_("a request with this key is in progress")]},
                )
            if found.outcome == REPLAY:
                return _answer(found.row)
            try:
                response = method(self, request, *args, **kwargs)
            except Exception as exc:  # answered by the exception handler, as DRF would
                response = self.handle_exception(exc)
            if response.status_code in KEPT_STATUSES or response.status_code in KEPT_REFUSALS:
                keep(found.row, status_code=response.status_code, body=response.data)
            else:
                release(found.row)
            return response

    return wrapper
