"""A collections world for the API tests, built through the services and the nightly close:
two overdue loans, each with its open case — one the collector's, one collector2's — and a
token client for every role."""

from types import SimpleNamespace

from debt_collection.models import (
    Case,
    CaseAssignment,
    CompliancePolicy,
    ComplianceRefusal,
    ContactAttempt,
    ContactHold,
    PromiseToPay,
    Queue,
)
from debt_collection.services.cases import case_reassign
from lending import roles
from lending.access import SYSTEM
from lending.models import AuditEvent
from tests.collections.helpers import open_case, overdue_loans

COLLECTIONS = "/api/v1/collections/"


def make_world(client_for) -> SimpleNamespace:
    loan, other_loan = overdue_loans(2)
    case, other = open_case(loan), open_case(other_loan)
    clients = {role: client_for(role) for role in roles.ROLES}  # "collector" is the collector
    collector2 = client_for(roles.COLLECTOR, username="collector2")
    queue = Queue.objects.get(name="M1 early reminders")
    queue.members.add(clients[roles.COLLECTOR].user, collector2.user)
    for c, client in ((case, clients[roles.COLLECTOR]), (other, collector2)):
        case_reassign(case_ids=[c.pk], collector_id=client.user.pk, reason="t", acting_user=SYSTEM)
        c.refresh_from_db()
    return SimpleNamespace(
        case=case,
        other=other,
        queue=queue,
        clients=clients,
        collector=clients[roles.COLLECTOR],
        collector2=collector2,
        manager=clients[roles.COLLECTIONS_MANAGER],
    )


def case_url(case, suffix: str = "") -> str:
    return f"{COLLECTIONS}cases/{case.pk}/{suffix}"


def collections_state() -> tuple:
    """Everything a collections operation could write (equal before and after: nothing)."""
    return (
        ContactAttempt.objects.count(),
        ComplianceRefusal.objects.count(),
        PromiseToPay.objects.count(),
        CaseAssignment.objects.count(),
        list(CaseAssignment.objects.order_by("pk").values_list("case", "collector")),
        list(ContactHold.objects.order_by("pk").values_list("pk", "lifted_at")),
        list(CompliancePolicy.objects.order_by("pk").values_list("pk", "status")),
        sorted(Queue.objects.values_list("pk", "members")),
        list(Case.objects.order_by("pk").values_list("pk", "time_zone")),
        AuditEvent.objects.count(),
    )


def contact(**overrides) -> dict:
    return {
        "channel": "call",
        "party": "borrower",
        "contacted_at": "2026-11-10T10:00:00+08:00",
        "connected": False,
        "outcome": "no_answer",
        "note": "",
        **overrides,
    }
