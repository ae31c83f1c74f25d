from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsConfig(AppConfig):
    # The package cannot be called `collections`: it would shadow the standard library
    # (DESIGN §3.1). The label keeps the word for the admin, URLs, permissions and table names.
    name = "debt_collection"
    label = "collections"
    verbose_name = _("Collections")

    def ready(self) -> None:
        from debt_collection.resources import AGENCY_HAND_OUT, AGENCY_RESULTS
        from debt_collection.services.cases import case_money_moved, cases_money_moved
        from debt_collection.services.concessions import (
            settlement_check,
            settlement_companions,
            settlement_money_moved,
            settlements_after_payments,
            write_off_proposals,
        )
        from debt_collection.services.nightly import collection_cases
        from debt_collection.services.promises import promise_check
        from debt_collection.services.reminders import reminder_write
        from debt_collection.services.roll_counts import roll_counts_store
        from imports.registry import register_kind
        from lending.close_of_business.registry import register_step
        from lending.services.hooks import register_money_moved, register_reversal_companions

        # After lending's flagging (20) and accrual (30), before risk's limit review (300).
        # Cases per chunk; promises book-level: a promise's loan may be paid up and out of the
        # night's chunks (services.promises says more).
        register_step("collection_cases", collection_cases, position=100)
        register_step("promise_check", promise_check, position=110, chunked=False)
        # Book-level: its before-due and due-today installments are not in the night's chunks
        # (services.reminders says more).
        register_step("reminder_write", reminder_write, position=150, chunked=False)
        # Settlements settle or lapse, then the write-off list is drawn up (docs/collections.md).
        register_step("settlement_check", settlement_check, position=170, chunked=False)
        register_step("write_off_proposals", write_off_proposals, position=180, chunked=False)
        # After every step that moves a bucket: the roll rates the KPI page and dashboard read.
        register_step("roll_counts", roll_counts_store, position=190, chunked=False)
        # Every repayment, reversal and write-off keeps the loan's open case current.
        register_money_moved(case_money_moved, many=cases_money_moved)
        # A reversed payment a settled agreement counted takes its discount out with it; the
        # agreement is then settled again or broken (services.concessions).
        register_reversal_companions(settlement_companions)
        register_money_moved(settlement_money_moved, many=settlements_after_payments)
        # Its spreadsheet import kind (imports.registry; docs/imports.md).
        register_kind(AGENCY_RESULTS)
        register_kind(AGENCY_HAND_OUT)
