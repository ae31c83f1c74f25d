"""Base classes of the API's views and input serializers (HackSoft style: one view per
operation, small input/output serializers, the view calls a service or a selector)."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.views import APIView

from config.api.errors import PROBLEM_CONTENT_TYPE
from config.api.pagination import CursorPage
from config.api.permissions import HasReadPermission


class ApiView(APIView):
    """`read_permission` ("app.view_model") is what a user needs to see the resource at all;
    a write's own permission is checked by the service it calls. `error_fields` renames a
    service's field names to this view's input names in error responses."""

    permission_classes = [HasReadPermission]
    read_permission: str | None = None
    error_fields: dict[str, str] = {}

    def initial(self, request, *args, **kwargs):
        # A path can carry %00; PostgreSQL text cannot hold NUL, so the lookup would fail as a
        # 500 (DataError). No object is named by such a path.
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound()
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(response, "accepted_renderer", None)
        if getattr(response, "problem", False) and getattr(renderer, "format", "") == "json":
            response.content_type = PROBLEM_CONTENT_TYPE
        return response


class InputSerializer(serializers.Serializer):
    """Input: only the declared fields. Anything else — a typo, or a field the caller may not
    set such as `status` or `approved_by` — is refused naming it, never silently dropped
    (mass assignment)."""

    def __init_subclass__(cls, **kwargs):
        # Each view's nested `Input` gets its own schema component ("RepaymentInput"), not
        # one "Input" shared by every view.
        super().__init_subclass__(**kwargs)
        name = cls.__qualname__.replace(".", "")
        cls._spectacular_annotation = {**getattr(cls, "_spectacular_annotation", {})}
        cls._spectacular_annotation["component_name"] = name

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            # DRF's own message for a body that is not an object
            return super().to_internal_value(data)
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: [serializers.ErrorDetail(_("unknown field"), code="unknown_field")]
                    for name in unknown
                }
            )
        fields = data.lists() if hasattr(data, "lists") else data.items()  # a form: all values
        nul = sorted(name for name, value in fields if _holds_nul(value))
        if nul:
            # PostgreSQL text cannot hold NUL: refused here for every field, including those
            # DRF hands to the database unchecked (SlugRelatedField's lookup was a 500).
            message = _("must not contain NUL characters")
            raise serializers.ValidationError(
                {
                    name: [serializers.ErrorDetail(message, code="null_characters_not_allowed")]
                    for name in nul
                }
            )
        return super().to_internal_value(data)


def _holds_nul(value) -> bool:
    """Whether a value of the body, at any depth, holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def Money(**kwargs) -> serializers.DecimalField:
    """An amount in the book's shape (DESIGN §4: 18 digits, 2 places), as a string."""
    kwargs.setdefault("max_digits", 18)
    kwargs.setdefault("decimal_places", 2)
    return serializers.DecimalField(coerce_to_string=True, **kwargs)


def Rate(**kwargs) -> serializers.DecimalField:
    """An annual rate as a fraction (0.180000 = 18 %), as a string."""
    kwargs.setdefault("max_digits", 9)
    kwargs.setdefault("decimal_places", 6)
    return serializers.DecimalField(coerce_to_string=True, **kwargs)


class ListView(ApiView, ListAPIView):
    """A read-only list: `filterset_class` or `filterset_fields`, `ordering_fields`, cursor
    pagination unless the view says otherwise."""

    filter_backends = [DjangoFilterBackend, OrderingFilter]
    pagination_class = CursorPage
    ordering = ["-id"]


class DetailView(ApiView, RetrieveAPIView):
    pass


class AwareDateTime(serializers.DateTimeField):
    """An RFC 3339 date-time with its offset ("2026-11-10T21:59:59+08:00"). Without an offset
    the moment is ambiguous — whose 22:00? — so it is refused, never guessed; so is a year
    before 1901, where zones such as Asia/Shanghai only had a local mean time (+08:05:43) that
    RFC 3339 cannot carry."""

    default_error_messages = {
        "naive": _("needs its offset, e.g. 2026-11-10T21:59:59+08:00"),
        "too_early": _("is before 1901"),
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        if value.year < 1901:
            self.fail("too_early")
        return super().enforce_timezone(value)


_PROTOTYPES: dict[type, serializers.Serializer] = {}


def represented(serializer_class, instance) -> dict:
    """`serializer_class(instance).data`, without building the serializer's fields again.

    DRF builds a ModelSerializer's fields (model introspection, validators, labels) anew for
    every instance it is given: on a repayment, the API's hot path, that was 1.9 ms of the
    request's 25 (docs/benchmarks.md), more than the answer's own work. An output serializer's
    fields hold no per-request state, so one instance per class, its fields built once,
    represents every object. Only for output serializers whose fields need no context (no
    request, no hyperlinks)."""
    prototype = _PROTOTYPES.get(serializer_class)
    if prototype is None:
        prototype = serializer_class()
        prototype.fields  # noqa: B018 - built here, once per class and process
        _PROTOTYPES[serializer_class] = prototype
    return prototype.to_representation(instance)


def validated(view, request) -> dict:
    """The view's `Input` over the request body: the validated data, or a 400 naming fields."""
    data = view.Input(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)
