"""Credit policy versions: drafts and candidates are edited, one version is active, retired
versions stay read-only for audit; every decision records the version it used."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from lending.access import Perm, require, stored_user
from lending.errors import LendingError, LendingErrorCode, translated
from lending.models import AuditEvent
from lending.services.audit import audit_log
from lending.validation import clean_text
from risk.models import CreditPolicy, PolicyStatus
from risk.policy import Policy, PolicyError, parse_policy

EDITABLE = (PolicyStatus.DRAFT, PolicyStatus.CANDIDATE)


def policy_issues(exc: PolicyError) -> list[tuple[str, str]]:
    """Each broken rule's path and what is wrong with it, in the active language."""
    return [(issue.rule, translated(issue)) for issue in exc.errors]


def policy_parse(definition: dict) -> Policy:
    """The pure policy, or a LendingError naming the first broken rule (all of them listed)."""
    try:
        return parse_policy(definition)
    except PolicyError as exc:
        issues = "; ".join(f"{rule}: {message}" for rule, message in policy_issues(exc))
        raise LendingError(LendingErrorCode.INVALID, issues, field="definition") from None


@transaction.atomic
def policy_create(
    *,
    name: str,
    definition: dict,
    acting_user,
    status: PolicyStatus = PolicyStatus.DRAFT,
    notes: str = "",
) -> CreditPolicy:
    require(acting_user, Perm.ADD_POLICY, to=_("write credit policies"))
    if status not in EDITABLE:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("a new version starts as a draft or a candidate"),
            field="status",
        )
    name = clean_text(name, field="name", max_length=100, required=True)
    policy_parse(definition)
    # Versions are numbered in order; the lock keeps two creators from taking one number.
    list(CreditPolicy.objects.select_for_update().values_list("pk", flat=True))
    version = (CreditPolicy.objects.aggregate(top=Max("version"))["top"] or 0) + 1
    policy = CreditPolicy.objects.create(
        version=version,
        name=name,
        status=status,
        definition=definition,
        notes=notes,
        created_by=stored_user(acting_user),
    )
    audit_log(actor=acting_user, action="policy.create", obj=policy, summary=str(policy))
    return policy


@transaction.atomic
def policy_update(
    *,
    policy_id: int,
    acting_user,
    definition: dict | None = None,
    name: str | None = None,
    notes: str | None = None,
) -> CreditPolicy:
    require(acting_user, Perm.EDIT_POLICY, to=_("write credit policies"))
    policy = CreditPolicy.objects.select_for_update().get(pk=policy_id)
    if policy.status not in EDITABLE:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _(
                "version %(version)s is %(status)s: it is kept read-only for audit; copy it to "
                "a new version to change it"
            )
            % {"version": policy.version, "status": policy.get_status_display().lower()},
            field="status",
        )
    if definition is not None:
        policy_parse(definition)
        policy.definition = definition
    if name is not None:
        policy.name = clean_text(name, field="name", max_length=100, required=True)
    if notes is not None:
        policy.notes = notes
    policy.save()
    audit_log(actor=acting_user, action="policy.update", obj=policy, summary=str(policy))
    return policy


@transaction.atomic
def policy_request_activation(*, policy_id: int, acting_user) -> CreditPolicy:
    """A draft handed over for activation: it becomes a candidate, which another analyst or an
    administrator activates (`policy_activate`, four eyes). Only a valid draft is handed over."""
    require(acting_user, Perm.EDIT_POLICY, to=_("write credit policies"))
    policy = CreditPolicy.objects.select_for_update().filter(pk=policy_id).first()
    if policy is None:
        raise LendingError(
            LendingErrorCode.NOT_FOUND, _("no policy %(id)s") % {"id": policy_id}, field="policy"
        )
    if policy.status != PolicyStatus.DRAFT:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _("version %(version)s is %(status)s; only a draft can be put forward for activation")
            % {"version": policy.version, "status": policy.get_status_display().lower()},
            field="status",
        )
    policy_parse(policy.definition)
    policy.status = PolicyStatus.CANDIDATE
    policy.save(update_fields=["status"])
    audit_log(
        actor=acting_user, action="policy.request_activation", obj=policy, summary=str(policy)
    )
    return policy


def policy_makers(policy: CreditPolicy) -> set[int]:
    """Everyone who wrote this version: its creator and whoever edited it since."""
    editors = AuditEvent.objects.filter(
        action="policy.update", object_type=policy._meta.label_lower, object_id=str(policy.pk)
    ).values_list("actor_id", flat=True)
    return {pk for pk in [policy.created_by_id, *editors] if pk is not None}


@transaction.atomic
def policy_activate(*, policy_id: int, acting_user) -> CreditPolicy:
    """Make a draft or candidate the one active version; the previous one is retired.
    Four eyes: whoever wrote or edited the version cannot activate it."""
    require(acting_user, Perm.ACTIVATE_POLICY, to=_("activate credit policies"))
    policies = {p.pk: p for p in CreditPolicy.objects.select_for_update().order_by("pk")}
    policy = policies.get(policy_id)
    if policy is None:
        raise LendingError(
            LendingErrorCode.NOT_FOUND, _("no policy %(id)s") % {"id": policy_id}, field="policy"
        )
    if policy.status not in EDITABLE:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _("version %(version)s is %(status)s; only a draft or a candidate can be activated")
            % {"version": policy.version, "status": policy.get_status_display().lower()},
            field="status",
        )
    if getattr(acting_user, "pk", None) in policy_makers(policy):
        raise LendingError(
            LendingErrorCode.SAME_PERSON,
            _(
                "you wrote or edited version %(version)s; another analyst or an administrator "
                "must activate it"
            )
            % {"version": policy.version},
            field="activated_by",
        )
    policy_parse(policy.definition)
    for other in policies.values():
        if other.status == PolicyStatus.ACTIVE:
            other.status = PolicyStatus.RETIRED
            other.save(update_fields=["status"])
    policy.status = PolicyStatus.ACTIVE
    policy.activated_at = timezone.now()
    policy.activated_by = stored_user(acting_user)
    policy.save(update_fields=["status", "activated_at", "activated_by"])
    audit_log(actor=acting_user, action="policy.activate", obj=policy, summary=str(policy))
    return policy


def policy_copy(*, policy_id: int, acting_user, name: str | None = None) -> CreditPolicy:
    """A new draft from any version (the way back to an old policy)."""
    source = CreditPolicy.objects.filter(pk=policy_id).first()
    if source is None:
        raise LendingError(
            LendingErrorCode.NOT_FOUND, _("no policy %(id)s") % {"id": policy_id}, field="policy"
        )
    if not name:
        suffix = f" (copy of v{source.version})"
        max_length = CreditPolicy._meta.get_field("name").max_length
        name = source.name[: max_length - len(suffix)] + suffix
    return policy_create(
        name=name,
        definition=source.definition,
        acting_user=acting_user,
        notes=f"copied from version {source.version}",
    )
