"""Collections endpoints: one view per operation, each write one service call.

Every case URL first finds the case among those the user may see (reads.case_or_404): another
collector's case is a 404 on every URL, never a 403 that would confirm it exists. The services
check each operation's permission and every rule (the compliance guard in `contact_log`), and
their refusals leave as problem details with their stable codes (config/api/errors.py)."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.base import (
    ApiView,
    AwareDateTime,
    DetailView,
    InputSerializer,
    ListView,
    Money,
    validated,
)
from config.api.idempotency import IDEMPOTENCY_KEY, idempotent
from config.api.pagination import NumberedPage
from config.api.schema import problem_responses
from debt_collection.api import reads
from debt_collection.api.filters import CaseFilter, HoldFilter
from debt_collection.api.serializers import (
    AssignmentOutput,
    CaseDetailOutput,
    CaseOutput,
    CompliancePolicyOutput,
    ContactOutput,
    HoldOutput,
    PromiseOutput,
    QueueOutput,
)
from debt_collection.models import (
    Case,
    Channel,
    CompliancePolicy,
    ContactHold,
    HoldKind,
    Outcome,
    Party,
    Queue,
)
from debt_collection.services.case_time_zone import case_time_zone_set
from debt_collection.services.cases import case_reassign
from debt_collection.services.contacts import contact_hold_lift, contact_hold_place, contact_log
from debt_collection.services.policies import compliance_policy_activate
from debt_collection.services.promises import promise_record
from debt_collection.services.queues import queue_save
from lending.errors import LendingError, LendingErrorCode

CASE_READ = "collections.view_case"
TAGS = ["collections"]
_ID = {"min_value": 1, "max_value": 2**63 - 1}
# A write on a case: bad input, not allowed, not found (or not yours), a rule, a reused key.
WRITE_ERRORS = problem_responses(400, 403, 404, 409, 422)


def _fake(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


# --- cases ---------------------------------------------------------------------------------


class Cases(ListView):
    read_permission = CASE_READ
    serializer_class = CaseOutput
    filterset_class = CaseFilter
    ordering_fields = ["priority", "dpd", "overdue_amount", "opened_on", "id"]
    ordering = ["-priority", "id"]

    def get_queryset(self):
        if _fake(self):
            return Case.objects.none()
        return reads.cases_for(self.request.user)

    @extend_schema(
        summary="List collection cases",
        description="A collector's own cases; every case for managers, finance and auditors. "
        "Highest priority first by default; filter by `status`, `bucket`, `queue`, "
        "`collector`, `borrower`; order by `priority`, `dpd`, `overdue_amount`, `opened_on`.",
        responses={200: CaseOutput(many=True), **problem_responses(400, 403, 404)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CaseDetail(ApiView):
    read_permission = CASE_READ

    @extend_schema(
        summary="A collection case",
        description="With its priority explained (the points of each part and their "
        "maximum) and every loan of the borrower, grouped: the open case of each one you may "
        "see. Another collector's case is a 404.",
        responses={200: CaseDetailOutput, **problem_responses(403, 404)},
        tags=TAGS,
    )
    def get(self, request, pk: int):
        case = reads.case_or_404(request.user, pk)
        loans, open_cases = reads.borrower_loans(case, request.user)
        context = {"borrower_loans": loans, "open_cases": open_cases}
        return Response(CaseDetailOutput(case, context=context).data)


class CaseContacts(ListView):
    """GET the case's contact log; POST a contact through the compliance guard."""

    read_permission = CASE_READ
    serializer_class = ContactOutput
    pagination_class = NumberedPage
    ordering_fields = ["contacted_at", "id"]
    ordering = ["-contacted_at", "-id"]

    class Input(InputSerializer):
        channel = serializers.ChoiceField(choices=Channel.choices)
        party = serializers.ChoiceField(choices=Party.choices)
        emergency_contact = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="One of the borrower's emergency contacts (party emergency_contact).",
            **_ID,
        )
        contacted_at = AwareDateTime(
            help_text="When, with its offset; not in the future, not before the case opened."
        )
        connected = serializers.BooleanField()
        outcome = serializers.ChoiceField(choices=Outcome.choices)
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def get_queryset(self):
        if _fake(self):
            return Case.objects.none()
        case = reads.case_or_404(self.request.user, self.kwargs["pk"])
        return case.contacts.select_related("emergency_contact", "agent", "policy")

    @extend_schema(
        summary="A case's contact log",
        responses={200: ContactOutput(many=True), **problem_responses(400, 403, 404)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Log a contact attempt",
        description="Needs `collections.log_contact` (a collector on their own case, a "
        "manager). The active compliance policy decides: a breach is a 409 with the rule's "
        "code — `contact_party_not_allowed`, `contact_hold`, `contact_emergency_too_early`, "
        "`contact_outside_hours` (in the borrower's time zone: 21:59:59 allowed, 22:00:00 "
        "refused), `contact_daily_limit` (connected calls per debtor per day, all agents), "
        "`contact_weekly_limit` — naming the rule's source; refusals are counted for the "
        "collector. A `contacted_at` in the future or before the case opened is a 400.",
        request=Input,
        responses={201: ContactOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "A call that reached the borrower",
                value={
                    "channel": "call",
                    "party": "borrower",
                    "contacted_at": "2026-11-10T10:30:00+08:00",
                    "connected": True,
                    "outcome": "promise_to_pay",
                    "note": "will pay on Friday",
                },
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        case = reads.case_or_404(request.user, pk)
        data = validated(self, request)
        contact = contact_log(
            case_id=case.pk,
            channel=data["channel"],
            party=data["party"],
            emergency_contact_id=data["emergency_contact"],
            contacted_at=data["contacted_at"],
            connected=data["connected"],
            outcome=data["outcome"],
            note=data["note"],
            acting_user=request.user,
        )
        return Response(ContactOutput(contact).data, status=status.HTTP_201_CREATED)


class CasePromises(ListView):
    """GET the case's promises to pay; POST a new one."""

    read_permission = CASE_READ
    serializer_class = PromiseOutput
    pagination_class = NumberedPage
    ordering_fields = ["promised_for", "id"]
    ordering = ["-promised_for", "-id"]

    class Input(InputSerializer):
        amount = Money(help_text="Above 0.")
        promised_for = serializers.DateField(help_text="From today to 90 days ahead.")
        contact = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="The contact attempt of this case it was made in.",
            **_ID,
        )

    def get_queryset(self):
        if _fake(self):
            return Case.objects.none()
        case = reads.case_or_404(self.request.user, self.kwargs["pk"])
        return case.promises.select_related("recorded_by")

    @extend_schema(
        summary="A case's promises to pay",
        description="Pending, kept or broken (judged every night).",
        responses={200: PromiseOutput(many=True), **problem_responses(400, 403, 404)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Record a promise to pay",
        description="Needs `collections.record_promise`. The nightly run marks it kept when "
        "repayments from today reach the amount by the date (plus the policy's grace days), "
        "broken otherwise — a broken promise raises the case's priority.",
        request=Input,
        responses={201: PromiseOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "A promise",
                value={"amount": "500.00", "promised_for": "2026-12-10"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        case = reads.case_or_404(request.user, pk)
        data = validated(self, request)
        promise = promise_record(
            case_id=case.pk,
            amount=data["amount"],
            promised_for=data["promised_for"],
            contact_id=data["contact"],
            acting_user=request.user,
        )
        return Response(PromiseOutput(promise).data, status=status.HTTP_201_CREATED)


class CaseTimeZone(ApiView):
    read_permission = CASE_READ

    class Input(InputSerializer):
        time_zone = serializers.CharField(
            max_length=64, help_text="An IANA time zone name, e.g. Asia/Urumqi."
        )
        reason = serializers.CharField(max_length=255, help_text="How you know.")

    @extend_schema(
        summary="Set the borrower's time zone on a case",
        description="Needs `collections.set_case_time_zone` (managers): contact hours are "
        "checked in this zone from now on, so the collector working the case may not move it. "
        "An open case only; the change and its reason are audited.",
        request=Input,
        responses={200: CaseOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Works in Urumqi",
                value={"time_zone": "Asia/Urumqi", "reason": "said so on the phone"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        case = reads.case_or_404(request.user, pk)
        data = validated(self, request)
        case_time_zone_set(
            case_id=case.pk,
            time_zone=data["time_zone"],
            reason=data["reason"],
            acting_user=request.user,
        )
        return Response(CaseOutput(reads.case_or_404(request.user, pk)).data)


class Reassign(ApiView):
    read_permission = CASE_READ
    error_fields = {"case": "cases"}

    class Input(InputSerializer):
        cases = serializers.ListField(
            child=serializers.IntegerField(**_ID), min_length=1, max_length=1000
        )
        queue = serializers.IntegerField(
            required=False, allow_null=True, default=None, help_text="Default: each case's.", **_ID
        )
        collector = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="A member of the queue; default: the member with the fewest open cases.",
            **_ID,
        )
        reason = serializers.CharField(max_length=255)

    @extend_schema(
        summary="Reassign cases in bulk",
        description="Needs `collections.reassign_case` (managers). All the cases or none: an "
        "unknown case is a 404, a collector outside the queue a 400. Every hand-out is recorded.",
        request=Input,
        responses={200: AssignmentOutput(many=True), **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "To another collector",
                value={"cases": [41, 42], "collector": 7, "reason": "holiday cover"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request):
        data = validated(self, request)
        records = case_reassign(
            case_ids=data["cases"],
            queue_id=data["queue"],
            collector_id=data["collector"],
            reason=data["reason"],
            acting_user=request.user,
        )
        return Response(AssignmentOutput(records, many=True).data)


# --- queues --------------------------------------------------------------------------------

QUEUE_READ = "collections.view_queue"


def _active_users(ids: list[int]) -> list:
    """The users named as members: each must be an active user."""
    users = list(get_user_model().objects.filter(pk__in=ids, is_active=True))
    missing = sorted(set(ids) - {u.pk for u in users})
    if missing:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("no active user %s") % ", ".join(map(str, missing)),
            field="members",
        )
    return users


class QueueFields(InputSerializer):
    name = serializers.CharField(max_length=100)
    from_bucket = serializers.CharField(
        max_length=8, allow_blank=True, help_text="The first bucket the nightly run routes here."
    )
    to_bucket = serializers.CharField(
        max_length=8, allow_blank=True, help_text="The last one (empty: every later bucket)."
    )
    outside_agency = serializers.BooleanField(
        help_text="Worked by an outside agency: filled by reassignment, not by the night."
    )
    active = serializers.BooleanField()


class Queues(ListView):
    """GET the queues; POST a new one."""

    read_permission = QUEUE_READ
    queryset = reads.QUEUES
    serializer_class = QueueOutput
    pagination_class = NumberedPage
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    class Input(QueueFields):
        to_bucket = serializers.CharField(max_length=8, allow_blank=True, required=False)
        outside_agency = serializers.BooleanField(required=False)
        active = serializers.BooleanField(required=False)
        members = serializers.ListField(
            child=serializers.IntegerField(**_ID), max_length=1000, required=False, default=list
        )

    @extend_schema(
        summary="List collection queues",
        description="Each with its bucket range and member collectors.",
        responses={200: QueueOutput(many=True), **problem_responses(400, 403, 404)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a collection queue",
        description="Needs `collections.add_queue` (managers). The buckets are the book's "
        "delinquency buckets (400 naming the field otherwise; the range may not end before it "
        "starts); a queue the nightly run fills needs its first bucket, an outside agency's "
        "does not. A name taken already is a 409 `duplicate`.",
        request=Input,
        responses={201: QueueOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Late-stage calls",
                value={"name": "M3 calls", "from_bucket": "M3", "to_bucket": "M3", "members": [7]},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request):
        data = validated(self, request)
        members = _active_users(data.pop("members"))
        queue = queue_save(values=data, members=members, acting_user=request.user)
        return Response(
            QueueOutput(reads.QUEUES.get(pk=queue.pk)).data, status=status.HTTP_201_CREATED
        )


class QueueDetail(DetailView):
    """GET a queue; PATCH its name, bucket range, agency flag or state."""

    read_permission = QUEUE_READ
    queryset = reads.QUEUES
    serializer_class = QueueOutput

    class Input(QueueFields):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for field in self.fields.values():  # a PATCH: what is not sent stays
                field.required = False

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError(_("give at least one field to change"))
            return attrs

    @extend_schema(
        summary="A collection queue",
        responses={200: QueueOutput, **problem_responses(403, 404)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Edit a collection queue",
        description="Needs `collections.change_queue` (managers). The same rules as creating "
        "one; the members keep (see `members/`). Cases already in the queue stay until the "
        "nightly run or a reassignment moves them.",
        request=Input,
        responses={200: QueueOutput, **problem_responses(400, 403, 404, 409)},
        examples=[
            OpenApiExample("Paused", value={"active": False}, request_only=True),
        ],
        tags=TAGS,
    )
    def patch(self, request, pk: int):
        queue = get_object_or_404(reads.QUEUES, pk=pk)
        data = validated(self, request)
        queue_save(
            values=data, members=list(queue.members.all()), queue_id=queue.pk,
            acting_user=request.user,
        )  # fmt: skip
        return Response(QueueOutput(reads.QUEUES.get(pk=queue.pk)).data)


class QueueMembers(ApiView):
    read_permission = QUEUE_READ

    class Input(InputSerializer):
        members = serializers.ListField(
            child=serializers.IntegerField(**_ID),
            max_length=1000,
            allow_empty=True,
            help_text="User ids: the queue's collectors from now on (replaces the list).",
        )

    @extend_schema(
        summary="Set a queue's members",
        description="Needs `collections.change_queue` (managers). Cases already assigned keep "
        "their collector until the nightly run or a reassignment moves them.",
        request=Input,
        responses={200: QueueOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[OpenApiExample("Two collectors", value={"members": [7, 8]}, request_only=True)],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        queue = get_object_or_404(Queue, pk=pk)
        users = _active_users(validated(self, request)["members"])
        queue = queue_save(values={}, members=users, queue_id=queue.pk, acting_user=request.user)
        return Response(QueueOutput(reads.QUEUES.get(pk=queue.pk)).data)


# --- compliance policies -------------------------------------------------------------------

POLICY_READ = "collections.view_compliancepolicy"
POLICIES = CompliancePolicy.objects.select_related("activated_by")


@extend_schema(
    summary="List compliance policy versions",
    description="Each rule's value with its source; exactly one version is active.",
    responses={200: CompliancePolicyOutput(many=True), **problem_responses(400, 403, 404)},
    tags=TAGS,
)
class Policies(ListView):
    read_permission = POLICY_READ
    queryset = POLICIES
    serializer_class = CompliancePolicyOutput
    pagination_class = NumberedPage
    filterset_fields = ["status"]
    ordering_fields = ["version"]
    ordering = ["-version"]


@extend_schema(
    summary="A compliance policy version",
    responses={200: CompliancePolicyOutput, **problem_responses(403, 404)},
    tags=TAGS,
)
class PolicyDetail(DetailView):
    read_permission = POLICY_READ
    queryset = POLICIES
    serializer_class = CompliancePolicyOutput
    lookup_field = "version"


class PolicyActivate(ApiView):
    read_permission = POLICY_READ

    @extend_schema(
        summary="Activate a compliance policy version",
        description="Needs `collections.manage_compliance_policy` (managers). The version "
        "enforced so far is retired; activating the active one is a 409.",
        request=None,
        responses={200: CompliancePolicyOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, version: int):
        policy = get_object_or_404(CompliancePolicy, version=version)
        compliance_policy_activate(policy_id=policy.pk, acting_user=request.user)
        return Response(CompliancePolicyOutput(POLICIES.get(pk=policy.pk)).data)


# --- contact holds -------------------------------------------------------------------------

HOLD_READ = "collections.view_contacthold"


class Holds(ListView):
    read_permission = HOLD_READ
    serializer_class = HoldOutput
    pagination_class = NumberedPage
    filterset_class = HoldFilter
    ordering_fields = ["placed_at", "id"]
    ordering = ["-placed_at", "-id"]

    class Input(InputSerializer):
        borrower = serializers.IntegerField(**_ID)
        kind = serializers.ChoiceField(choices=HoldKind.choices)
        reason = serializers.CharField(max_length=255)

    def get_queryset(self):
        if _fake(self):
            return ContactHold.objects.none()
        return reads.holds_for(self.request.user)

    @extend_schema(
        summary="List contact holds",
        description="Do-not-contact and dispute holds (a collector: on their own borrowers). "
        "`in_force=true` for those not lifted.",
        responses={200: HoldOutput(many=True), **problem_responses(400, 403, 404)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Place a contact hold",
        description="Needs `collections.manage_contact_hold` (managers). While in force, every "
        "contact with the borrower is refused (`contact_hold`).",
        request=Input,
        responses={201: HoldOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request):
        data = validated(self, request)
        hold = contact_hold_place(
            borrower_id=data["borrower"],
            kind=data["kind"],
            reason=data["reason"],
            acting_user=request.user,
        )
        return Response(HoldOutput(hold).data, status=status.HTTP_201_CREATED)


class HoldLift(ApiView):
    read_permission = HOLD_READ

    @extend_schema(
        summary="Lift a contact hold",
        description="Needs `collections.manage_contact_hold`. A hold already lifted is a 404.",
        request=None,
        responses={200: HoldOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        hold = get_object_or_404(reads.holds_for(request.user), pk=pk)
        hold = contact_hold_lift(hold_id=hold.pk, acting_user=request.user)
        return Response(HoldOutput(hold).data)
