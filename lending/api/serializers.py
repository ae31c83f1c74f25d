"""Output shapes of the lending endpoints (money and rates as strings, dates ISO 8601).
Inputs are small serializers nested in each view."""

from rest_framework import serializers

from lending.models import (
    Borrower,
    BusinessDayChunk,
    BusinessDayRun,
    BusinessDayStep,
    EmergencyContact,
    Installment,
    Loan,
    LoanProduct,
    Transaction,
)
from lending.pii import masked


class EmergencyContactOutput(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField(help_text="Masked (138****8000).")

    class Meta:
        model = EmergencyContact
        fields = ["id", "name", "relation", "phone"]

    def get_phone(self, obj) -> str:
        return masked("phone", obj.phone)


class BorrowerOutput(serializers.ModelSerializer):
    """Personal data masked, whoever asks: an unmasked view is the audited `reveal/`."""

    national_id = serializers.CharField(source="masked_national_id", read_only=True)
    mobile = serializers.CharField(source="masked_mobile", read_only=True)
    address = serializers.SerializerMethodField()

    class Meta:
        model = Borrower
        fields = [
            "id",
            "full_name",
            "national_id",
            "mobile",
            "address",
            "date_of_birth",
            "sex",
            "employer",
            "monthly_income",
            "kyc_status",
            "is_blacklisted",
            "blacklist_reason",
            "created_at",
            "updated_at",
        ]

    def get_address(self, obj) -> str:
        return masked("address", obj.address)


class BorrowerDetailOutput(BorrowerOutput):
    emergency_contacts = EmergencyContactOutput(many=True, read_only=True)

    class Meta(BorrowerOutput.Meta):
        fields = [*BorrowerOutput.Meta.fields, "emergency_contacts"]


class RevealedContactOutput(serializers.ModelSerializer):
    class Meta:
        model = EmergencyContact
        fields = ["id", "name", "relation", "phone"]


class RevealedBorrowerOutput(serializers.ModelSerializer):
    emergency_contacts = RevealedContactOutput(many=True, read_only=True)

    class Meta:
        model = Borrower
        fields = ["id", "full_name", "national_id", "mobile", "address", "emergency_contacts"]


class ProductOutput(serializers.ModelSerializer):
    class Meta:
        model = LoanProduct
        exclude = ["id"]


class LoanOutput(serializers.ModelSerializer):
    borrower_name = serializers.CharField(source="borrower.full_name", read_only=True)
    product = serializers.CharField(source="product.code", read_only=True)
    total_outstanding = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    application = serializers.SerializerMethodField(
        help_text="The application that booked the loan (none for a migrated loan)."
    )

    class Meta:
        model = Loan
        exclude = ["id", "created_by", "approved_by"]
        read_only_fields = ["reference"]

    def get_application(self, obj) -> int | None:
        application = getattr(obj, "application", None)
        return application.pk if application is not None else None


class InstallmentOutput(serializers.ModelSerializer):
    outstanding = serializers.SerializerMethodField()

    class Meta:
        model = Installment
        exclude = ["id", "loan", "penalty_accrued"]

    def get_outstanding(self, obj) -> str:
        parts = ("principal", "interest", "fee", "penalty")
        left = sum(getattr(obj, f"{p}_due") - getattr(obj, f"{p}_settled") for p in parts)
        return f"{left:.2f}"


class TransactionOutput(serializers.ModelSerializer):
    loan = serializers.CharField(source="loan.reference", read_only=True)
    posted_by = serializers.CharField(source="posted_by.username", default=None, read_only=True)

    class Meta:
        model = Transaction
        fields = [
            "id",
            "loan",
            "kind",
            "effect",
            "value_date",
            "amount",
            "principal",
            "interest",
            "fee",
            "penalty",
            "credit",
            "reverses",
            "caused_by",
            "idempotency_key",
            "external_reference",
            "channel",
            "note",
            "posted_at",
            "posted_by",
        ]


class StepOutput(serializers.ModelSerializer):
    class Meta:
        model = BusinessDayStep
        fields = ["position", "name", "status", "counts", "seconds", "error"]


class ChunkOutput(serializers.ModelSerializer):
    loans = serializers.SerializerMethodField()

    class Meta:
        model = BusinessDayChunk
        fields = ["number", "status", "attempts", "loans", "counts", "seconds", "error"]

    def get_loans(self, obj) -> int:
        return len(obj.loan_ids)


class RunOutput(serializers.ModelSerializer):
    started_by = serializers.CharField(source="started_by.username", default=None, read_only=True)

    class Meta:
        model = BusinessDayRun
        exclude = ["id", "failed_loan_ids"]


class RunDetailOutput(RunOutput):
    steps = StepOutput(many=True, read_only=True)
    chunks = ChunkOutput(many=True, read_only=True)

    class Meta(RunOutput.Meta):
        exclude = ["id"]
