"""Query-string filters of the lending lists (django-filter): bad values are a 400 naming the
parameter, never a 500."""

import django_filters
from django import forms

from lending.models import Borrower, Loan, LoanStatus, Transaction, TransactionKind
from lending.models.borrowers import KycStatus
from lending.selectors import borrower_find

# dpd is a count of days: bounded so a huge number is a 400, not an overflowing query.
_DPD = {"min_value": 0, "max_value": 100_000}


class LoanFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=LoanStatus.choices)
    bucket = django_filters.CharFilter(field_name="bucket", max_length=8)
    product = django_filters.CharFilter(field_name="product__code", max_length=32)
    borrower = django_filters.NumberFilter(
        field_name="borrower_id", min_value=1, max_value=2**63 - 1, decimal_places=0
    )
    dpd_min = django_filters.NumberFilter(
        field_name="dpd", lookup_expr="gte", decimal_places=0, **_DPD
    )
    dpd_max = django_filters.NumberFilter(
        field_name="dpd", lookup_expr="lte", decimal_places=0, **_DPD
    )
    disbursed_from = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    disbursed_to = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")
    next_due_from = django_filters.DateFilter(field_name="next_due_date", lookup_expr="gte")
    next_due_to = django_filters.DateFilter(field_name="next_due_date", lookup_expr="lte")

    class Meta:
        model = Loan
        fields = []


class TransactionFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=TransactionKind.choices)
    value_date_from = django_filters.DateFilter(field_name="value_date", lookup_expr="gte")
    value_date_to = django_filters.DateFilter(field_name="value_date", lookup_expr="lte")

    class Meta:
        model = Transaction
        fields = []


class BorrowerFilter(django_filters.FilterSet):
    kyc_status = django_filters.ChoiceFilter(choices=KycStatus.choices)
    is_blacklisted = django_filters.BooleanFilter(widget=forms.NullBooleanSelect)
    identifier = django_filters.CharFilter(
        method="by_identifier",
        max_length=40,
        help_text="An exact 18-character national ID or 11-digit mobile (found by keyed hash).",
    )

    class Meta:
        model = Borrower
        fields = []

    def by_identifier(self, queryset, name, value):
        return queryset.filter(pk__in=[b.pk for b in borrower_find(identifier=value)])
