"""Moments (`timestamptz`) read from PostgreSQL by psycopg's C loader.

Django registers a loader of its own for `timestamptz` on each connection: psycopg's Python
loader, whose answer it gives Django's time zone for the connection. With USE_TZ that zone is
UTC, the session's too, and psycopg's C loader already answers a UTC session with
`datetime.timezone.utc`: the same value, built in a ninth of the time (a batch of payments
read its loans' and cases' stamps at some 9 µs each). This loader hands the work to the C
one and keeps what Django asks of a loader (its `timezone`, checked whenever a cursor is
made). A connection whose zones are anything else keeps Django's.
"""

from datetime import UTC

import psycopg
from psycopg.pq import Format

MOMENT_OID = psycopg.adapters.types["timestamptz"].oid


class UTCMomentLoader:
    format = Format.TEXT
    timezone = UTC  # Django re-registers its own when this differs from its zone

    def __init__(self, oid: int, context=None):
        native = psycopg.adapters.get_loader(oid, Format.TEXT)  # psycopg's, C when built
        self.load = native(oid, context).load


def use_native_moment_loader(sender, connection, **kwargs) -> None:
    """connection_created: on a PostgreSQL connection whose Django zone and session zone are
    both UTC, moments are read by psycopg's C loader (see the module's docstring)."""
    if connection.vendor != "postgresql" or connection.timezone != UTC:
        return
    if connection.connection.info.parameter_status("TimeZone") != "UTC":
        return
    connection.connection.adapters.register_loader(MOMENT_OID, UTCMomentLoader)
