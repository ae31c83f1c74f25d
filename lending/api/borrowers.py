"""Borrowers: lists and pages with personal data masked; an audited reveal; create and update
a profile and its emergency contacts (lending.services.borrowers, which checks the permission,
the national ID, the mobile and every other rule)."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.base import ApiView, DetailView, InputSerializer, ListView, Money, validated
from config.api.idempotency import IDEMPOTENCY_KEY, idempotent
from config.api.schema import problem_responses
from lending.api.filters import BorrowerFilter
from lending.api.serializers import (
    BorrowerDetailOutput,
    BorrowerOutput,
    EmergencyContactOutput,
    RevealedBorrowerOutput,
)
from lending.errors import LendingError
from lending.models import Borrower, EmergencyContact
from lending.models.borrowers import ContactRelation, KycStatus, Sex
from lending.services.borrowers import (
    borrower_create,
    borrower_reveal_pii,
    borrower_update,
    emergency_contact_add,
    emergency_contact_remove,
    emergency_contact_update,
)

TAGS = ["borrowers"]
BORROWERS = Borrower.objects.prefetch_related("emergency_contacts")
WRITE_ERRORS = problem_responses(400, 403, 404, 409, 422)


class ContactInput(InputSerializer):
    name = serializers.CharField(max_length=100)
    relation = serializers.ChoiceField(choices=ContactRelation.choices)
    phone = serializers.CharField(max_length=32, help_text="A mainland mobile number.")


class ProfileInput(InputSerializer):
    """The fields of a profile anyone with the permission may write; every other field
    (`id`, `created_at`, the digests, ...) is refused naming it. Date of birth and sex come
    from the national ID: given with it, they must agree."""

    full_name = serializers.CharField(max_length=100)
    national_id = serializers.CharField(max_length=18, help_text="18 characters, checksummed.")
    mobile = serializers.CharField(max_length=32, help_text="A mainland mobile number.")
    date_of_birth = serializers.DateField(help_text="Must agree with the national ID.")
    sex = serializers.ChoiceField(choices=Sex.choices, help_text="Must agree with the national ID.")
    address = serializers.CharField(max_length=255, allow_blank=True)
    employer = serializers.CharField(max_length=200, allow_blank=True)
    monthly_income = Money(allow_null=True, help_text="Verified monthly income; not negative.")
    kyc_status = serializers.ChoiceField(choices=KycStatus.choices)
    is_blacklisted = serializers.BooleanField()
    blacklist_reason = serializers.CharField(
        max_length=255, allow_blank=True, help_text="Required when blacklisted."
    )


BORROWER_EXAMPLE = {
    "full_name": "Wang Fang",
    "national_id": "11010519491231002X",
    "mobile": "13800138000",
    "address": "1 Long Road, Shenzhen",
    "employer": "Shenzhen Metro",
    "monthly_income": "12000.00",
    "emergency_contacts": [{"name": "Wang Lei", "relation": "sibling", "phone": "13900139000"}],
}


def _borrower_answer(pk: int, status_code=status.HTTP_200_OK) -> Response:
    return Response(BorrowerDetailOutput(BORROWERS.get(pk=pk)).data, status=status_code)


class BorrowerList(ListView):
    """GET the borrowers; POST a new one."""

    read_permission = "lending.view_borrower"
    queryset = Borrower.objects.all()
    serializer_class = BorrowerOutput
    filterset_class = BorrowerFilter
    ordering_fields = ["id", "created_at", "full_name"]

    class Input(ProfileInput):
        date_of_birth = serializers.DateField(required=False)
        sex = serializers.ChoiceField(choices=Sex.choices, required=False)
        address = serializers.CharField(max_length=255, allow_blank=True, required=False)
        employer = serializers.CharField(max_length=200, allow_blank=True, required=False)
        monthly_income = Money(allow_null=True, required=False)
        kyc_status = serializers.ChoiceField(choices=KycStatus.choices, required=False)
        is_blacklisted = serializers.BooleanField(required=False)
        blacklist_reason = serializers.CharField(max_length=255, allow_blank=True, required=False)
        emergency_contacts = serializers.ListField(
            child=ContactInput(), required=False, max_length=10
        )

    @extend_schema(
        summary="List borrowers",
        description="National ID, mobile and address are masked. `identifier` finds a "
        "borrower by exact national ID or mobile.",
        responses={200: BorrowerOutput(many=True), **problem_responses(400, 403, 404)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Register a borrower",
        description="Needs `lending.add_borrower` (credit officers, administrators). The "
        "national ID is checked (checksum, a real date of birth) and gives the date of birth "
        "and sex; the mobile is normalised; a national ID already registered is a 409 "
        "`duplicate`. Emergency contacts may come with it (each as `emergency-contacts/` "
        "adds one). The answer is masked like every borrower page.",
        request=Input,
        responses={201: BorrowerDetailOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[OpenApiExample("A new borrower", value=BORROWER_EXAMPLE, request_only=True)],
        tags=TAGS,
    )
    @idempotent
    def post(self, request):
        data = validated(self, request)
        contacts = [dict(contact) for contact in data.pop("emergency_contacts", [])]
        with transaction.atomic():  # the borrower and every contact, or nothing
            borrower = borrower_create(acting_user=request.user, **data)
            for index, contact in enumerate(contacts):
                try:
                    emergency_contact_add(borrower=borrower, acting_user=request.user, **contact)
                except LendingError as exc:  # named as sent: emergency_contacts.0.phone
                    field = f"emergency_contacts.{index}.{exc.field}"
                    raise LendingError(exc.code, exc.message, field=field) from None
        return _borrower_answer(borrower.pk, status.HTTP_201_CREATED)


class BorrowerDetail(DetailView):
    """GET a borrower; PATCH their profile."""

    read_permission = "lending.view_borrower"
    queryset = BORROWERS
    serializer_class = BorrowerDetailOutput

    class Input(ProfileInput):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for field in self.fields.values():  # a PATCH: any of them
                field.required = False

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError(_("give at least one field to change"))
            return attrs

    @extend_schema(
        summary="A borrower, with emergency contacts",
        description="Personal data masked; see `reveal/`.",
        responses={200: BorrowerDetailOutput, **problem_responses(403, 404)},
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Update a borrower's profile",
        description="Needs `lending.change_borrower`. Only the fields sent change, under the "
        "same rules as registering; every change is audited (personal data masked in the "
        "log). A field that is not part of the profile (`id`, `created_at`, ...) is a 400 "
        "`unknown_field` naming it. Emergency contacts have their own URLs.",
        request=Input,
        responses={200: BorrowerDetailOutput, **problem_responses(400, 403, 404, 409)},
        examples=[
            OpenApiExample(
                "Income verified",
                value={"monthly_income": "15000.00", "kyc_status": "verified"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    def patch(self, request, pk: int):
        borrower = get_object_or_404(Borrower, pk=pk)
        data = validated(self, request)
        borrower_update(borrower_id=borrower.pk, acting_user=request.user, **data)
        return _borrower_answer(borrower.pk)


class BorrowerReveal(ApiView):
    read_permission = "lending.view_borrower"

    @extend_schema(
        summary="Reveal a borrower's personal data",
        description="National ID, mobile, address and contact phones unmasked. Needs "
        "`lending.view_pii`; every reveal is recorded in the audit log.",
        request=None,
        responses={200: RevealedBorrowerOutput, **problem_responses(403, 404)},
        tags=TAGS,
    )
    def post(self, request, pk: int):
        borrower = borrower_reveal_pii(borrower_id=pk, acting_user=request.user)
        return Response(RevealedBorrowerOutput(borrower).data)


class EmergencyContacts(ApiView):
    read_permission = "lending.view_emergencycontact"

    class Input(ContactInput):
        pass

    @extend_schema(
        summary="A borrower's emergency contacts",
        description="Phones masked.",
        responses={200: EmergencyContactOutput(many=True), **problem_responses(403, 404)},
        tags=TAGS,
    )
    def get(self, request, pk: int):
        borrower = get_object_or_404(Borrower, pk=pk)
        contacts = borrower.emergency_contacts.all()
        return Response(EmergencyContactOutput(contacts, many=True).data)

    @extend_schema(
        summary="Add an emergency contact",
        description="Needs `lending.change_borrower`. The borrower's own number is refused.",
        request=Input,
        responses={201: EmergencyContactOutput, **WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "A sister",
                value={"name": "Wang Lei", "relation": "sibling", "phone": "13900139000"},
                request_only=True,
            )
        ],
        tags=TAGS,
    )
    @idempotent
    def post(self, request, pk: int):
        borrower = get_object_or_404(Borrower, pk=pk)
        data = validated(self, request)
        contact = emergency_contact_add(borrower=borrower, acting_user=request.user, **data)
        return Response(EmergencyContactOutput(contact).data, status=status.HTTP_201_CREATED)


class EmergencyContactDetail(ApiView):
    """PATCH one of a borrower's emergency contacts; DELETE it."""

    read_permission = "lending.view_emergencycontact"

    class Input(ContactInput):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for field in self.fields.values():  # a PATCH: what is not sent stays
                field.required = False

    @staticmethod
    def contact_or_404(pk: int, contact_id: int) -> EmergencyContact:
        return get_object_or_404(EmergencyContact, pk=contact_id, borrower_id=pk)

    @extend_schema(
        summary="Correct an emergency contact",
        description="Needs `lending.change_borrower`. What is not sent stays; the same rules as "
        "adding one (the borrower's own number is refused); the change is audited with the "
        "phones masked.",
        request=Input,
        responses={200: EmergencyContactOutput, **problem_responses(400, 403, 404)},
        examples=[
            OpenApiExample("A new number", value={"phone": "13700137000"}, request_only=True)
        ],
        tags=TAGS,
    )
    def patch(self, request, pk: int, contact_id: int):
        contact = self.contact_or_404(pk, contact_id)
        data = validated(self, request)
        contact = emergency_contact_update(
            contact_id=contact.pk,
            name=data.get("name", contact.name),
            relation=data.get("relation", contact.relation),
            phone=data.get("phone", contact.phone),
            acting_user=request.user,
        )
        return Response(EmergencyContactOutput(contact).data)

    @extend_schema(
        summary="Remove an emergency contact",
        description="Needs `lending.change_borrower`. The removal is audited (phone masked). "
        "Contact attempts that named the contact keep their record.",
        request=None,
        responses={204: None, **problem_responses(403, 404, 409)},
        tags=TAGS,
    )
    def delete(self, request, pk: int, contact_id: int):
        contact = self.contact_or_404(pk, contact_id)
        emergency_contact_remove(contact_id=contact.pk, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
