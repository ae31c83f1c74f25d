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

# role -> {app_label: rule}. A rule is "view" (every model read-only), "all" (every model's
# view/add/change/delete and its own permissions), or {model: entries} where an entry is one of
# view/add/change/delete or a permission the model declares (approve_loan, view_pii, ...); the
# key "*" gives the models not listed "all" or "view".
# Least privilege (docs/roles.md): credit officers and administrators decide applications;
# analysts write and simulate policy (activation by a second person) but decide no application;
# finance moves money on approved loans but never approves; auditors read everything.
_READ_LEDGER = {
    "loan": ("view",),
    "installment": ("view",),
    "transaction": ("view",),
    "transactionline": ("view",),
}
_READ_BOOK = {
    **_READ_LEDGER,
    "borrower": ("view",),
    "loanproduct": ("view",),
}
_READ_NIGHT = {
    "businessdayrun": ("view",),
    "businessdaychunk": ("view",),
    "businessdaystep": ("view",),
    "bucketchange": ("view",),
    "delinquencybucket": ("view",),
    "lprrate": ("view",),
}
_READ_RISK = {
    "riskprofile": ("view",),
    "loanapplication": ("view",),
    "decision": ("view",),
    "creditpolicy": ("view",),
    "creditlimit": ("view",),
    "creditlimitchange": ("view",),
    "limitincreaseproposal": ("view",),
}

_RECORDS = {"auditevent": ("view",), "bucketchange": ("view",)}
# Collections: reading every case, not only one's own, is a permission of its own.
_READ_ALL_CASES = {"*": "view", "case": ("view", "view_all_cases")}
# Exports (docs/exports.md): taking records away in bulk is a grant of its own, never a
# consequence of reading them; unmasked personal data in bulk (export_pii) is the
# administrator's alone.
_EXPORT_NIGHT = {"businessdayrun": ("view", "export_businessdayrun")}
# Imports (docs/imports.md): view_importrecord shows a user their own imports (the role may
# import some kind); view_all_imports, everyone's.
_OWN_IMPORTS = {"importrecord": ("view",)}
_ALL_IMPORTS = {"importrecord": ("view", "view_all_imports")}
_COLLECTOR_WORK = {
    # Their own work list may go into a spreadsheet (visible_cases narrows it), masked: each
    # number is revealed on its case, one audited reveal at a time.
    "case": ("view", "log_contact", "record_promise", "export_case"),
    "contactattempt": ("view", "add"),
    "promisetopay": ("view", "add"),
    # Concessions: collectors propose on their own cases; a manager decides (maker-checker).
    "waiverproposal": ("view", "add", "propose_waiver"),
    "settlementproposal": ("view", "add", "propose_settlement"),
}
# Write-offs are finance's decision; the night draws up the proposals.
_FINANCE_COLLECTIONS = {
    **_READ_ALL_CASES,
    "writeoffproposal": ("view", "decide_write_off"),
    "recovery": ("view",),
}

# The portfolio dashboard (docs/dashboard.md), the admin home of those who run the book.
_DASHBOARD = {"dashboard": ("view",)}

ROLE_PERMISSIONS = {
    CREDIT_OFFICER: {
        "lending": {
            **_READ_BOOK,
            "borrower": ("view", "add", "change", "view_pii"),
            "emergencycontact": ("view", "add", "change", "delete"),
            "loan": ("view", "approve_loan", "cancel_loan"),
        },
        # Officers verify income and bureau data, submit applications and decide referrals
        # (never their own: the service checks).
        "risk": {
            **_READ_RISK,
            "riskprofile": ("view", "add", "change"),
            "loanapplication": ("view", "add", "decide_application"),
        },
        "imports": _OWN_IMPORTS,  # borrowers and bureau data
    },
    RISK_ANALYST: {
        # The nightly runs' counts (no personal data) feed their delinquency reviews.
        "lending": {**_READ_BOOK, **_READ_NIGHT, **_EXPORT_NIGHT},
        "risk": {
            **_READ_RISK,
            "creditpolicy": ("view", "add", "change", "activate_policy"),
            "limitincreaseproposal": (
                "view",
                "add",
                "change",
                "approve_limitincreaseproposal",
            ),
        },
    },
    COLLECTOR: {
        # Collectors reveal a borrower's phone to call (each reveal is audited).
        "lending": {
            "borrower": ("view", "view_pii"),
            "emergencycontact": ("view",),
            **_READ_LEDGER,
        },
        # Collectors work their own cases (the services and admin narrow every read to them):
        # they log contacts and record promises; queues, policies and holds are read-only.
        "collections": {"*": "view", **_COLLECTOR_WORK},
        # Contact results from an agency file (agency_results: log_contact, their own cases).
        "imports": _OWN_IMPORTS,
    },
    COLLECTIONS_MANAGER: {
        # Managers decide waivers and settlements, which post through lending's services.
        "lending": {
            **_READ_BOOK,
            "emergencycontact": ("view",),
            "bucketchange": ("view",),
            # The overdue list is the team's to export (masked); the loan book is not.
            "loan": ("view", "settle_loan", "export_overdue"),
            "transaction": ("view", "waive_charges"),
        },
        # Everything in collections (exporting the work list too) but write-offs (finance
        # decides) and posting recoveries.
        "collections": {
            "*": "all",
            "writeoffproposal": ("view",),
            "recovery": ("view",),
            "rollcount": ("view",),  # the night's figures, not anyone's to edit
        },
        "imports": _OWN_IMPORTS,  # agency results
        "portfolio": _DASHBOARD,
    },
    FINANCE: {
        "lending": {
            **_READ_BOOK,
            **_READ_NIGHT,
            **_EXPORT_NIGHT,
            "loan": (
                "view",
                "disburse_loan",
                "write_off_loan",
                "export_loan",
                "export_overdue",
            ),
            "transaction": (
                "view",
                "post_repayment",
                "reverse_transaction",
                "refund_credit",
                "post_recovery",
            ),
            "loanproduct": ("view", "add", "change"),
        },
        "collections": _FINANCE_COLLECTIONS,
        "imports": _OWN_IMPORTS,  # repayments
    },
    # Auditors also read who holds which access, and the login record, for access reviews.
    # They export what they read for their working papers, masked (no view_pii, no export_pii),
    # and read every user's imports.
    AUDITOR: {
        "lending": {
            "*": "view",
            **_EXPORT_NIGHT,
            "loan": ("view", "export_loan", "export_overdue"),
        },
        "risk": "view",
        "collections": {**_READ_ALL_CASES, "case": ("view", "view_all_cases", "export_case")},
        "imports": _ALL_IMPORTS,
        "auth": "view",
        "axes": "view",
    },
    # Everything, but the ledgers and records stay read-only even for administrators: the
    # services post them, and on PostgreSQL the database refuses edits of the ledger anyway.
    ADMINISTRATOR: {
        "lending": {
            "*": "all",
            **_READ_LEDGER,
            **_RECORDS,
            "loan": (
                "view",
                "approve_loan",
                "migrate_loan",
                "cancel_loan",
                "disburse_loan",
                "write_off_loan",
                "settle_loan",
                "export_loan",
                "export_overdue",
            ),
            "transaction": (
                "view",
                "post_repayment",
                "reverse_transaction",
                "refund_credit",
                "waive_charges",
                "post_recovery",
            ),
        },
        "risk": {"*": "all", "decision": ("view",), "creditlimitchange": ("view",)},
        "collections": "all",
        # Import records are written by the imports only: read-only, everyone's.
        "imports": _ALL_IMPORTS,
        "auth": "all",
        "authtoken": "all",
        "django_celery_beat": "all",
        "axes": "all",
        "portfolio": _DASHBOARD,
    },
}

CRUD = ("view", "add", "change", "delete")


def _codenames(app_label: str, rule, apps) -> set[str]:
    try:
        models = apps.get_app_config(app_label).get_models()
    except LookupError:
        return set()
    names = set()
    for model in models:
        name = model._meta.model_name
        own = [codename for codename, _ in model._meta.permissions]
        if rule == "all":
            entries = (*CRUD, *own)
        elif rule == "view":
            entries = ("view",)
        elif isinstance(rule, tuple):
            entries = tuple(e for e in rule if e in CRUD or e in own)
        else:
            entries = rule.get(name, rule.get("*", ()))
            if entries in ("all", "view"):  # "*": the rule for models not listed
                entries = (*CRUD, *own) if entries == "all" else ("view",)
            unknown = set(entries) - set(CRUD) - set(own)
            if unknown:  # a typo would silently withhold a permission
                raise ValueError(f"{app_label}.{name} declares no permission {sorted(unknown)}")
        names.update(f"{e}_{name}" if e in CRUD else e for e in entries)
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


# --- the role table in words (docs/roles.md) -----------------------------------------------


def role_codenames(role: str, apps=global_apps) -> set[str]:
    """The permissions ROLE_PERMISSIONS gives `role`, as "app_label.codename" (no database)."""
    return {
        f"{app_label}.{codename}"
        for app_label, rule in ROLE_PERMISSIONS[role].items()
        for codename in _codenames(app_label, rule, apps)
    }


def role_permission_rows(apps=global_apps) -> list[tuple[str, list[str]]]:
    """One row per model of every app the table mentions: ("app_label.model", [the entries
    each role in ROLES holds on it: view/add/change/delete, then the model's own permissions]).
    """
    app_labels = list(
        dict.fromkeys(label for rules in ROLE_PERMISSIONS.values() for label in rules)
    )
    held = {role: role_codenames(role, apps) for role in ROLES}
    rows = []
    for app_label in app_labels:
        try:
            models = apps.get_app_config(app_label).get_models()
        except LookupError:
            continue
        for model in models:
            name = model._meta.model_name
            entries = [(e, f"{app_label}.{e}_{name}") for e in CRUD] + [
                (codename, f"{app_label}.{codename}") for codename, _ in model._meta.permissions
            ]
            rows.append(
                (
                    f"{app_label}.{name}",
                    [[e for e, perm in entries if perm in held[role]] for role in ROLES],
                )
            )
    return [(label, [", ".join(cell) for cell in cells]) for label, cells in rows]


def roles_markdown(apps=global_apps) -> str:
    """The role table as a Markdown table (docs/roles.md embeds it; a test keeps them equal)."""
    lines = [
        "| Model | " + " | ".join(ROLES) + " |",
        "|---|" + "---|" * len(ROLES),
    ]
    for label, cells in role_permission_rows(apps):
        lines.append(f"| `{label}` | " + " | ".join(cell or "—" for cell in cells) + " |")
    return "\n".join(lines) + "\n"
