from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class LendingConfig(AppConfig):
    name = "lending"
    verbose_name = _("Lending")

    def ready(self) -> None:
        from lending.roles import sync_role_permissions

        # Permissions exist only after migrate; attaching them then keeps the roles complete.
        post_migrate.connect(sync_role_permissions, dispatch_uid="lending.sync_roles")
