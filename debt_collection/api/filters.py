"""Query-string filters of the collections lists: a bad value is a 400 naming the parameter."""

import django_filters
from django import forms

from debt_collection.models import Case, CaseStatus, ContactHold, HoldKind

_ID = {"min_value": 1, "max_value": 2**63 - 1, "decimal_places": 0}


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    bucket = django_filters.CharFilter(field_name="bucket", max_length=8)
    queue = django_filters.NumberFilter(field_name="queue_id", **_ID)
    collector = django_filters.NumberFilter(field_name="collector_id", **_ID)
    borrower = django_filters.NumberFilter(field_name="borrower_id", **_ID)

    class Meta:
        model = Case
        fields = []


class HoldFilter(django_filters.FilterSet):
    borrower = django_filters.NumberFilter(field_name="borrower_id", **_ID)
    kind = django_filters.ChoiceFilter(choices=HoldKind.choices)
    in_force = django_filters.BooleanFilter(
        field_name="lifted_at",
        lookup_expr="isnull",
        widget=forms.NullBooleanSelect,
        help_text="true: not lifted.",
    )

    class Meta:
        model = ContactHold
        fields = []
