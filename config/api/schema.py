"""OpenAPI pieces shared by every view: the problem-details body with its enum of codes."""

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
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            response=ProblemSerializer, description=str(TITLES[status])
        )
        for status in wanted
    }
