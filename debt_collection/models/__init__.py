from debt_collection.models.cases import (
    Case,
    CaseAssignment,
    CaseStatus,
    CloseReason,
    Queue,
    default_time_zone,
)
from debt_collection.models.concessions import (
    ProposalState,
    Recovery,
    SettlementProposal,
    WaiverProposal,
    WriteOffProposal,
)
from debt_collection.models.contacts import (
    Channel,
    ComplianceRefusal,
    ContactAttempt,
    ContactHold,
    HoldKind,
    Outcome,
    Party,
    PromiseState,
    PromiseToPay,
)
from debt_collection.models.policy import CompliancePolicy, PolicyStatus
from debt_collection.models.reminders import (
    KIND_OFFSETS,
    Reminder,
    ReminderKind,
    ReminderState,
    ReminderTemplate,
)
from debt_collection.models.rolls import RollCount
from debt_collection.models.views import CaseByBorrower, CollectionsKpi

__all__ = [
    "KIND_OFFSETS",
    "Case",
    "CaseAssignment",
    "CaseByBorrower",
    "CaseStatus",
    "Channel",
    "CloseReason",
    "CollectionsKpi",
    "CompliancePolicy",
    "ComplianceRefusal",
    "ContactAttempt",
    "ContactHold",
    "HoldKind",
    "Outcome",
    "Party",
    "PolicyStatus",
    "PromiseState",
    "PromiseToPay",
    "ProposalState",
    "Queue",
    "Recovery",
    "Reminder",
    "ReminderKind",
    "ReminderState",
    "ReminderTemplate",
    "RollCount",
    "SettlementProposal",
    "WaiverProposal",
    "WriteOffProposal",
    "default_time_zone",
]
