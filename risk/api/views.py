"""Applications (the one route to an approved loan), credit limits and policies. Each write
calls its service; reads go through the models and risk's selectors."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.base import ApiView, DetailView, InputSerializer, ListView, Money, Rate, validated
from config.api.idempotency import IDEMPOTENCY_KEY, idempotent
from config.api.pagination import NumberedPage
from config.api.schema import problem_responses
from lending.models import LoanProduct
from risk.api.serializers import (
    ApplicationDetailOutput,
    ApplicationOutput,
    CreditLimitOutput,
    LimitChangeOutput,
    PolicyDetailOutput,
    PolicyOutput,
)
from risk.models import CreditLimit, CreditPolicy, LoanApplication, PolicyStatus
from risk.selectors import with_available
from risk.services.policies import policy_activate, policy_copy, policy_create, policy_update
from risk.services.underwriting import application_review, application_submit
from risk.simulation import simulate_policy

APPLICATION_READ = "risk.view_loanapplication"
APPLICATIONS = LoanApplication.objects.select_related(
    "product", "loan", "submitted_by", "reviewed_by", "decision__policy"
)


class Applications(ListView):
    read_permission = APPLICATION_READ
    queryset = APPLICATIONS
    serializer_class = ApplicationOutput
    pagination_class = NumberedPage
    filterset_fields = ["status", "borrower"]
    ordering_fields = ["id", "submitted_at", "amount"]
    # The services name the terms as product_quote does; this door names them as the model.
    error_fields = {"rate": "annual_rate", "term": "term_months"}

    class Input(InputSerializer):
        borrower = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        product = serializers.SlugRelatedField(
            slug_field="code", queryset=LoanProduct.objects.all()
        )
        amount = Money()
        term_months = serializers.IntegerField()
        annual_rate = Rate(required=False, allow_null=True, default=None)
        purpose = serializers.CharField(max_length=200, required=False, default="")

    @extend_schema(
        summary="List loan applications",
        responses={200: ApplicationOutput(many=True), **problem_responses(400, 403)},
        tags=["applications"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Submit a loan application",
        description="Needs `risk.add_loanapplication`. The active policy decides at once: "
        "approved within the credit limit books an approved loan (`loan`), referred waits for "
        "a second credit officer (`review/`), declined says why (`decision.reasons`). The "
        "rate defaults to the product's maximum.",
        request=Input,
        responses={201: ApplicationDetailOutput, **problem_responses(400, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "An application",
                value={"borrower": 42, "product": "cash12", "amount": "8000.00", "term_months": 12},
                request_only=True,
            )
        ],
        tags=["applications"],
    )
    @idempotent
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        application = application_submit(
            borrower_id=values["borrower"],
            product=values["product"],
            amount=values["amount"],
            term_months=values["term_months"],
            annual_rate=values["annual_rate"],
            purpose=values["purpose"],
            acting_user=request.user,
        )
        application = APPLICATIONS.get(pk=application.pk)
        return Response(ApplicationDetailOutput(application).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary="A loan application",
    description="With its decision: outcome, grade, limit, reason codes and the full trace.",
    responses={200: ApplicationDetailOutput, **problem_responses(403, 404)},
    tags=["applications"],
)
class ApplicationDetail(DetailView):
    read_permission = APPLICATION_READ
    queryset = APPLICATIONS
    serializer_class = ApplicationDetailOutput


class ApplicationReview(ApiView):
    read_permission = APPLICATION_READ

    class Input(InputSerializer):
        approve = serializers.BooleanField()
        note = serializers.CharField(max_length=255)

    @extend_schema(
        summary="Decide a referred application",
        description="Needs `risk.decide_application`, and another officer than the one who "
        "submitted it (409 `same_person`). Approving books the loan within the credit limit.",
        request=Input,
        responses={200: ApplicationDetailOutput, **problem_responses(400, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        tags=["applications"],
    )
    @idempotent
    def post(self, request, pk: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        get_object_or_404(LoanApplication, pk=pk)
        application_review(application_id=pk, acting_user=request.user, **data.validated_data)
        return Response(ApplicationDetailOutput(APPLICATIONS.get(pk=pk)).data)


LIMITS = with_available(CreditLimit.objects.all())


@extend_schema(
    summary="List credit limits",
    description="With `exposure` (principal owed or approved) and `available`.",
    responses={200: CreditLimitOutput(many=True), **problem_responses(400, 403)},
    tags=["credit limits"],
)
class CreditLimits(ListView):
    read_permission = "risk.view_creditlimit"
    queryset = LIMITS
    serializer_class = CreditLimitOutput
    pagination_class = NumberedPage
    filterset_fields = ["status", "borrower"]
    ordering_fields = ["id", "amount", "updated_at"]


@extend_schema(
    summary="A credit limit",
    responses={200: CreditLimitOutput, **problem_responses(403, 404)},
    tags=["credit limits"],
)
class CreditLimitDetail(DetailView):
    read_permission = "risk.view_creditlimit"
    queryset = LIMITS
    serializer_class = CreditLimitOutput


@extend_schema(
    summary="A credit limit's history",
    description="Every change: who, when, why, under which policy version.",
    responses={200: LimitChangeOutput(many=True), **problem_responses(403, 404)},
    tags=["credit limits"],
)
class CreditLimitHistory(ListView):
    read_permission = "risk.view_creditlimitchange"
    serializer_class = LimitChangeOutput
    pagination_class = NumberedPage
    ordering_fields = ["id", "changed_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CreditLimit.objects.none()
        limit = get_object_or_404(CreditLimit, pk=self.kwargs["pk"])
        return limit.history.select_related("policy", "changed_by")


POLICIES = CreditPolicy.objects.select_related("created_by", "activated_by")
POLICY_WRITE_ERRORS = problem_responses(400, 403, 404, 409, 422)


class PolicyFields(InputSerializer):
    name = serializers.CharField(max_length=100)
    definition = serializers.DictField(
        help_text="Hard rules, scorecard, grades and limit rules (see `policies/{version}/` of "
        "the active version); checked whole, every broken rule listed."
    )
    notes = serializers.CharField(max_length=5000, allow_blank=True)


class Policies(ListView):
    """GET the policy versions; POST a new draft."""

    read_permission = "risk.view_creditpolicy"
    queryset = POLICIES
    serializer_class = PolicyOutput
    pagination_class = NumberedPage
    filterset_fields = ["status"]
    ordering_fields = ["version"]
    ordering = ["-version"]

    class Input(PolicyFields):
        notes = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
        status = serializers.ChoiceField(
            choices=[PolicyStatus.DRAFT, PolicyStatus.CANDIDATE],
            required=False,
            default=PolicyStatus.DRAFT,
            help_text="draft (default) or candidate: a version awaiting activation.",
        )

    @extend_schema(
        summary="List credit policy versions",
        responses={200: PolicyOutput(many=True), **problem_responses(400, 403)},
        tags=["policies"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Write a new policy version",
        description="Needs `risk.add_creditpolicy` (risk analysts, administrators). The "
        "version is numbered next; the definition is checked whole (400 `invalid` on "
        "`definition` listing every broken rule). It starts as a draft, or a candidate — one "
        "awaiting activation by someone who did not write it (`activate/`). "
        "`{version}/copy/` starts a draft from any version.",
        request=Input,
        responses={201: PolicyDetailOutput, **POLICY_WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "A candidate (definition abridged)",
                value={
                    "name": "2027 scorecard",
                    "status": "candidate",
                    "definition": {"hard_rules": {"…": "…"}, "scorecard": {"…": "…"}},
                    "notes": "refit on 2026 data",
                },
                request_only=True,
            )
        ],
        tags=["policies"],
    )
    @idempotent
    def post(self, request):
        data = validated(self, request)
        policy = policy_create(acting_user=request.user, **data)
        return Response(
            PolicyDetailOutput(POLICIES.get(pk=policy.pk)).data, status=status.HTTP_201_CREATED
        )


class PolicyDetail(DetailView):
    """GET a policy version; PATCH a draft or candidate."""

    read_permission = "risk.view_creditpolicy"
    queryset = POLICIES
    serializer_class = PolicyDetailOutput
    lookup_field = "version"

    class Input(PolicyFields):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for field in self.fields.values():  # a PATCH: what is not sent stays
                field.required = False

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError(_("give at least one field to change"))
            return attrs

    @extend_schema(
        summary="A credit policy version",
        description="With its definition (hard rules, scorecard, grades, limit rules).",
        responses={200: PolicyDetailOutput, **problem_responses(403, 404)},
        tags=["policies"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Edit a draft or candidate version",
        description="Needs `risk.change_creditpolicy`. Only a draft or a candidate: an active "
        "or retired version is kept read-only for audit (409 `illegal_transition`; copy it). "
        "Whoever edits a version may not activate it.",
        request=Input,
        responses={200: PolicyDetailOutput, **problem_responses(400, 403, 404, 409)},
        examples=[
            OpenApiExample("Notes", value={"notes": "approval cut-off raised"}, request_only=True)
        ],
        tags=["policies"],
    )
    def patch(self, request, version: int):
        policy = get_object_or_404(CreditPolicy, version=version)
        data = validated(self, request)
        policy_update(policy_id=policy.pk, acting_user=request.user, **data)
        return Response(PolicyDetailOutput(POLICIES.get(pk=policy.pk)).data)


class PolicyActivate(ApiView):
    read_permission = "risk.view_creditpolicy"

    @extend_schema(
        summary="Activate a policy version",
        description="Needs `risk.activate_policy` (risk analysts, administrators), and someone "
        "who neither wrote nor edited the version (409 `same_person`: maker-checker). The "
        "active version retires; only a draft or candidate is activated (409 "
        "`illegal_transition`). Every decision from now on records this version.",
        request=None,
        responses={200: PolicyDetailOutput, **POLICY_WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        tags=["policies"],
    )
    @idempotent
    def post(self, request, version: int):
        policy = get_object_or_404(CreditPolicy, version=version)
        policy_activate(policy_id=policy.pk, acting_user=request.user)
        return Response(PolicyDetailOutput(POLICIES.get(pk=policy.pk)).data)


class PolicyCopy(ApiView):
    read_permission = "risk.view_creditpolicy"

    class Input(InputSerializer):
        name = serializers.CharField(
            max_length=100, required=False, default="", help_text="Default: “… (copy of vN)”."
        )

    @extend_schema(
        summary="Copy a version into a new draft",
        description="Needs `risk.add_creditpolicy`. The way back to an old policy: copy it, "
        "then have someone else activate the copy.",
        request=Input,
        responses={201: PolicyDetailOutput, **POLICY_WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        tags=["policies"],
    )
    @idempotent
    def post(self, request, version: int):
        policy = get_object_or_404(CreditPolicy, version=version)
        data = validated(self, request)
        copy = policy_copy(policy_id=policy.pk, name=data["name"] or None, acting_user=request.user)
        return Response(
            PolicyDetailOutput(POLICIES.get(pk=copy.pk)).data, status=status.HTTP_201_CREATED
        )


class PolicySimulation(ApiView):
    read_permission = "risk.view_creditpolicy"

    class Query(serializers.Serializer):
        as_of = serializers.DateField(required=False)

    @extend_schema(
        summary="Simulate a policy version over the book",
        description="Read-only: evaluates the version and the active one over every borrower "
        "on the book and compares outcomes, grades, bad rates and total limit. On a large book "
        "`manage.py simulate_policy` is the better tool.",
        parameters=[OpenApiParameter("as_of", OpenApiTypes.DATE, required=False)],
        responses={200: OpenApiTypes.OBJECT, **problem_responses(400, 403, 404)},
        tags=["policies"],
    )
    def get(self, request, version: int):
        query = self.Query(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        get_object_or_404(CreditPolicy, version=version)
        as_of = query.validated_data.get("as_of") or timezone.localdate()
        return Response(simulate_policy(version=version, as_of=as_of).as_dict())
