"""The staff's day-to-day tool. Every change goes through a service; errors come back as
messages naming the field (DESIGN §9)."""

from lending.admin import (  # noqa: F401 - importing registers the admins
    accounts,
    audit,
    borrowers,
    close_of_business,
    loans,
    logins,
    products,
)
