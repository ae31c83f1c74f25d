"""Operations on a loan: each view calls one service, which checks the permission and every
rule; the view only reads the input and shapes the answer. There is no `approve/`: a loan is
approved only through its application (risk's applications/)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.base import ApiView, InputSerializer, Money, represented, validated
from config.api.idempotency import IDEMPOTENCY_KEY, idempotent
from config.api.schema import problem_responses
from lending.api.idempotency import replay_or_conflict
from lending.api.loans import loan_or_404
from lending.api.serializers import LoanOutput, TransactionOutput
from lending.services.concessions import transaction_reverse
from lending.services.loans import loan_cancel, loan_disburse, loan_write_off
from lending.services.repayments import loan_credit_refund, repayment_post

TAGS = ["loan operations"]
LOAN_READ = "lending.view_loan"
# The operations below keep an Idempotency-Key (config/api/idempotency.py): 422 on reuse.
REFUSALS = problem_responses(400, 403, 404, 409, 422)


def _loan_answer(loan) -> Response:
    loan = loan_or_404(loan.reference)  # read again: the service changed it
    return Response(LoanOutput(loan).data)


class Reason(InputSerializer):
    reason = serializers.CharField(max_length=255, help_text="Why, in words (kept in the log).")


class Cancel(ApiView):
    read_permission = LOAN_READ
    Input = Reason

    @extend_schema(
        summary="Cancel a loan before disbursement",
        description="Needs `lending.cancel_loan`. Only a pending or approved loan.",
        request=Input,
        responses={200: LoanOutput, **REFUSALS},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, reference: str):
        data = validated(self, request)
        loan = loan_or_404(reference)
        loan = loan_cancel(loan_id=loan.pk, reason=data["reason"], acting_user=request.user)
        return _loan_answer(loan)


class Disburse(ApiView):
    read_permission = LOAN_READ

    class Input(InputSerializer):
        disbursement_date = serializers.DateField(help_text="Today or earlier.")
        first_due_date = serializers.DateField(required=False, allow_null=True, default=None)

    @extend_schema(
        summary="Disburse an approved loan",
        description="Needs `lending.disburse_loan`. Fixes the schedule and posts the "
        "disbursement; the borrower's credit limit is checked again. A second disbursement is "
        "a 409 `illegal_transition`.",
        request=Input,
        responses={200: LoanOutput, **REFUSALS},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, reference: str):
        data = validated(self, request)
        loan = loan_or_404(reference)
        loan = loan_disburse(loan_id=loan.pk, acting_user=request.user, **data)
        return _loan_answer(loan)


class WriteOff(ApiView):
    read_permission = LOAN_READ

    class Input(Reason):
        value_date = serializers.DateField(help_text="Today or earlier.")

    @extend_schema(
        summary="Write a loan off",
        description="Needs `lending.write_off_loan`. Interest only to the write-off date.",
        request=Input,
        responses={200: LoanOutput, **REFUSALS},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, reference: str):
        data = validated(self, request)
        loan = loan_or_404(reference)
        loan = loan_write_off(loan_id=loan.pk, acting_user=request.user, **data)
        return _loan_answer(loan)


class Repayment(ApiView):
    read_permission = LOAN_READ
    error_fields = {"external_reference": "external_id"}

    class Input(InputSerializer):
        amount = Money()
        value_date = serializers.DateField(help_text="The day the money arrived (not future).")
        channel = serializers.CharField(max_length=32, required=False, default="")
        external_id = serializers.CharField(
            max_length=100,
            required=False,
            default="",
            help_text="The payment's id at the gateway; also the idempotency key when no "
            "Idempotency-Key header is sent.",
        )
        note = serializers.CharField(max_length=255, required=False, default="")

    @extend_schema(
        summary="Post a repayment",
        description="Needs `lending.post_repayment`. Allocated by the product's waterfall; "
        "enough to pay off closes the loan, more becomes credit. Idempotent: the same "
        "`Idempotency-Key` (or `external_id`) and body replay the first answer with "
        "`Idempotent-Replayed: true` and post nothing; the same key with another body is a "
        "422 `idempotency_conflict`.",
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)
        ],
        request=Input,
        responses={
            201: OpenApiResponse(TransactionOutput, description="Posted (or replayed)."),
            **problem_responses(400, 403, 404, 409, 422),
        },
        examples=[
            OpenApiExample(
                "A payment from the gateway",
                value={
                    "amount": "915.80",
                    "value_date": "2026-02-15",
                    "channel": "alipay",
                    "external_id": "PAY-2026-0001",
                },
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    def post(self, request, reference: str):
        data = validated(self, request)
        key = request.headers.get("Idempotency-Key", "") or data["external_id"]
        result = repayment_post(
            loan_reference=reference,
            amount=data["amount"],
            value_date=data["value_date"],
            channel=data["channel"],
            external_reference=data["external_id"],
            note=data["note"],
            idempotency_key=key,
            acting_user=request.user,
        )
        body = represented(TransactionOutput, result.transaction)
        if result.duplicate:
            return replay_or_conflict(result.transaction, data, body)
        return Response(body, status=status.HTTP_201_CREATED)


class Reverse(ApiView):
    read_permission = LOAN_READ
    Input = Reason

    @extend_schema(
        summary="Reverse a repayment or a recovery",
        description="Needs `lending.reverse_transaction`. A repayment is undone exactly, with "
        "what was posted with it; a closed loan it had paid off reopens, and a settlement it "
        "counted towards is worked out again. A recovery on a written-off loan is undone: what "
        "is left to recover grows back. Any other kind is refused (`not_reversible`).",
        request=Input,
        responses={201: TransactionOutput, **REFUSALS},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, reference: str, transaction_id: int):
        data = validated(self, request)
        loan = loan_or_404(reference)
        original = get_object_or_404(loan.transactions, pk=transaction_id)
        reversal = transaction_reverse(
            transaction_id=original.pk, reason=data["reason"], acting_user=request.user
        )
        return Response(represented(TransactionOutput, reversal), status=status.HTTP_201_CREATED)


class CreditRefund(ApiView):
    read_permission = LOAN_READ

    class Input(InputSerializer):
        amount = Money(required=False, allow_null=True, default=None, help_text="Default: all.")
        note = serializers.CharField(max_length=255, required=False, default="")

    @extend_schema(
        summary="Refund a loan's credit balance",
        description="Needs `lending.refund_credit`. All of the credit unless `amount` says less.",
        request=Input,
        responses={201: TransactionOutput, **REFUSALS},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, reference: str):
        data = validated(self, request)
        loan = loan_or_404(reference)
        refund = loan_credit_refund(loan_id=loan.pk, acting_user=request.user, **data)
        return Response(represented(TransactionOutput, refund), status=status.HTTP_201_CREATED)
