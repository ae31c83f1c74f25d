from debt_collection.admin import cases, concessions, policies, records  # noqa: F401  (registers them)
