"""Error pages for people inside the admin's frame (header, the user's links and menu, a way
back), instead of a bare "403 Forbidden"; /api/ paths keep the API's problem details
(config.api.views)."""

from django.contrib import admin
from django.template import loader
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from config.api import views as api_views

TEMPLATE = "admin/error_page.html"


def _framed(request, status: int, title: str, message: str, detail: str = ""):
    context = {
        **admin.site.each_context(request),
        "title": title,
        "message": message,
        "detail": detail,
    }
    return TemplateResponse(request, TEMPLATE, context, status=status).render()


def permission_denied(request, exception=None):
    # A refusal from a service names what the user may not do: show it.
    detail = str(exception) if exception and str(exception) else ""
    return _framed(
        request,
        403,
        _("Not allowed"),
        _("Your role does not allow this page or action. Ask an administrator if you need it."),
        detail,
    )


def not_found(request, exception=None):
    if api_views.is_api(request):
        return api_views.not_found(request, exception)
    return _framed(
        request,
        404,
        _("Not found"),
        _("There is nothing at this address, or it is not one you may see."),
    )


def server_error(request):
    if api_views.is_api(request):
        return api_views.server_error(request)
    # No request context: the database may be what failed. Nothing of the failure is shown.
    from django.http import HttpResponseServerError

    body = loader.get_template(TEMPLATE).render(
        {
            "site_header": admin.site.site_header,
            "site_title": admin.site.site_title,
            "title": _("Server error"),
            "message": _("Something went wrong on our side; it is logged. Try again in a moment."),
        }
    )
    return HttpResponseServerError(body)
