from debt_collection.admin import (  # noqa: F401  (registers them)
    cases,
    grouping,
    kpis,
    policies,
    records,
    reminders,
)
