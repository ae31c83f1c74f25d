"""Data migrations that mend rows written by earlier releases."""

import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps

from lending.models import Installment
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

grace_fix = importlib.import_module("lending.migrations.0007_penalty_accrued_through_in_grace")


def test_accrued_marks_left_inside_grace_are_cleared_and_nothing_else():
    # Grace 3 days; each loan's first installment falls due on 15 October.
    loans = [active_loan(start=date(2026, 9, 15), grace_days=3) for _ in range(5)]
    first = [Installment.objects.get(loan=loan, seq=1) for loan in loans]
    due = first[0].due_date
    marks = [
        (due + timedelta(days=2), Decimal("0")),  # inside grace, nothing accrued: the old rule
        (due + timedelta(days=3), Decimal("0")),  # last day of grace: still inside
        (due + timedelta(days=5), Decimal("0")),  # past grace (within tolerance): a real mark
        (due + timedelta(days=2), Decimal("1.5")),  # something accrued: not the old rule's mark
        (due + timedelta(days=2), Decimal("0")),  # settled: the mark no longer matters, kept
    ]
    Installment.objects.filter(pk=first[4].pk).update(settled_on=due)
    for installment, (through, exact) in zip(first, marks, strict=True):
        Installment.objects.filter(pk=installment.pk).update(
            penalty_accrued_through=through, penalty_exact=exact
        )

    grace_fix.unmark_grace_nights(apps, None)

    after = [Installment.objects.get(pk=i.pk).penalty_accrued_through for i in first]
    assert after == [
        None,
        None,
        due + timedelta(days=5),
        due + timedelta(days=2),
        due + timedelta(days=2),
    ]
