"""OpenAPI pieces shared by every view: the problem-details body with its enum of codes, and
the schema class (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) that keeps the published schema true
to what the views answer — Schemathesis (tests/api/test_schemathesis.py) holds them to it."""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from config.api.errors import ALL_CODES, PROBLEM_CONTENT_TYPE, TITLES


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details: every error the API returns has this shape."""

    type = serializers.CharField(help_text="urn:lending:problem:<code>")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.ChoiceField(
        choices=ALL_CODES, help_text="Stable error code: the services' codes and the API's own."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name → messages (empty when no single field is at fault).",
    )


def problem_responses(*statuses: int) -> dict:
    """{status: response} for the errors an operation can return (401 always can)."""
    wanted = sorted({401, *statuses})
    return {(status, PROBLEM_CONTENT_TYPE): _problem(status) for status in wanted}


def _problem(status: int) -> OpenApiResponse:
    return OpenApiResponse(response=ProblemSerializer, description=str(TITLES[status]))


# Django's TimeField reads and writes local wall-clock times ("08:00:00"); JSON Schema's `time`
# format is RFC 3339's full-time, which requires an offset ("08:00:00+08:00"), so a validator
# rejects every time the API writes. RFC 3339's name for a time without an offset:
PARTIAL_TIME = {"type": "string", "format": "partial-time", "example": "08:00:00"}
PARTIAL_TIME_PATTERN = r"^\d{2}:\d{2}:\d{2}(\.\d{1,6})?$"

# Query parameters of the paginators (config/api/pagination.py): a page number past the last,
# or a forged cursor, is 404 `not_found` (docs/api.md).
PAGE_PARAMETERS = {"page", "cursor"}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, true to three things the views do that it cannot see:

    - a read-only field with `default=None` (`CharField(source="posted_by.username",
      default=None, read_only=True)`) answers null when the relation is empty: nullable;
    - a time is written without an offset (PARTIAL_TIME above);
    - a paginated list answers 404 for a page that does not exist.
    """

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if not isinstance(schema, dict):
            return schema
        if isinstance(field, serializers.TimeField) and schema.get("format") == "time":
            schema.update(PARTIAL_TIME)
            if direction == "response":
                schema["pattern"] = PARTIAL_TIME_PATTERN
        if field.read_only and field.default is None and "type" in schema:
            schema["nullable"] = True
        return schema

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        responses = operation.get("responses", {})
        if query & PAGE_PARAMETERS and "404" not in responses:
            responses["404"] = self._get_response_for_code(
                _problem(404), "404", media_types=[PROBLEM_CONTENT_TYPE]
            )
        return operation
