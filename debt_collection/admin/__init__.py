from debt_collection.admin import (  # noqa: F401  (registers them)
    cases,
    concessions,
    grouping,
    kpis,
    policies,
    records,
    reminders,
)
