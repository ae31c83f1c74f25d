"""Compliance policy versions: drafts are written and edited, one version is active."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from debt_collection.access import CollectionsPerm
from debt_collection.models import CompliancePolicy, PolicyStatus
from lending.access import require, stored_user
from lending.errors import LendingError, LendingErrorCode
from lending.services.audit import audit_log

EDITABLE_FIELDS = (
    "name",
    "contact_from",
    "contact_until",
    "hours_source",
    "daily_connected_calls",
    "daily_source",
    "weekly_attempts",
    "weekly_calls_only",
    "weekly_source",
    "holds_source",
    "emergency_after",
    "emergency_source",
    "party_source",
    "emergency_note",
    "promise_grace_days",
    "notes",
)
SOURCED = {
    "hours_source": "contact_from",
    "daily_source": "daily_connected_calls",
    "weekly_source": "weekly_attempts",
    "holds_source": None,
    "emergency_source": "emergency_after",
    "party_source": None,
}


def _check(values: dict) -> None:
    if values["contact_from"] >= values["contact_until"]:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("contact hours must end after they start"),
            field="contact_until",
        )
    for source, rule in SOURCED.items():
        if (rule is None or values.get(rule) is not None) and not values.get(source, "").strip():
            raise LendingError(
                LendingErrorCode.REQUIRED, _("every rule needs its source"), field=source
            )


@transaction.atomic
def compliance_policy_save(*, values: dict, acting_user, policy_id=None) -> CompliancePolicy:
    """A new draft version (no `policy_id`), or changes to a draft; active and retired
    versions are kept as they were enforced."""
    require(
        acting_user, CollectionsPerm.MANAGE_COMPLIANCE_POLICY, to=_("write compliance policies")
    )
    values = {k: values[k] for k in EDITABLE_FIELDS if k in values}
    if policy_id is None:
        list(CompliancePolicy.objects.select_for_update().values_list("pk", flat=True))
        version = (CompliancePolicy.objects.aggregate(top=Max("version"))["top"] or 0) + 1
        policy = CompliancePolicy(version=version, status=PolicyStatus.DRAFT)
    else:
        policy = CompliancePolicy.objects.select_for_update().get(pk=policy_id)
        if policy.status != PolicyStatus.DRAFT:
            raise LendingError(
                LendingErrorCode.ILLEGAL_TRANSITION,
                _("only drafts are edited; copy this version into a new draft"),
                field="status",
            )
    for name, value in values.items():
        setattr(policy, name, value)
    _check({name: getattr(policy, name) for name in EDITABLE_FIELDS})
    policy.save()
    audit_log(actor=acting_user, action="compliance_policy.save", obj=policy, summary=str(policy))
    return policy


@transaction.atomic
def compliance_policy_activate(*, policy_id, acting_user) -> CompliancePolicy:
    """Make a version the one enforced; the version it replaces is retired."""
    require(
        acting_user,
        CollectionsPerm.MANAGE_COMPLIANCE_POLICY,
        to=_("activate compliance policies"),
    )
    policies = {p.pk: p for p in CompliancePolicy.objects.select_for_update().order_by("pk")}
    policy = policies.get(policy_id)
    if policy is None:
        raise LendingError(LendingErrorCode.NOT_FOUND, _("no such policy"), field="policy")
    if policy.status == PolicyStatus.ACTIVE:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _("%s is already active") % policy,
            field="status",
        )
    retired = [p for p in policies.values() if p.status == PolicyStatus.ACTIVE]
    for old in retired:
        old.status = PolicyStatus.RETIRED
        old.save(update_fields=["status"])
    policy.status, policy.activated_at = PolicyStatus.ACTIVE, timezone.now()
    policy.activated_by = stored_user(acting_user)
    policy.save(update_fields=["status", "activated_at", "activated_by"])
    audit_log(
        actor=acting_user,
        action="compliance_policy.activate",
        obj=policy,
        summary=str(policy),
        data={"retired": [p.version for p in retired]},
    )
    return policy
