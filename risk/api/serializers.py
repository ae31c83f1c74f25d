"""Output shapes of the risk endpoints."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from risk.models import (
    CreditLimit,
    CreditLimitChange,
    CreditPolicy,
    Decision,
    LimitIncreaseProposal,
    LoanApplication,
)
from risk.reason_texts import reason_text, stored_reason, trace_detail


class ReasonOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Stable reason code (risk.reasons.CATALOGUE).")
    text = serializers.CharField(help_text="The reason in words, in the request's language.")
    weight = serializers.IntegerField(allow_null=True)
    attribute = serializers.CharField(allow_null=True)


class TraceStepOutput(serializers.Serializer):
    rule = serializers.CharField()
    result = serializers.CharField(help_text="pass, decline, refer, off, skipped, or a figure.")
    detail = serializers.CharField(help_text="What the rule found, in the request's language.")


class DecisionOutput(serializers.ModelSerializer):
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)
    reasons = serializers.SerializerMethodField()
    trace = serializers.SerializerMethodField()

    @extend_schema_field(ReasonOutput(many=True))
    def get_reasons(self, decision) -> list[dict]:
        return [
            {
                "code": reason.get("code", ""),
                "text": reason_text(reason),
                "weight": reason.get("weight"),
                "attribute": reason.get("attribute"),
            }
            for reason in decision.reasons or []
        ]

    @extend_schema_field(TraceStepOutput(many=True))
    def get_trace(self, decision) -> list[dict]:
        return [
            {
                "rule": step.get("rule", ""),
                "result": step.get("result", ""),
                "detail": trace_detail(step),
            }
            for step in decision.trace or []
        ]

    class Meta:
        model = Decision
        fields = [
            "id",
            "outcome",
            "score",
            "grade",
            "limit",
            "reasons",
            "trace",
            "policy_version",
            "created_at",
        ]


class ApplicationOutput(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code", read_only=True)
    loan = serializers.CharField(source="loan.reference", default=None, read_only=True)
    submitted_by = serializers.CharField(
        source="submitted_by.username", default=None, read_only=True
    )
    reviewed_by = serializers.CharField(source="reviewed_by.username", default=None, read_only=True)

    class Meta:
        model = LoanApplication
        fields = [
            "id",
            "borrower",
            "product",
            "amount",
            "term_months",
            "annual_rate",
            "purpose",
            "status",
            "loan",
            "submitted_by",
            "submitted_at",
            "reviewed_by",
            "reviewed_at",
            "review_note",
        ]


class ApplicationDetailOutput(ApplicationOutput):
    decision = DecisionOutput(read_only=True)

    class Meta(ApplicationOutput.Meta):
        fields = [*ApplicationOutput.Meta.fields, "decision"]


class CreditLimitOutput(serializers.ModelSerializer):
    exposure = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    available = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)

    class Meta:
        model = CreditLimit
        fields = [
            "id",
            "borrower",
            "amount",
            "status",
            "review_hold",
            "review_on",
            "exposure",
            "available",
            "updated_at",
        ]


@extend_schema_field(OpenApiTypes.STR)
class StoredReason(serializers.Field):
    """A limit change's or proposal's reason, in the request's language (risk.reason_texts)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("read_only", True)
        kwargs.setdefault(
            "help_text",
            "Why, in the request's language: the platform's own reasons are translated, a "
            "person's words are given as written.",
        )
        super().__init__(**kwargs)

    def to_representation(self, row) -> str:
        return stored_reason(row)


class LimitChangeOutput(serializers.ModelSerializer):
    policy_version = serializers.IntegerField(source="policy.version", default=None, read_only=True)
    reason = StoredReason()
    changed_by = serializers.CharField(source="changed_by.username", default=None, read_only=True)

    class Meta:
        model = CreditLimitChange
        fields = [
            "id",
            "kind",
            "from_amount",
            "to_amount",
            "from_status",
            "to_status",
            "reason",
            "adverse_action",
            "policy_version",
            "changed_by",
            "changed_at",
        ]


class PolicyOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None, read_only=True)
    activated_by = serializers.CharField(
        source="activated_by.username", default=None, read_only=True
    )

    class Meta:
        model = CreditPolicy
        fields = [
            "version",
            "name",
            "status",
            "notes",
            "created_at",
            "created_by",
            "activated_at",
            "activated_by",
        ]


class PolicyDetailOutput(PolicyOutput):
    class Meta(PolicyOutput.Meta):
        fields = [*PolicyOutput.Meta.fields, "definition"]


class LimitProposalOutput(serializers.ModelSerializer):
    borrower = serializers.IntegerField(source="credit_limit.borrower_id", read_only=True)
    policy_version = serializers.IntegerField(source="policy.version", default=None, read_only=True)
    proposed_by = serializers.CharField(
        source="proposed_by.username",
        default=None,
        read_only=True,
        help_text="Empty: proposed by the nightly review.",
    )
    decided_by = serializers.CharField(source="decided_by.username", default=None, read_only=True)
    reason = StoredReason()

    class Meta:
        model = LimitIncreaseProposal
        fields = [
            "id",
            "credit_limit",
            "borrower",
            "as_of",
            "current_amount",
            "proposed_amount",
            "on_time_installments",
            "reason",
            "status",
            "policy_version",
            "proposed_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
