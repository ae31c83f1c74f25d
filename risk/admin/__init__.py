"""Risk staff's admin. Changes go through risk.services; each page lives in its own module."""

from risk.admin import applications, limits, policies, proposals  # noqa: F401  (registers the pages)
