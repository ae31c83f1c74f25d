"""Limit increase proposals: the nightly review (or a risk analyst) proposes a higher credit
limit; another risk analyst approves or rejects it (risk.services.limits, four eyes there)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.base import ApiView, DetailView, InputSerializer, ListView, Money, validated
from config.api.idempotency import IDEMPOTENCY_KEY, idempotent
from config.api.pagination import NumberedPage
from config.api.schema import problem_responses
from lending.models import Borrower
from risk.api.serializers import LimitProposalOutput
from risk.models import LimitIncreaseProposal
from risk.services.limits import (
    limit_increase_approve,
    limit_increase_propose,
    limit_increase_reject,
)

TAGS = ["credit limits"]
PROPOSAL_READ = "risk.view_limitincreaseproposal"
PROPOSALS = LimitIncreaseProposal.objects.select_related(
    "credit_limit", "policy", "proposed_by", "decided_by"
)
WRITE_ERRORS = problem_responses(400, 403, 404, 409, 422)


class LimitProposals(ListView):
    """GET the proposals; POST a new one."""

    read_permission = PROPOSAL_READ
    queryset = PROPOSALS
    serializer_class = LimitProposalOutput
    pagination_class = NumberedPage
    filterset_fields = ["status", "credit_limit"]
    ordering_fields = ["id", "created_at", "proposed_amount"]
    # The service names the amount as the model does.
    error_fields = {"proposed_amount": "amount"}

    class Input(InputSerializer):
        borrower = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        amount = Money(help_text="The proposed limit: above the current one, within the cap.")
        reason = serializers.CharField(max_length=255)

    @extend_schema(
        summary="List limit increase proposals",
        description="Filter by `status` (`proposed` awaits a decision, `approved`, "
        "`rejected`) and `credit_limit`.",
        responses={200: LimitProposalOutput(many=True), **problem_responses(400, 403)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Propose a higher credit limit",
        description="Needs `risk.add_limitincreaseproposal` (risk analysts). Only for an "
        "active limit (409 `illegal_transition`), above the current amount and within the "
        "household cap (400 `out_of_range` on `amount`); one proposal awaiting approval per "
        "limit (409 `duplicate`). Another risk analyst decides it (`decide/`).",
        request=Input,
        responses={201: LimitProposalOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "After a year paid on time",
                value={"borrower": 42, "amount": "30000.00", "reason": "12 on-time installments"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request):
        data = validated(self, request)
        borrower = get_object_or_404(Borrower, pk=data["borrower"])
        proposal = limit_increase_propose(
            borrower=borrower,
            amount=data["amount"],
            reason=data["reason"],
            acting_user=request.user,
        )
        return Response(
            LimitProposalOutput(PROPOSALS.get(pk=proposal.pk)).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema(
    summary="A limit increase proposal",
    responses={200: LimitProposalOutput, **problem_responses(403, 404)},
    tags=TAGS,
)
class LimitProposalDetail(DetailView):
    read_permission = PROPOSAL_READ
    queryset = PROPOSALS
    serializer_class = LimitProposalOutput


class LimitProposalDecide(ApiView):
    read_permission = PROPOSAL_READ

    class Input(InputSerializer):
        approve = serializers.BooleanField(help_text="true raises the limit, false keeps it.")
        note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    @extend_schema(
        summary="Approve or reject a limit increase",
        description="Needs `risk.approve_limitincreaseproposal` (risk analysts). Approving — "
        "never by the proposer (409 `same_person`) — raises the limit, recorded in its history "
        "with the proposal's policy version; a limit changed or frozen since is a 409 "
        "`illegal_transition`, and so is a proposal decided already.",
        request=Input,
        responses={200: LimitProposalOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Approve", value={"approve": True, "note": "bureau clean"}, request_only=True
            ),
            OpenApiExample(
                "Reject", value={"approve": False, "note": "new debt elsewhere"}, request_only=True
            ),
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        proposal = get_object_or_404(LimitIncreaseProposal, pk=pk)
        data = validated(self, request)
        decide = limit_increase_approve if data["approve"] else limit_increase_reject
        decide(proposal_id=proposal.pk, note=data["note"], acting_user=request.user)
        return Response(LimitProposalOutput(PROPOSALS.get(pk=proposal.pk)).data)
