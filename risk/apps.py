from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = _("Risk and credit limits")

    def ready(self) -> None:
        from imports.registry import register_kind
        from lending.close_of_business.registry import register_step
        from lending.services.loans import register_disbursement_check
        from risk.resources import BUREAU
        from risk.services.behaviour import limit_review
        from risk.services.underwriting import limit_check_at_disbursement

        # After lending's steps (10–30) and collections' cases and promise checks (DESIGN §6);
        # book-level: risk.services.behaviour says why it is not chunked.
        register_step("limit_review", limit_review, position=300, chunked=False)
        # The limit is checked again when the money leaves, under the borrower lock.
        register_disbursement_check(limit_check_at_disbursement)
        # Its spreadsheet import kind (imports.registry; docs/imports.md).
        register_kind(BUREAU)
