"""Output shapes of the collections endpoints. Personal data masked as everywhere else
(DESIGN §10): a borrower by name with a masked national ID and mobile, an emergency contact
with a masked phone. Inputs are small serializers nested in each view."""

from rest_framework import serializers

from debt_collection import priority
from debt_collection.models import (
    Case,
    CaseAssignment,
    CompliancePolicy,
    ContactAttempt,
    ContactHold,
    PromiseToPay,
    Queue,
)
from debt_collection.priority_labels import PART_NAMES
from lending.models import Loan
from lending.pii import masked

# The most points each part of the score can give (debt_collection/priority.py).
PART_MAXIMUM = {
    "dpd": priority.DPD_POINTS,
    "amount": priority.AMOUNT_POINTS,
    "broken_promises": priority.PROMISE_POINTS * priority.PROMISES_COUNTED,
    "no_contact": priority.QUIET_POINTS,
}


def _username(field: str):
    return serializers.CharField(source=f"{field}.username", default=None, read_only=True)


class CaseBorrowerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    national_id = serializers.CharField(source="masked_national_id", help_text="Masked.")
    mobile = serializers.CharField(source="masked_mobile", help_text="Masked.")


class CaseOutput(serializers.ModelSerializer):
    loan = serializers.CharField(source="loan.reference", read_only=True)
    borrower = CaseBorrowerOutput(read_only=True)
    queue_name = serializers.CharField(source="queue.name", default=None, read_only=True)
    collector = _username("collector")
    priority_parts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Points per part: dpd, amount, broken_promises, no_contact.",
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "loan",
            "borrower",
            "status",
            "close_reason",
            "opened_on",
            "closed_on",
            "dpd",
            "bucket",
            "overdue_amount",
            "total_outstanding",
            "time_zone",
            "queue",
            "queue_name",
            "collector",
            "assigned_at",
            "priority",
            "priority_parts",
            "broken_promises",
            "last_contact_at",
            "updated_on",
        ]


class PriorityPartOutput(serializers.Serializer):
    part = serializers.CharField()
    label = serializers.CharField()
    points = serializers.IntegerField()
    maximum = serializers.IntegerField()


class BorrowerLoanOutput(serializers.ModelSerializer):
    """One of the borrower's loans, with its open case when the user may see it."""

    total_outstanding = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    case = serializers.SerializerMethodField(help_text="The open case you may see, if any.")

    class Meta:
        model = Loan
        fields = [
            "reference",
            "status",
            "dpd",
            "bucket",
            "principal",
            "total_outstanding",
            "next_due_date",
            "case",
        ]

    def get_case(self, obj) -> int | None:
        return self.context.get("open_cases", {}).get(obj.pk)


class CaseDetailOutput(CaseOutput):
    priority_explained = serializers.SerializerMethodField()
    borrower_loans = serializers.SerializerMethodField(
        help_text="Every loan of the borrower: several delinquent loans are worked together."
    )

    class Meta(CaseOutput.Meta):
        fields = [*CaseOutput.Meta.fields, "priority_explained", "borrower_loans"]

    def get_priority_explained(self, obj) -> PriorityPartOutput(many=True):
        parts = obj.priority_parts or {}
        return [
            {
                "part": part,
                "label": str(PART_NAMES.get(part, part)),
                "points": parts.get(part, 0),
                "maximum": maximum,
            }
            for part, maximum in PART_MAXIMUM.items()
        ]

    def get_borrower_loans(self, obj) -> BorrowerLoanOutput(many=True):
        loans = self.context.get("borrower_loans", [])
        return BorrowerLoanOutput(loans, many=True, context=self.context).data


class ContactOutput(serializers.ModelSerializer):
    emergency_contact_name = serializers.CharField(
        source="emergency_contact.name", default=None, read_only=True
    )
    emergency_contact_phone = serializers.SerializerMethodField(help_text="Masked.")
    agent = _username("agent")
    policy = serializers.IntegerField(
        source="policy.version", read_only=True, help_text="The policy version that allowed it."
    )

    class Meta:
        model = ContactAttempt
        fields = [
            "id",
            "case",
            "channel",
            "party",
            "emergency_contact",
            "emergency_contact_name",
            "emergency_contact_phone",
            "contacted_at",
            "connected",
            "outcome",
            "note",
            "agent",
            "policy",
            "logged_at",
        ]

    def get_emergency_contact_phone(self, obj) -> str | None:
        contact = obj.emergency_contact
        return None if contact is None else masked("phone", contact.phone)


class PromiseOutput(serializers.ModelSerializer):
    recorded_by = _username("recorded_by")

    class Meta:
        model = PromiseToPay
        fields = [
            "id",
            "case",
            "amount",
            "promised_for",
            "made_on",
            "grace_days",
            "state",
            "paid",
            "resolved_on",
            "contact",
            "recorded_at",
            "recorded_by",
        ]


class AssignmentOutput(serializers.ModelSerializer):
    collector = _username("collector")
    from_collector = _username("from_collector")
    assigned_by = _username("assigned_by")

    class Meta:
        model = CaseAssignment
        fields = [
            "id",
            "case",
            "queue",
            "collector",
            "from_collector",
            "assigned_by",
            "assigned_at",
            "business_date",
            "reason",
        ]


class MemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class QueueOutput(serializers.ModelSerializer):
    members = MemberOutput(many=True, read_only=True)

    class Meta:
        model = Queue
        fields = ["id", "name", "from_bucket", "to_bucket", "outside_agency", "active", "members"]


class CompliancePolicyOutput(serializers.ModelSerializer):
    activated_by = _username("activated_by")

    class Meta:
        model = CompliancePolicy
        exclude = ["id"]


class HoldOutput(serializers.ModelSerializer):
    placed_by = _username("placed_by")
    lifted_by = _username("lifted_by")

    class Meta:
        model = ContactHold
        fields = [
            "id",
            "borrower",
            "kind",
            "reason",
            "placed_at",
            "placed_by",
            "lifted_at",
            "lifted_by",
        ]
