"""Loans: lists, a loan's page, its schedule, transactions and payoff figure (reads only)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from config.api.base import ApiView, DetailView, ListView
from config.api.schema import problem_responses
from lending.api.filters import LoanFilter, TransactionFilter
from lending.api.serializers import InstallmentOutput, LoanOutput, TransactionOutput
from lending.models import Loan, Transaction
from lending.money import money_str
from lending.selectors import loan_payoff_quote, loans_for_list
from lending.validation import check_date

TAGS = ["loans"]
LOAN_READ = "lending.view_loan"


def loan_or_404(reference: str) -> Loan:
    return get_object_or_404(
        Loan.objects.select_related("product", "borrower"), reference=reference
    )


@extend_schema(
    summary="List loans",
    description="Filter by status, bucket, product, borrower, dpd range and dates; order by "
    "`ordering` (prefix `-` for descending).",
    responses={200: LoanOutput(many=True), **problem_responses(400, 403, 404)},
    tags=TAGS,
)
class LoanList(ListView):
    read_permission = LOAN_READ
    queryset = loans_for_list().select_related("application")
    serializer_class = LoanOutput
    filterset_class = LoanFilter
    ordering_fields = ["id", "dpd", "principal", "start_date", "next_due_date", "created_at"]


@extend_schema(
    summary="A loan",
    responses={200: LoanOutput, **problem_responses(403, 404)},
    tags=TAGS,
)
class LoanDetail(DetailView):
    read_permission = LOAN_READ
    queryset = loans_for_list().select_related("application")
    serializer_class = LoanOutput
    lookup_field = "reference"


class LoanSchedule(ApiView):
    read_permission = "lending.view_installment"

    @extend_schema(
        summary="A loan's schedule",
        description="Installments with what was charged (`*_due`), what has been settled and "
        "what is left.",
        responses={200: InstallmentOutput(many=True), **problem_responses(403, 404)},
        tags=TAGS,
    )
    def get(self, request, reference: str):
        loan = loan_or_404(reference)
        return Response(InstallmentOutput(loan.installments.order_by("seq"), many=True).data)


@extend_schema(
    summary="A loan's transactions",
    description="Every money movement, oldest first by default; reversals point to what they "
    "reverse.",
    responses={200: TransactionOutput(many=True), **problem_responses(400, 403, 404)},
    tags=TAGS,
)
class LoanTransactions(ListView):
    read_permission = "lending.view_transaction"
    serializer_class = TransactionOutput
    filterset_class = TransactionFilter
    ordering_fields = ["id", "value_date"]
    ordering = ["id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Transaction.objects.none()
        loan = loan_or_404(self.kwargs["reference"])
        return loan.transactions.select_related("loan", "posted_by")


class Payoff(ApiView):
    read_permission = LOAN_READ

    class Query(serializers.Serializer):
        as_of = serializers.DateField(required=False)

    @extend_schema(
        summary="Payoff amount",
        description="What closes the loan on `as_of` (default today): interest only to that "
        "date, less any credit the loan holds.",
        parameters=[OpenApiParameter("as_of", OpenApiTypes.DATE, required=False)],
        responses={
            200: inline_serializer(
                "Payoff",
                {
                    "as_of": serializers.DateField(),
                    "amount": serializers.CharField(help_text="Cash that closes the loan."),
                    "gross": serializers.CharField(),
                    "principal": serializers.CharField(),
                    "interest": serializers.CharField(),
                    "fee": serializers.CharField(),
                    "penalty": serializers.CharField(),
                    "credit_balance": serializers.CharField(),
                },
            ),
            **problem_responses(400, 403, 404),
        },
        tags=TAGS,
    )
    def get(self, request, reference: str):
        query = self.Query(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or timezone.localdate()
        check_date(as_of, field="as_of")
        loan = loan_or_404(reference)
        quote = loan_payoff_quote(loan, as_of)
        parts = quote.parts
        return Response(
            {
                "as_of": as_of,
                "amount": money_str(quote.amount),
                "gross": money_str(quote.gross),
                "principal": money_str(parts.principal),
                "interest": money_str(parts.interest),
                "fee": money_str(parts.fee),
                "penalty": money_str(parts.penalty),
                "credit_balance": money_str(quote.credit_balance),
            }
        )
