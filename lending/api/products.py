"""Loan products and quotes: the same `product_quote` the admin's quote page calls."""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from config.api.base import ApiView, DetailView, InputSerializer, ListView, Money, Rate
from config.api.pagination import NumberedPage
from config.api.schema import problem_responses
from lending.api.serializers import ProductOutput
from lending.models import LoanProduct
from lending.money import money_str
from lending.selectors import product_quote

TAGS = ["products"]


@extend_schema(
    summary="List loan products",
    responses={200: ProductOutput(many=True), **problem_responses(400, 403)},
    tags=TAGS,
)
class ProductList(ListView):
    read_permission = "lending.view_loanproduct"
    queryset = LoanProduct.objects.all()
    serializer_class = ProductOutput
    pagination_class = NumberedPage
    filterset_fields = ["is_active", "repayment_method", "currency"]
    ordering_fields = ["code", "name", "created_at"]
    ordering = ["code"]


@extend_schema(
    summary="A loan product",
    responses={200: ProductOutput, **problem_responses(403, 404)},
    tags=TAGS,
)
class ProductDetail(DetailView):
    read_permission = "lending.view_loanproduct"
    queryset = LoanProduct.objects.all()
    serializer_class = ProductOutput
    lookup_field = "code"


_ROW = inline_serializer(
    "QuoteInstallment",
    {
        "seq": serializers.IntegerField(),
        "due_date": serializers.DateField(),
        "principal": serializers.CharField(),
        "interest": serializers.CharField(),
        "fee": serializers.CharField(),
        "total": serializers.CharField(),
        "balance_after": serializers.CharField(),
    },
)
QuoteOutput = inline_serializer(
    "Quote",
    {
        "installments": serializers.ListField(child=_ROW),
        "apr": serializers.CharField(help_text="Annual percentage rate as a fraction."),
        "effective_annual_rate": serializers.CharField(),
        "total_interest": serializers.CharField(),
        "total_fees": serializers.CharField(),
        "total_cost": serializers.CharField(help_text="Interest and fees: all beyond principal."),
        "amount_received": serializers.CharField(help_text="Paid out after an upfront fee."),
    },
)


class Quote(ApiView):
    # A quote shows a product's pricing: whoever may see products may quote (as the admin).
    read_permission = "lending.view_loanproduct"

    class Input(InputSerializer):
        product = serializers.SlugRelatedField(
            slug_field="code", queryset=LoanProduct.objects.all()
        )
        amount = Money()
        rate = Rate(help_text="Annual rate as a fraction: 0.18 for 18 %.")
        term = serializers.IntegerField(help_text="Months.")
        start_date = serializers.DateField()
        first_due_date = serializers.DateField(required=False, allow_null=True, default=None)

    @extend_schema(
        summary="Quote a loan",
        description="The schedule, APR and total cost of credit of a loan on a product's terms; "
        "nothing is written. Amount, rate and term must be within the product's ranges.",
        request=Input,
        responses={200: QuoteOutput, **problem_responses(400, 403)},
        examples=[
            OpenApiExample(
                "Twelve months",
                value={
                    "product": "cash12",
                    "amount": "10000.00",
                    "rate": "0.18",
                    "term": 12,
                    "start_date": "2026-01-15",
                },
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        quote = product_quote(
            product=data.validated_data["product"],
            amount=data.validated_data["amount"],
            annual_rate=data.validated_data["rate"],
            term_months=data.validated_data["term"],
            start_date=data.validated_data["start_date"],
            first_due_date=data.validated_data["first_due_date"],
        )
        return Response({**quote.as_dict(), "amount_received": money_str(quote.amount_received)})
