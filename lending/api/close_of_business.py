"""The nightly close's runs: list, a run with its steps and chunks, and starting a date.

POST starts exactly one date: `business_day_begin` checks who may (administrators: the
`run_close_of_business` permission), that dates close in order, one at a time, and never a day
that has not ended; the request answers 202 with the run, and the chunks go to the Celery
workers as a chord after the commit (as lending/tasks.py does for the nightly start). A missed
stretch is closed date by date, or with `manage.py close_business_day`.
"""

from datetime import date

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from config.api.base import ApiView, InputSerializer, ListView
from config.api.idempotency import IDEMPOTENCY_KEY, idempotent
from config.api.pagination import NumberedPage
from config.api.schema import problem_responses
from lending.api.serializers import RunDetailOutput, RunOutput
from lending.close_of_business.runner import business_day_begin
from lending.models import BusinessDayRun
from lending.tasks import queue_run

TAGS = ["close of business"]
RUN_READ = "lending.view_businessdayrun"


class Runs(ListView):
    read_permission = RUN_READ
    queryset = BusinessDayRun.objects.select_related("started_by")
    serializer_class = RunOutput
    pagination_class = NumberedPage
    filterset_fields = ["status"]
    ordering_fields = ["business_date"]
    ordering = ["-business_date"]

    class Input(InputSerializer):
        business_date = serializers.DateField(help_text="The next date to close (not today).")

    @extend_schema(
        summary="List close-of-business runs",
        responses={200: RunOutput(many=True), **problem_responses(400, 403)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Close a business date",
        description="Administrators only (`lending.run_close_of_business`). Starts the close "
        "of one date — the next one after the last closed, or a failed one again — and "
        "answers 202 with the run; follow it at `runs/{business_date}/`. Out of order, "
        "already closed or already running is a 409.",
        request=Input,
        responses={202: RunDetailOutput, **problem_responses(400, 403, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            run = business_day_begin(
                business_date=data.validated_data["business_date"], acting_user=request.user
            )
            transaction.on_commit(lambda: queue_run(run, until=run.business_date))
        run.refresh_from_db()
        return Response(RunDetailOutput(run).data, status=status.HTTP_202_ACCEPTED)


class RunDetail(ApiView):
    read_permission = RUN_READ

    @extend_schema(
        summary="A close-of-business run",
        description="With each step's counts and each chunk's status.",
        responses={200: RunDetailOutput, **problem_responses(403, 404)},
        tags=TAGS,
    )
    def get(self, request, business_date: str):
        try:
            day = date.fromisoformat(business_date)
        except ValueError:
            raise NotFound() from None
        run = get_object_or_404(
            BusinessDayRun.objects.prefetch_related("steps", "chunks"), business_date=day
        )
        return Response(RunDetailOutput(run).data)
