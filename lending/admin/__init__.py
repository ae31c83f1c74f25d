"""The staff's day-to-day tool. Every change goes through a service; errors come back as
messages naming the field (DESIGN §9)."""

from lending.admin import audit, borrowers, loans, products  # noqa: F401 - registers admins
