"""The REST API's lending endpoints (docs/api.md): adapters that call lending's services and
selectors; the shared pieces (errors, base classes) are in config/api/."""
