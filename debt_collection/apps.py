from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsConfig(AppConfig):
    # The package cannot be called `collections`: it would shadow the standard library
    # (DESIGN §3.1). The label keeps the word for the admin, URLs, permissions and table names.
    name = "debt_collection"
    label = "collections"
    verbose_name = _("Collections")
