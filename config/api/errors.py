"""One error format for the whole API: RFC 9457 problem details (DESIGN §9, issue 11).

Every error — a service's LendingError, DRF's own (authentication, permissions, parsing,
throttling, 404, 405, validation) and the URL resolver's 404 — leaves as
`application/problem+json`:

    {"type": "urn:lending:problem:loan_not_active", "title": "Loan not active", "status": 409,
     "detail": "loan LN00000001 is closed; ...", "code": "loan_not_active",
     "errors": {"loan": ["loan LN00000001 is closed; ..."]}}

`code` is stable: a service's LendingErrorCode (or CollectionsErrorCode) unchanged, or one of
the few API codes below for what only the HTTP door can refuse. The status says which kind of
refusal it is: 400 the input, 401/403 who is asking, 404 what was asked for, 409 a rule (state,
limit, four eyes, the compliance guard), 422 an idempotency key reused for another request, 429
too many requests.
"""

import logging
from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response

from debt_collection.errors import CollectionsErrorCode
from lending.errors import LendingError, LendingErrorCode

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:lending:problem:"


class ApiErrorCode(StrEnum):
    """What only the HTTP door refuses (the services' refusals keep LendingErrorCode)."""

    UNKNOWN_FIELD = "unknown_field"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    INVALID_CREDENTIALS = "invalid_credentials"
    LOCKED_OUT = "locked_out"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"


# A service's refusal, by code. Validation of the input is 400; who may is 403; what does not
# exist is 404; a rule that says "not now, not in this state, not by you twice" is 409.
STATUS_OF_CODE: dict[str, int] = {
    LendingErrorCode.INVALID: 400,
    LendingErrorCode.REQUIRED: 400,
    LendingErrorCode.OUT_OF_RANGE: 400,
    LendingErrorCode.PRICING_ABOVE_CEILING: 400,
    LendingErrorCode.PERMISSION_DENIED: 403,
    LendingErrorCode.NOT_FOUND: 404,
    LendingErrorCode.DUPLICATE: 409,
    LendingErrorCode.ILLEGAL_TRANSITION: 409,
    LendingErrorCode.LOAN_NOT_ACTIVE: 409,
    LendingErrorCode.ALREADY_REVERSED: 409,
    LendingErrorCode.NOT_REVERSIBLE: 409,
    LendingErrorCode.BLACKLISTED: 409,
    LendingErrorCode.RUN_IN_PROGRESS: 409,
    LendingErrorCode.OUT_OF_ORDER: 409,
    LendingErrorCode.SAME_PERSON: 409,
    LendingErrorCode.LIMIT_EXCEEDED: 409,
    LendingErrorCode.LIMIT_NOT_ACTIVE: 409,
    LendingErrorCode.KYC_NOT_VERIFIED: 409,
    LendingErrorCode.LOAN_NOT_WRITTEN_OFF: 409,
    LendingErrorCode.SETTLEMENT_NOT_PAID: 409,
    LendingErrorCode.PRODUCT_NOT_ACTIVE: 409,
    LendingErrorCode.IN_USE: 409,
    LendingErrorCode.IDEMPOTENCY_CONFLICT: 422,
    # Collections: the compliance guard's refusals and a closed case are rules (409).
    CollectionsErrorCode.CONTACT_OUTSIDE_HOURS: 409,
    CollectionsErrorCode.CONTACT_DAILY_LIMIT: 409,
    CollectionsErrorCode.CONTACT_WEEKLY_LIMIT: 409,
    CollectionsErrorCode.CONTACT_HOLD: 409,
    CollectionsErrorCode.CONTACT_PARTY_NOT_ALLOWED: 409,
    CollectionsErrorCode.CONTACT_EMERGENCY_TOO_EARLY: 409,
    CollectionsErrorCode.CASE_CLOSED: 409,
    CollectionsErrorCode.PROPOSAL_DECIDED: 409,
    ApiErrorCode.UNKNOWN_FIELD: 400,
    ApiErrorCode.PARSE_ERROR: 400,
    ApiErrorCode.INVALID_CREDENTIALS: 400,
    ApiErrorCode.NOT_AUTHENTICATED: 401,
    ApiErrorCode.AUTHENTICATION_FAILED: 401,
    ApiErrorCode.METHOD_NOT_ALLOWED: 405,
    ApiErrorCode.NOT_ACCEPTABLE: 406,
    ApiErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ApiErrorCode.LOCKED_OUT: 429,
    ApiErrorCode.THROTTLED: 429,
    ApiErrorCode.SERVER_ERROR: 500,
}
ALL_CODES = [str(code) for code in (*LendingErrorCode, *CollectionsErrorCode, *ApiErrorCode)]

# DRF's exception classes and their codes (the validation codes are mapped one by one below).
_DRF_CODES = {
    exceptions.ParseError: ApiErrorCode.PARSE_ERROR,
    exceptions.NotAuthenticated: ApiErrorCode.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: ApiErrorCode.AUTHENTICATION_FAILED,
    exceptions.PermissionDenied: LendingErrorCode.PERMISSION_DENIED,
    exceptions.NotFound: LendingErrorCode.NOT_FOUND,
    exceptions.MethodNotAllowed: ApiErrorCode.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: ApiErrorCode.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: ApiErrorCode.THROTTLED,
}
# A field's validation code (DRF's or Django's) as one of the project's codes.
_VALIDATION_CODES = {
    "required": LendingErrorCode.REQUIRED,
    "null": LendingErrorCode.REQUIRED,
    "blank": LendingErrorCode.REQUIRED,
    "max_value": LendingErrorCode.OUT_OF_RANGE,
    "min_value": LendingErrorCode.OUT_OF_RANGE,
    "max_digits": LendingErrorCode.OUT_OF_RANGE,
    "max_whole_digits": LendingErrorCode.OUT_OF_RANGE,
    "max_length": LendingErrorCode.OUT_OF_RANGE,
    "max_string_length": LendingErrorCode.OUT_OF_RANGE,
    "unknown_field": ApiErrorCode.UNKNOWN_FIELD,
}

TITLES = {
    400: _("Invalid request"),
    401: _("Not authenticated"),
    403: _("Permission denied"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Refused by a rule"),
    415: _("Unsupported media type"),
    422: _("Idempotency key reused"),
    429: _("Too many requests"),
    500: _("Server error"),
}


def problem(
    *,
    code: str,
    detail: str,
    status_code: int | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict | None = None,
) -> Response:
    """A problem-details response (the renderer writes it; the content type says what it is)."""
    status_code = status_code or STATUS_OF_CODE.get(code, 400)
    body = {
        "type": f"{TYPE_PREFIX}{code}",
        "title": str(TITLES.get(status_code, _("Error"))),
        "status": status_code,
        "detail": str(detail),
        "code": str(code),
        "errors": errors or {},
    }
    response = Response(body, status=status_code, headers=headers)
    response.problem = True  # finalize_response (ProblemMixin) sets the content type
    return response


def _flatten(detail, prefix: str = "") -> dict[str, list]:
    """DRF's nested error detail as {"field.sub.0": [ErrorDetail, ...]}."""
    if isinstance(detail, dict):
        flat: dict[str, list] = {}
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": list(items)} if items else {}


def validation_problem(exc: exceptions.ValidationError, field_names: dict | None = None):
    flat = _flatten(exc.detail)
    field_names = field_names or {}
    errors = {field_names.get(k, k): [str(m) for m in msgs] for k, msgs in flat.items() if msgs}
    first_field, first = next(iter(flat.items()), ("", [exc.default_detail]))
    drf_code = getattr(first[0], "code", "invalid")
    code = _VALIDATION_CODES.get(drf_code, drf_code)
    if STATUS_OF_CODE.get(code) != 400:  # DRF's other codes (invalid_choice, date, ...)
        code = LendingErrorCode.INVALID
    name = field_names.get(first_field, first_field)
    detail = f"{name}: {first[0]}" if name and name != "non_field_errors" else str(first[0])
    return problem(code=code, detail=detail, status_code=400, errors=errors)


def lending_problem(exc: LendingError, field_names: dict | None = None) -> Response:
    field = (field_names or {}).get(exc.field, exc.field)
    errors = {field: [exc.message]} if field else {}
    detail = f"{field}: {exc.message}" if field else exc.message
    return problem(code=exc.code, detail=detail, errors=errors)


def _is_unique_violation(exc) -> bool:
    """PostgreSQL's unique_violation (SQLSTATE 23505) or SQLite's UNIQUE constraint."""
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) == "23505" or getattr(cause, "pgcode", None) == "23505":
        return True
    return "UNIQUE constraint failed" in str(exc)


def exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every exception a view lets out, as a problem."""
    view = context.get("view")
    field_names = getattr(view, "error_fields", None)
    if isinstance(exc, LendingError):
        return lending_problem(exc, field_names)
    if isinstance(exc, exceptions.ValidationError):
        return validation_problem(exc, field_names)
    from django.core.exceptions import PermissionDenied, SuspiciousOperation
    from django.db import IntegrityError
    from django.db.models import ProtectedError
    from django.http import Http404

    if isinstance(exc, IntegrityError) and _is_unique_violation(exc):
        # A unique value taken meanwhile (or a service that does not check it first): the
        # transaction rolled back; what is asked for exists already.
        return problem(
            code=LendingErrorCode.DUPLICATE,
            detail=_("a record with this value exists already"),
        )
    if isinstance(exc, ProtectedError):
        # A row that records refer to (PROTECT): the service's transaction rolled back.
        return problem(
            code=LendingErrorCode.IN_USE,
            detail=_("other records refer to it (e.g. contact attempts); it is kept"),
        )
    if isinstance(exc, SuspiciousOperation):
        # Raised while DRF reads the body (more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields or
        # DATA_UPLOAD_MAX_MEMORY_SIZE bytes, ...): Django would answer its HTML 400 page. Logged
        # to django.security as Django does, answered as a problem like every other 400.
        request = context.get("request")
        logging.getLogger(f"django.security.{type(exc).__name__}").error(
            str(exc),
            exc_info=exc,
            extra={"status_code": 400, "request": getattr(request, "_request", request)},
        )
        return problem(
            code=ApiErrorCode.PARSE_ERROR,
            detail=_("The request could not be read: too large, or too many fields or files."),
            status_code=400,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's handler500 (config.api.views.server_error) answers
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    code = next(
        (code for cls, code in _DRF_CODES.items() if isinstance(exc, cls)),
        getattr(exc, "default_code", "invalid"),
    )
    return problem(code=code, detail=str(exc.detail), status_code=exc.status_code, headers=headers)
