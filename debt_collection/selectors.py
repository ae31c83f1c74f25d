"""Reads the services and the admin share."""

import json
from datetime import date, datetime

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
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
    """The pk of each borrower's most urgent case among `cases` (highest priority, then lowest
    id): the row the work list by borrower shows for them. For `pk__in`.

    PostgreSQL picks them in one sort of the cases (`DISTINCT ON`); elsewhere (SQLite: tests,
    the demo) a subquery per case finds its borrower's first: the same rows, but at a million
    loans that is a lookup per open case (7 s for the list)."""
    if connection.vendor == "postgresql":
        return lead_cases_distinct_on(cases)
    return lead_cases_portable(cases)


def lead_cases_distinct_on(cases: QuerySet) -> QuerySet:
    return cases.order_by("borrower_id", "-priority", "pk").distinct("borrower_id").values("pk")


def lead_cases_portable(cases: QuerySet) -> QuerySet:
    same = cases.filter(borrower_id=OuterRef("borrower_id"))
    first = same.order_by("-priority", "pk").values("pk")[:1]
    return cases.filter(pk=Subquery(first)).values("pk")
