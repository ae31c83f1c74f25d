"""Django-level error pages for /api/ paths: a URL no view matches, or a bug (500), answered
in the API's problem format; every other path keeps Django's own pages."""

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults

from config.api.errors import PROBLEM_CONTENT_TYPE, TITLES, TYPE_PREFIX, ApiErrorCode
from lending.errors import LendingErrorCode


def _problem(status: int, code: str, detail: str) -> HttpResponse:
    body = {
        "type": f"{TYPE_PREFIX}{code}",
        "title": str(TITLES[status]),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": {},
    }
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if is_api(request):
        return _problem(404, str(LendingErrorCode.NOT_FOUND), _("Not found."))
    return defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    # A request Django refused before any view (a bad Host header, a malformed body).
    if is_api(request):
        return _problem(400, str(ApiErrorCode.PARSE_ERROR), _("The request could not be read."))
    return defaults.bad_request(request, exception)


def server_error(request):
    # Nothing of the failure is shown: it is in the server's log.
    if is_api(request):
        return _problem(500, str(ApiErrorCode.SERVER_ERROR), _("The server failed; try again."))
    return defaults.server_error(request)
