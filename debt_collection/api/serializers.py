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
    Recovery,
    SettlementProposal,
    WaiverProposal,
    WriteOffProposal,
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


# --- concessions: waivers, settlements, write-offs, recoveries ------------------------------


class ProposalOutput(serializers.ModelSerializer):
    loan = serializers.CharField(source="case.loan.reference", read_only=True)
    proposed_by = _username("proposed_by")
    decided_by = _username("decided_by")

    class Meta:
        fields = [
            "id",
            "case",
            "loan",
            "state",
            "reason",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "transaction",
        ]


class WaiverOutput(ProposalOutput):
    class Meta(ProposalOutput.Meta):
        model = WaiverProposal
        fields = [
            *ProposalOutput.Meta.fields[:4],
            "penalty",
            "interest",
            *ProposalOutput.Meta.fields[4:],
        ]


class SettlementOutput(ProposalOutput):
    class Meta(ProposalOutput.Meta):
        model = SettlementProposal
        fields = [
            *ProposalOutput.Meta.fields[:4],
            "amount",
            "due_by",
            "agreed_on",
            "paid",
            "resolved_on",
            *ProposalOutput.Meta.fields[4:],
        ]


class WriteOffOutput(ProposalOutput):
    proposed_by = serializers.CharField(
        source="proposed_by.username",
        default=None,
        read_only=True,
        help_text="Empty: drawn up by the nightly run.",
    )

    class Meta(ProposalOutput.Meta):
        model = WriteOffProposal
        fields = [
            *ProposalOutput.Meta.fields[:4],
            "dpd",
            "outstanding",
            *ProposalOutput.Meta.fields[4:],
        ]


class RecoveryOutput(serializers.ModelSerializer):
    """Money received on a written-off loan, credited to the case that ended in the write-off."""

    loan = serializers.CharField(source="loan.reference", read_only=True)
    external_id = serializers.CharField(source="external_reference", read_only=True)
    posted_by = _username("posted_by")
    case = serializers.IntegerField(source="case_id", default=None, read_only=True)
    collector = serializers.IntegerField(
        source="collector_id",
        default=None,
        read_only=True,
        help_text="The collector of the case that ended in the write-off.",
    )
    queue = serializers.IntegerField(source="queue_id", default=None, read_only=True)

    class Meta:
        model = Recovery
        fields = [
            "id",
            "loan",
            "value_date",
            "amount",
            "channel",
            "external_id",
            "idempotency_key",
            "note",
            "posted_at",
            "posted_by",
            "case",
            "collector",
            "queue",
        ]


# --- KPIs ----------------------------------------------------------------------------------


class BucketKpiOutput(serializers.Serializer):
    bucket = serializers.CharField()
    cases = serializers.IntegerField()
    overdue = serializers.DecimalField(max_digits=18, decimal_places=2)


class QueueKpiOutput(serializers.Serializer):
    queue = serializers.CharField(
        source="queue__name", allow_null=True, help_text="Empty: not (yet) in a queue."
    )
    cases = serializers.IntegerField()
    overdue = serializers.DecimalField(max_digits=18, decimal_places=2)


class RollOutput(serializers.Serializer):
    month = serializers.CharField(help_text="2026-10: from the end of September to October's.")
    from_bucket = serializers.CharField()
    to_bucket = serializers.CharField()
    loans = serializers.IntegerField()
    rolled = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)


class CureOutput(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()
    cases = serializers.IntegerField(help_text="Open at some time in the period.")
    cured = serializers.IntegerField(help_text="Of them, closed cured in it.")
    rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)


class PromiseKpiOutput(serializers.Serializer):
    pending = serializers.IntegerField()
    kept = serializers.IntegerField()
    broken = serializers.IntegerField()
    kept_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, allow_null=True, help_text="Kept of those decided."
    )


class RefusalKpiOutput(serializers.Serializer):
    collector = serializers.CharField(source="collector__username", allow_null=True)
    rule = serializers.CharField()
    refusals = serializers.IntegerField()


class RecoveredKpiOutput(serializers.Serializer):
    collector = serializers.CharField()
    queue = serializers.CharField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)


class KpiOutput(serializers.Serializer):
    as_of = serializers.DateField()
    open_cases_by_bucket = BucketKpiOutput(many=True)
    open_cases_by_queue = QueueKpiOutput(many=True)
    roll_rates = RollOutput(many=True)
    cure = CureOutput()
    promises = PromiseKpiOutput()
    refusals_by_collector = RefusalKpiOutput(many=True)
    recovered = RecoveredKpiOutput(many=True)
