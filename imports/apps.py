from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """Spreadsheet imports: the reading, the engine and its doors. The kinds (what a row does)
    belong to the apps that own the rows; each registers its own in its AppConfig.ready
    (imports.registry), so this app never imports them."""

    name = "imports"
    label = "imports"
    verbose_name = _("Imports")
