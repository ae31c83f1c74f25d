"""`python -m bench.admin --what-if`: the fixes proposed for the pages that miss issue 13's
targets, applied to the measured copy and to this process only — no admin module and no
migration changes — so their effect is measured on the same book before anyone writes them.

- the big lists page with `lending.admin.paging.BoundedCountPaginator` and without the full
  result count (no whole-table COUNT(*));
- no `date_hierarchy` on the big tables (its DISTINCT DATE_TRUNC scans them);
- the decision and application lists leave the decisions' trace and profile JSON unread;
- the indexes the fixes ask for, created on the copy (trigram indexes for the name and
  reference searches, the recoveries' partial index, the decision and application orderings).
"""

from django.contrib import admin
from django.db import connection

from lending.admin.paging import BoundedCountPaginator

BIG_LISTS = (
    "lending.loan",
    "lending.borrower",
    "lending.auditevent",
    "lending.bucketchange",
    "risk.loanapplication",
    "risk.decision",
    "risk.riskprofile",
    "risk.creditlimit",
    "collections.case",
    "collections.casebyborrower",
    "collections.reminder",
    "collections.contactattempt",
    "collections.caseassignment",
    "collections.promisetopay",
    "collections.recovery",
)
NO_DATE_HIERARCHY = (
    "lending.loan",
    "lending.bucketchange",
    "lending.auditevent",
    "collections.reminder",
)
DEFER = {
    "risk.decision": ("trace", "profile"),
    "risk.loanapplication": ("decision__trace", "decision__profile"),
}
INDEXES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX borrower_name_trgm ON lending_borrower "
    "USING gin (UPPER(full_name::text) gin_trgm_ops)",
    "CREATE INDEX loan_reference_trgm ON lending_loan "
    "USING gin (UPPER(reference::text) gin_trgm_ops)",
    "CREATE INDEX txn_recovery_recent ON lending_transaction (value_date DESC, id DESC) "
    "WHERE kind = 'recovery'",
    "CREATE INDEX decision_recent ON risk_decision (created_at DESC, id DESC)",
    "CREATE INDEX application_recent ON risk_loanapplication (submitted_at DESC, id DESC)",
    "CREATE INDEX application_queue ON risk_loanapplication (status, submitted_at DESC)",
    "ANALYZE lending_borrower, lending_loan, lending_transaction, risk_decision, "
    "risk_loanapplication",
)


def _admins(labels):
    wanted = set(labels)
    for model, model_admin in admin.site._registry.items():
        if f"{model._meta.app_label}.{model._meta.model_name}" in wanted:
            yield f"{model._meta.app_label}.{model._meta.model_name}", model_admin


def _deferring(get_queryset, fields):
    def wrapped(request):
        return get_queryset(request).defer(*fields)

    return wrapped


def apply(say) -> None:
    with connection.cursor() as cur:
        for sql in INDEXES:
            cur.execute(sql)
    say(f"what-if: {len(INDEXES) - 2} indexes created on the copy")
    for _label, model_admin in _admins(BIG_LISTS):
        model_admin.paginator = BoundedCountPaginator
        model_admin.show_full_result_count = False
    for _label, model_admin in _admins(NO_DATE_HIERARCHY):
        model_admin.date_hierarchy = None
    for label, model_admin in _admins(DEFER):
        model_admin.get_queryset = _deferring(model_admin.get_queryset, DEFER[label])
    say(
        f"what-if: bounded counts on {len(BIG_LISTS)} lists, no date hierarchy on "
        f"{len(NO_DATE_HIERARCHY)}, trace deferred on {len(DEFER)}"
    )
