from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class LendingConfig(AppConfig):
    name = "lending"
    verbose_name = _("Lending")

    def ready(self) -> None:
        from imports.registry import register_kind
        from lending.close_of_business import (
            bulk,  # noqa: F401 (registers __in_array)
            lending_steps,
        )
        from lending.close_of_business.registry import register_step
        from lending.db_moments import use_native_moment_loader
        from lending.resources import IMPORT_KINDS
        from lending.roles import sync_role_permissions

        connection_created.connect(use_native_moment_loader, dispatch_uid="lending.moments")
        # Permissions exist only after migrate; attaching them then keeps the roles complete.
        post_migrate.connect(sync_role_permissions, dispatch_uid="lending.sync_roles")
        # Lending's nightly steps; other apps register theirs at positions 100 and later.
        register_step("apply_credit", lending_steps.apply_credit, position=10)
        register_step("flag_overdue", lending_steps.flag_overdue, position=20)
        register_step("accrue_penalty", lending_steps.accrue_penalty, position=30)
        # Lending's spreadsheet import kinds (imports.registry; docs/imports.md).
        for kind in IMPORT_KINDS:
            register_kind(kind)
