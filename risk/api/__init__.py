"""The REST API's risk endpoints (docs/api.md): applications, credit limits, policies."""
