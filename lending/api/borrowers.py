"""Borrowers: lists and pages with personal data masked; an audited reveal; emergency contacts."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.base import ApiView, DetailView, InputSerializer, ListView
from config.api.schema import problem_responses
from lending.api.filters import BorrowerFilter
from lending.api.serializers import (
    BorrowerDetailOutput,
    BorrowerOutput,
    EmergencyContactOutput,
    RevealedBorrowerOutput,
)
from lending.models import Borrower
from lending.models.borrowers import ContactRelation
from lending.services.borrowers import borrower_reveal_pii, emergency_contact_add

TAGS = ["borrowers"]


@extend_schema(
    summary="List borrowers",
    description="National ID, mobile and address are masked. `identifier` finds a borrower by "
    "exact national ID or mobile.",
    responses={200: BorrowerOutput(many=True), **problem_responses(400, 403, 404)},
    tags=TAGS,
)
class BorrowerList(ListView):
    read_permission = "lending.view_borrower"
    queryset = Borrower.objects.all()
    serializer_class = BorrowerOutput
    filterset_class = BorrowerFilter
    ordering_fields = ["id", "created_at", "full_name"]


@extend_schema(
    summary="A borrower, with emergency contacts",
    description="Personal data masked; see `reveal/`.",
    responses={200: BorrowerDetailOutput, **problem_responses(403, 404)},
    tags=TAGS,
)
class BorrowerDetail(DetailView):
    read_permission = "lending.view_borrower"
    queryset = Borrower.objects.prefetch_related("emergency_contacts")
    serializer_class = BorrowerDetailOutput


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

    class Input(InputSerializer):
        name = serializers.CharField(max_length=100)
        relation = serializers.ChoiceField(choices=ContactRelation.choices)
        phone = serializers.CharField(max_length=32)

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
        responses={201: EmergencyContactOutput, **problem_responses(400, 403, 404)},
        tags=TAGS,
    )
    def post(self, request, pk: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        borrower = get_object_or_404(Borrower, pk=pk)
        contact = emergency_contact_add(
            borrower=borrower, acting_user=request.user, **data.validated_data
        )
        return Response(EmergencyContactOutput(contact).data, status=status.HTTP_201_CREATED)
