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

__all__ = [
    "Case",
    "CaseAssignment",
    "CaseStatus",
    "Channel",
    "CloseReason",
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
    "SettlementProposal",
    "WaiverProposal",
    "WriteOffProposal",
    "default_time_zone",
]
