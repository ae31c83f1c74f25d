"""POST /api/v1/auth/token/: username and password for a token (DRF TokenAuthentication).

The password goes through django.contrib.auth.authenticate with the plain HttpRequest, so
django-axes counts wrong passwords and locks the account exactly as on the admin login page
(settings: AXES_*). A locked account gets a problem-details 429 here, not axes' HTML page."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from config.api.base import ApiView, InputSerializer
from config.api.errors import ApiErrorCode, problem
from config.api.schema import problem_responses


class TokenLogin(ApiView):
    permission_classes = [AllowAny]
    authentication_classes = []  # a stale session or token must not decide a login
    throttle_classes = [AnonRateThrottle]

    class Input(InputSerializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
        summary="Obtain an API token",
        description="Exchange a username and password for a token; send it as "
        "`Authorization: Token <token>`. Too many wrong passwords lock the account "
        "(429 `locked_out`) for the configured cool-off.",
        request=Input,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            **problem_responses(400, 429),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(
            request=django_request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            # Answered here in the API's format: AxesMiddleware would swap in its HTML page.
            del django_request.axes_locked_out
            return problem(
                code=ApiErrorCode.LOCKED_OUT,
                detail=_("Account locked: too many login attempts. Try again later."),
            )
        if user is None or not user.is_active:
            return problem(
                code=ApiErrorCode.INVALID_CREDENTIALS,
                detail=_("Unable to log in with the username and password given."),
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key}, status=status.HTTP_200_OK)
