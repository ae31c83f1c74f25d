"""Concessions through the API: waivers and settlements (a collector proposes on their own case,
a collections manager — never the proposer — decides), write-off proposals (drawn up by the
night, decided by finance) and recoveries (money on a written-off loan, posted by finance).

Every write is one service call (debt_collection.services.concessions,
lending.services.concessions); the services check the permission, the four eyes and every
amount. A proposal on a case the user may not see is a 404, as the case itself."""

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.base import ApiView, DetailView, InputSerializer, ListView, Money, validated
from config.api.idempotency import IDEMPOTENCY_KEY, idempotent
from config.api.pagination import NumberedPage
from config.api.schema import problem_responses
from debt_collection.api import reads
from debt_collection.api.serializers import (
    RecoveryOutput,
    SettlementOutput,
    WaiverOutput,
    WriteOffOutput,
)
from debt_collection.models import (
    Recovery,
    SettlementProposal,
    WaiverProposal,
    WriteOffProposal,
)
from debt_collection.services.concessions import (
    settlement_decide,
    settlement_propose,
    settlement_settle_now,
    waiver_decide,
    waiver_propose,
    write_off_decide,
)
from lending.api.idempotency import replay_or_conflict
from lending.api.loans import loan_or_404
from lending.services.concessions import recovery_post
from lending.services.ledger import lock_loan

TAGS = ["collections concessions"]
CASE_READ = "collections.view_case"
WAIVER_READ = "collections.view_waiverproposal"
SETTLEMENT_READ = "collections.view_settlementproposal"
WRITE_OFF_READ = "collections.view_writeoffproposal"
RECOVERY_READ = "collections.view_recovery"
WRITE_ERRORS = problem_responses(400, 403, 404, 409, 422)
LIST_ERRORS = problem_responses(400, 403, 404)


def _fake(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


class DecisionInput(InputSerializer):
    approve = serializers.BooleanField(help_text="true approves, false rejects.")
    note = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text="Kept with it."
    )


DECISION_EXAMPLES = [
    OpenApiExample(
        "Approve", value={"approve": True, "note": "hardship confirmed"}, request_only=True
    ),
    OpenApiExample(
        "Reject", value={"approve": False, "note": "income shown is enough"}, request_only=True
    ),
]
STATE_HELP = "`pending`, `approved`, `rejected` (settlements also `settled`, `lapsed`)."


class ProposalList(ListView):
    """A list of proposals on the cases the user may see, filtered by `state` and `case`."""

    model = None
    pagination_class = NumberedPage
    filterset_fields = ["state", "case"]
    ordering_fields = ["proposed_at", "id"]
    ordering = ["-id"]

    def get_queryset(self):
        if _fake(self):
            return self.model.objects.none()
        return reads.proposals_for(self.model, self.request.user)


class ProposalDetail(DetailView):
    model = None

    def get_queryset(self):
        if _fake(self):
            return self.model.objects.none()
        return reads.proposals_for(self.model, self.request.user)


class ProposalDecide(ApiView):
    """Approve or reject one proposal through its service (subclasses name which)."""

    model = None
    output = None
    Input = DecisionInput

    def decide(self, request, pk: int, service) -> Response:
        proposal = reads.proposal_or_404(self.model, request.user, pk)
        data = validated(self, request)
        service(
            proposal_id=proposal.pk,
            approve=data["approve"],
            note=data["note"],
            acting_user=request.user,
        )
        return Response(self.output(reads.proposal_or_404(self.model, request.user, pk)).data)


# --- waivers -------------------------------------------------------------------------------


class CaseWaivers(ListView):
    """GET the case's waiver proposals; POST a new one."""

    read_permission = CASE_READ
    serializer_class = WaiverOutput
    pagination_class = NumberedPage
    ordering_fields = ["proposed_at", "id"]
    ordering = ["-id"]

    class Input(InputSerializer):
        penalty = Money(required=False, default="0.00", help_text="Penalty to forgive (or 0).")
        interest = Money(
            required=False, default="0.00", help_text="Interest fallen due to forgive (or 0)."
        )
        reason = serializers.CharField(max_length=255)

    def get_queryset(self):
        if _fake(self):
            return WaiverProposal.objects.none()
        case = reads.case_or_404(self.request.user, self.kwargs["pk"])
        return reads.proposals_for(WaiverProposal, self.request.user).filter(case=case)

    @extend_schema(
        summary="A case's waiver proposals",
        responses={200: WaiverOutput(many=True), **LIST_ERRORS},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Propose a waiver",
        description="Needs `collections.propose_waiver` (a collector on their own open case, a "
        "manager). Asks to forgive penalty and/or interest fallen due — at most what is owed "
        "now (400 `out_of_range` naming `penalty` or `interest`). Nothing moves until a "
        "collections manager other than the proposer approves it (`waivers/{id}/decide/`); "
        "one pending waiver per case (409 `duplicate`), none on a closed case (409 "
        "`case_closed`).",
        request=Input,
        responses={201: WaiverOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Forgive the late-payment penalty",
                value={"penalty": "45.60", "reason": "hospitalised in October"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        case = reads.case_or_404(request.user, pk)
        data = validated(self, request)
        proposal = waiver_propose(
            case_id=case.pk,
            penalty=data["penalty"],
            interest=data["interest"],
            reason=data["reason"],
            acting_user=request.user,
        )
        proposal = reads.proposal_or_404(WaiverProposal, request.user, proposal.pk)
        return Response(WaiverOutput(proposal).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary="List waiver proposals",
    description="On the cases you may see (a collector: their own). Filter by `state` "
    "(`pending` for those awaiting a decision) and `case`.",
    responses={200: WaiverOutput(many=True), **LIST_ERRORS},
    tags=TAGS,
)
class Waivers(ProposalList):
    read_permission = WAIVER_READ
    model = WaiverProposal
    serializer_class = WaiverOutput


@extend_schema(
    summary="A waiver proposal",
    description="Its state, who proposed and decided it, and the waiver transaction it posted.",
    responses={200: WaiverOutput, **problem_responses(403, 404)},
    tags=TAGS,
)
class WaiverDetail(ProposalDetail):
    read_permission = WAIVER_READ
    model = WaiverProposal
    serializer_class = WaiverOutput


class WaiverDecide(ProposalDecide):
    read_permission = WAIVER_READ
    model = WaiverProposal
    output = WaiverOutput

    @extend_schema(
        summary="Approve or reject a waiver",
        description="Needs `collections.decide_waiver` (collections managers), and another "
        "person than the proposer (409 `same_person`). Approving posts the waiver on the loan "
        "(`transaction`), checking again that it is still owed; a proposal decided already is "
        "a 409 `proposal_decided`.",
        request=DecisionInput,
        responses={200: WaiverOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=DECISION_EXAMPLES,
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        return self.decide(request, pk, waiver_decide)


# --- settlements ---------------------------------------------------------------------------


class CaseSettlements(ListView):
    """GET the case's settlement proposals; POST a new one."""

    read_permission = CASE_READ
    serializer_class = SettlementOutput
    pagination_class = NumberedPage
    ordering_fields = ["proposed_at", "id"]
    ordering = ["-id"]

    class Input(InputSerializer):
        amount = Money(help_text="To be paid; less than the loan owes.")
        due_by = serializers.DateField(help_text="From today to 90 days ahead.")
        reason = serializers.CharField(max_length=255)

    def get_queryset(self):
        if _fake(self):
            return SettlementProposal.objects.none()
        case = reads.case_or_404(self.request.user, self.kwargs["pk"])
        return reads.proposals_for(SettlementProposal, self.request.user).filter(case=case)

    @extend_schema(
        summary="A case's settlement proposals",
        description=STATE_HELP,
        responses={200: SettlementOutput(many=True), **LIST_ERRORS},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Propose a settlement",
        description="Needs `collections.propose_settlement` (a collector on their own open "
        'case, a manager): "pay `amount` by `due_by` and the rest is forgiven". The amount '
        "is less than the loan owes (all of it is a payoff), the date from today up to 90 "
        "days ahead. One proposed or running settlement per case (409 `duplicate`). Once a "
        "manager other than the proposer approves it, payments from that day count; the "
        "night settles the loan when they reach the amount, or lapses the agreement after its "
        "date.",
        request=Input,
        responses={201: SettlementOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "A lump sum by the end of the month",
                value={"amount": "3000.00", "due_by": "2026-12-31", "reason": "lump sum offer"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        case = reads.case_or_404(request.user, pk)
        data = validated(self, request)
        proposal = settlement_propose(
            case_id=case.pk,
            amount=data["amount"],
            due_by=data["due_by"],
            reason=data["reason"],
            acting_user=request.user,
        )
        proposal = reads.proposal_or_404(SettlementProposal, request.user, proposal.pk)
        return Response(SettlementOutput(proposal).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary="List settlement proposals",
    description="On the cases you may see (a collector: their own). Filter by `state` — "
    + STATE_HELP
    + " — and `case`.",
    responses={200: SettlementOutput(many=True), **LIST_ERRORS},
    tags=TAGS,
)
class Settlements(ProposalList):
    read_permission = SETTLEMENT_READ
    model = SettlementProposal
    serializer_class = SettlementOutput


@extend_schema(
    summary="A settlement and its status",
    description="`state` (" + STATE_HELP + "), `agreed_on` (the approval's day: payments from "
    "it count), `paid` so far (as of the last night), `resolved_on` (settled or lapsed) and the "
    "settlement-discount `transaction` that closed the loan.",
    responses={200: SettlementOutput, **problem_responses(403, 404)},
    tags=TAGS,
)
class SettlementDetail(ProposalDetail):
    read_permission = SETTLEMENT_READ
    model = SettlementProposal
    serializer_class = SettlementOutput


class SettlementDecide(ProposalDecide):
    read_permission = SETTLEMENT_READ
    model = SettlementProposal
    output = SettlementOutput

    @extend_schema(
        summary="Approve or reject a settlement",
        description="Needs `collections.decide_settlement` (collections managers), and another "
        "person than the proposer (409 `same_person`). Approving starts the agreement today; a "
        "date passed while it waited is a 400 `out_of_range` on `due_by`, a loan no longer "
        "active a 409 `loan_not_active`, a decided proposal a 409 `proposal_decided`.",
        request=DecisionInput,
        responses={200: SettlementOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=DECISION_EXAMPLES,
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        return self.decide(request, pk, settlement_decide)


class SettlementSettleNow(ApiView):
    read_permission = SETTLEMENT_READ

    @extend_schema(
        summary="Settle an agreement now",
        description="Needs `collections.decide_settlement` (collections managers). The night's "
        "settlement, today: the payments valued from the agreement's day to today reach its "
        "amount, so the loan closes as settled and its case with it. Not paid in full yet is a "
        "409 `settlement_not_paid` (with what was received), an agreement not running "
        "(pending, settled, lapsed, rejected) a 409 `proposal_decided`, a loan no longer active "
        "a 409 `loan_not_active`.",
        request=None,
        responses={200: SettlementOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        proposal = reads.proposal_or_404(SettlementProposal, request.user, pk)
        settlement_settle_now(proposal_id=proposal.pk, acting_user=request.user)
        output = reads.proposal_or_404(SettlementProposal, request.user, pk)
        return Response(SettlementOutput(output).data)


# --- write-off proposals -------------------------------------------------------------------


@extend_schema(
    summary="List write-off proposals",
    description="Drawn up by the nightly run for each open case whose loan reached its "
    "product's write-off dpd; finance decides them. Filter by `state` and `case`.",
    responses={200: WriteOffOutput(many=True), **LIST_ERRORS},
    tags=TAGS,
)
class WriteOffs(ProposalList):
    read_permission = WRITE_OFF_READ
    model = WriteOffProposal
    serializer_class = WriteOffOutput
    ordering_fields = ["proposed_at", "dpd", "outstanding", "id"]


@extend_schema(
    summary="A write-off proposal",
    responses={200: WriteOffOutput, **problem_responses(403, 404)},
    tags=TAGS,
)
class WriteOffDetail(ProposalDetail):
    read_permission = WRITE_OFF_READ
    model = WriteOffProposal
    serializer_class = WriteOffOutput


class WriteOffDecide(ProposalDecide):
    read_permission = WRITE_OFF_READ
    model = WriteOffProposal
    output = WriteOffOutput

    @extend_schema(
        summary="Approve or reject a write-off",
        description="Needs `collections.decide_write_off` (finance). Approving writes the loan "
        "off today through `loan_write_off` (its case closes, reason written off; the "
        "`transaction` is the write-off); rejecting keeps the loan in collections. A decided "
        "proposal is a 409 `proposal_decided`.",
        request=DecisionInput,
        responses={200: WriteOffOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "Write it off",
                value={"approve": True, "note": "no contact in 6 months"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        return self.decide(request, pk, write_off_decide)


# --- recoveries ----------------------------------------------------------------------------


class Recoveries(ListView):
    """GET recoveries; POST money received on a written-off loan."""

    read_permission = RECOVERY_READ
    serializer_class = RecoveryOutput
    pagination_class = NumberedPage
    filterset_fields = ["value_date"]
    ordering_fields = ["value_date", "id"]
    ordering = ["-value_date", "-id"]
    error_fields = {"external_reference": "external_id"}

    class Input(InputSerializer):
        loan = serializers.CharField(max_length=20, help_text="The written-off loan's reference.")
        amount = Money(help_text="Above 0; at most what was written off and not yet recovered.")
        value_date = serializers.DateField(
            help_text="The day the money arrived: not in the future, not before the write-off."
        )
        channel = serializers.CharField(max_length=32, required=False, default="")
        external_id = serializers.CharField(
            max_length=100,
            required=False,
            default="",
            help_text="The payment's id at the gateway or agency; also the idempotency key when "
            "no Idempotency-Key header is sent.",
        )
        note = serializers.CharField(max_length=255, required=False, default="")

    def get_queryset(self):
        if _fake(self):
            return Recovery.objects.none()
        return reads.recoveries_for(self.request.user)

    @extend_schema(
        summary="List recoveries",
        description="Money received after write-off, each credited to the collector and queue "
        "of the case that ended in the write-off (a collector: their own cases'). Filter by "
        "`value_date`.",
        responses={200: RecoveryOutput(many=True), **LIST_ERRORS},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Post a recovery on a written-off loan",
        description="Needs `lending.post_recovery` (finance). A recovery moves no balance (the "
        "loan owes nothing any more); it is at most what was written off less what was "
        "recovered already (400 `out_of_range` on `amount`), valued not before the write-off. "
        "A loan that is not written off is a 409 `loan_not_written_off`. Idempotent as a "
        "repayment: the same `Idempotency-Key` (or `external_id`) and body replay the first "
        "answer with `Idempotent-Replayed: true` and post nothing; the same key with another "
        "body is a 422 `idempotency_conflict`.",
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Up to 100 characters, unique per payment (kept on the "
                "transaction, without expiry).",
            )
        ],
        request=Input,
        responses={
            201: OpenApiResponse(RecoveryOutput, description="Posted (or replayed)."),
            **WRITE_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Money from an outside agency",
                value={
                    "loan": "LN00000042",
                    "amount": "700.00",
                    "value_date": "2026-12-01",
                    "channel": "agency",
                    "external_id": "AGY-2026-0042",
                },
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    def post(self, request):
        data = validated(self, request)
        loan = loan_or_404(data["loan"])
        key = (request.headers.get("Idempotency-Key", "") or data["external_id"]).strip()
        with transaction.atomic():
            # The loan's lock first, as the service takes it: whether the key was used is read
            # in the same state the posting sees, so a concurrent twin replays, never posts.
            lock_loan(loan.pk)
            replayed = bool(key) and Recovery.objects.filter(idempotency_key=key).exists()
            recovery = recovery_post(
                loan_id=loan.pk,
                amount=data["amount"],
                value_date=data["value_date"],
                channel=data["channel"],
                external_reference=data["external_id"],
                note=data["note"],
                idempotency_key=key,
                acting_user=request.user,
            )
        body = RecoveryOutput(reads.RECOVERIES.get(pk=recovery.pk)).data
        if replayed:
            return replay_or_conflict(recovery, data, body)
        return Response(body, status=status.HTTP_201_CREATED)
