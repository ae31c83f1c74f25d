"""GET /api/v1/collections/kpis/: the KPI page's figures (debt_collection.kpis), read only."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from config.api.base import ApiView
from config.api.schema import problem_responses
from debt_collection import kpis
from debt_collection.api.serializers import KpiOutput

MAX_MONTHS = 24
CURE_DAYS = 30


class Kpis(ApiView):
    # Figures over every case: those who see every case (managers, finance, auditors).
    read_permission = "collections.view_all_cases"

    class Query(serializers.Serializer):
        until = serializers.DateField(required=False, help_text="Default: today.")
        since = serializers.DateField(required=False)
        months = serializers.IntegerField(required=False, min_value=1, max_value=MAX_MONTHS)

        def validate(self, attrs):
            today = timezone.localdate()
            until = attrs.get("until") or today
            if until > today:
                raise serializers.ValidationError({"until": [_("is in the future")]})
            since = attrs.get("since") or until - timedelta(days=CURE_DAYS)
            if since > until:
                raise serializers.ValidationError({"since": [_("must not be after until")]})
            return {"until": until, "since": since, "months": attrs.get("months") or 6}

    @extend_schema(
        summary="Collections KPIs",
        description="Open cases now by bucket and by queue (count and overdue amount); roll rates "
        "month over month for `months` months up to `until`'s month; the cure rate of the "
        "cases open from `since` (default: 30 days before `until`) to `until`; promises kept "
        "and broken; compliance refusals per collector and rule; recovered amounts after "
        "write-off per collector and queue. Rates are fractions with four places, empty when "
        "there is nothing to divide by. Needs `collections.view_all_cases` (managers, finance, "
        "auditors).",
        parameters=[
            OpenApiParameter("until", OpenApiTypes.DATE, required=False),
            OpenApiParameter("since", OpenApiTypes.DATE, required=False),
            OpenApiParameter(
                "months", OpenApiTypes.INT, required=False, description="1 to 24; default 6."
            ),
        ],
        responses={200: KpiOutput, **problem_responses(400, 403)},
        examples=[
            OpenApiExample(
                "A small book",
                value={
                    "as_of": "2026-11-30",
                    "open_cases_by_bucket": [
                        {"bucket": "M1", "cases": 12, "overdue": "10420.50"},
                    ],
                    "open_cases_by_queue": [
                        {"queue": "M1 early reminders", "cases": 12, "overdue": "10420.50"},
                    ],
                    "roll_rates": [
                        {
                            "month": "2026-11",
                            "from_bucket": "M1",
                            "to_bucket": "M2",
                            "loans": 20,
                            "rolled": 5,
                            "rate": "0.2500",
                        }
                    ],
                    "cure": {
                        "since": "2026-10-31",
                        "until": "2026-11-30",
                        "cases": 30,
                        "cured": 18,
                        "rate": "0.6000",
                    },
                    "promises": {"pending": 4, "kept": 9, "broken": 3, "kept_rate": "0.7500"},
                    "refusals_by_collector": [
                        {"collector": "collector", "rule": "contact_outside_hours", "refusals": 2}
                    ],
                    "recovered": [
                        {
                            "collector": "collector",
                            "queue": "M1 early reminders",
                            "amount": "700.00",
                        }
                    ],
                },
                response_only=True,
            )
        ],
        tags=["collections"],
    )
    def get(self, request):
        query = self.Query(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        until, since, months = (query.validated_data[k] for k in ("until", "since", "months"))
        cure = kpis.cure_rate(since=since, until=until)
        figures = {
            "as_of": until,
            "open_cases_by_bucket": kpis.open_cases_by_bucket(),
            "open_cases_by_queue": kpis.open_cases_by_queue(),
            "roll_rates": kpis.roll_rates(until=until, months=months),
            "cure": {
                "since": since,
                "until": until,
                "cases": cure.cases,
                "cured": cure.cured,
                "rate": cure.rate,
            },
            "promises": kpis.promises(),
            "refusals_by_collector": kpis.refusals_by_collector(),
            "recovered": kpis.recovered_by_collector_and_queue(),
        }
        return Response(KpiOutput(figures).data)
