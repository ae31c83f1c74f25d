"""Reads the services and the admin share."""

import json
from datetime import date, datetime

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from debt_collection import priority
from debt_collection.models import Case, CompliancePolicy, PolicyStatus
from lending.errors import LendingError, LendingErrorCode


def jsonish(value):
    """A JSON value as lending's bulk_set takes it: text cast to jsonb on PostgreSQL."""
    return json.dumps(value, sort_keys=True) if connection.vendor == "postgresql" else value


def active_policy() -> CompliancePolicy:
    policy = CompliancePolicy.objects.filter(status=PolicyStatus.ACTIVE).first()
    if policy is None:  # the data migration ships one; only a hand edit can remove it
        raise LendingError(
            LendingErrorCode.NOT_FOUND,
            _("no compliance policy is active; a manager must activate one before contacts"),
            field="policy",
        )
    return policy


def days_since(moment: datetime | None, as_of: date) -> int | None:
    return None if moment is None else (as_of - timezone.localdate(moment)).days


def case_priority(case: Case, as_of: date) -> priority.Priority:
    return priority.priority(
        dpd=case.dpd,
        overdue_amount=case.overdue_amount,
        broken_promises=case.broken_promises,
        days_since_contact=days_since(case.last_contact_at, as_of),
    )


def lead_cases(cases: QuerySet) -> QuerySet:
    """Of `cases`, each borrower's most urgent (highest priority, then lowest id): the row the
    work list by borrower shows for them.

    A case leads when no case of its borrower among `cases` comes before it (NOT EXISTS, by the
    borrower index). Walked in the list's order (the cases' priority index, collections
    0010) the first page costs a probe per row shown, not a sort of every open case (0.4-0.6 s
    at a million loans with DISTINCT ON, 7 s with a subquery per case)."""
    before = cases.filter(borrower_id=OuterRef("borrower_id")).filter(
        Q(priority__gt=OuterRef("priority"))
        | Q(priority=OuterRef("priority"), pk__lt=OuterRef("pk"))
    )
    return cases.filter(~Exists(before))
