from debt_collection.admin import cases, policies, records  # noqa: F401  (registers them)
