"""The back office's roles (Django groups) and what each may do.

The groups are created by a migration; their permissions are (re)attached after every migrate,
so permissions of models that later migrations add reach the right roles.
"""

from django.apps import apps as global_apps

CREDIT_OFFICER = "credit officer"
RISK_ANALYST = "risk analyst"
COLLECTOR = "collector"
COLLECTIONS_MANAGER = "collections manager"
FINANCE = "finance"
AUDITOR = "auditor"
ADMINISTRATOR = "administrator"

ROLES = [
    CREDIT_OFFICER,
    RISK_ANALYST,
    COLLECTOR,
    COLLECTIONS_MANAGER,
    FINANCE,
    AUDITOR,
    ADMINISTRATOR,
]

# role -> {app_label: actions}; "view" alone is read-only. Models without a rule get nothing.
ROLE_PERMISSIONS = {
    CREDIT_OFFICER: {
        "lending": {
            "borrower": ("view", "add", "change"),
            "emergencycontact": ("view", "add", "change", "delete"),
            "loan": ("view", "add", "change"),
            "loanproduct": ("view",),
            "installment": ("view",),
            "transaction": ("view",),
        },
        # Officers verify income and bureau data, submit applications and decide referrals.
        "risk": {
            "riskprofile": ("view", "add", "change"),
            "loanapplication": ("view", "add", "change"),
            "decision": ("view",),
            "creditpolicy": ("view",),
            "creditlimit": ("view",),
            "creditlimitchange": ("view",),
            "limitincreaseproposal": ("view",),
        },
    },
    # "approve" exists only where a model defines it: approving limit increase proposals.
    RISK_ANALYST: {"lending": "view", "risk": ("view", "add", "change", "delete", "approve")},
    COLLECTOR: {
        "lending": {"borrower": ("view",), "loan": ("view",), "installment": ("view",)},
        "collections": ("view", "add", "change"),
    },
    COLLECTIONS_MANAGER: {
        "lending": {
            "borrower": ("view",),
            "loan": ("view",),
            "installment": ("view",),
            "transaction": ("view",),
        },
        "collections": "all",
    },
    FINANCE: {
        "lending": {
            "loan": ("view", "change"),
            "transaction": ("view", "add"),
            "installment": ("view",),
            "borrower": ("view",),
            "loanproduct": ("view", "add", "change"),
        },
    },
    AUDITOR: {"lending": "view", "risk": "view", "collections": "view"},
    ADMINISTRATOR: {
        "lending": "all",
        "risk": ("view", "add", "change", "delete", "approve"),
        "collections": "all",
        "auth": "all",
    },
}


def _codenames(app_label: str, rule, apps) -> set[str]:
    try:
        models = apps.get_app_config(app_label).get_models()
    except LookupError:
        return set()
    names = set()
    for model in models:
        name = model._meta.model_name
        if rule == "all":
            actions = ("view", "add", "change", "delete")
        elif rule == "view":
            actions = ("view",)
        elif isinstance(rule, tuple):
            actions = rule
        else:
            actions = rule.get(name, ())
        names.update(f"{action}_{name}" for action in actions)
    return names


def sync_role_permissions(apps=global_apps, **_kwargs) -> None:
    """Give each role exactly its permissions (run after migrate)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, rules in ROLE_PERMISSIONS.items():
        # The groups come from migration lending 0002; creating them here as well would clash
        # with a test database restored from its serialized copy after a flush.
        group = Group.objects.filter(name=role).first()
        if group is None:
            continue
        wanted = Permission.objects.none()
        for app_label, rule in rules.items():
            codenames = _codenames(app_label, rule, apps)
            wanted = wanted | Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
        group.permissions.set(wanted)
