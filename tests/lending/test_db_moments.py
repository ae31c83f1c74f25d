"""Moments read by psycopg's C loader on the app's PostgreSQL connections: the same values,
with the same `datetime.timezone.utc`, as Django's own loader gives."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from lending.db_moments import MOMENT_OID, UTCMomentLoader
from lending.models import AuditEvent

pytestmark = pytest.mark.django_db

EDGES = """
    SELECT m FROM (VALUES
        ('0001-01-01 00:00:00.000001+00'::timestamptz),
        ('1969-07-20 20:17:40.5-05'),
        ('2026-03-08 01:59:59.999999-08'),
        ('2026-12-04 23:30:00+08'),
        ('9999-12-31 23:59:59.999999+00'),
        (NULL)
    ) AS v(m) ORDER BY m NULLS LAST
"""


def _read(register_django_loader: bool) -> list:
    with connection.cursor() as cursor:
        if register_django_loader:  # what Django's connection would read them with
            register_tzloader(connection.timezone, cursor.cursor)
        cursor.execute(EDGES)
        return [moment for (moment,) in cursor.fetchall()]


def test_the_apps_connections_read_moments_with_the_native_loader(postgres):
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(MOMENT_OID, 0)
    assert loader is UTCMomentLoader


def test_moments_read_as_djangos_loader_reads_them(postgres):
    ours, djangos = _read(False), _read(True)
    assert ours == djangos
    assert [m.tzinfo for m in ours[:-1]] == [UTC] * 5
    assert all(m.tzinfo is UTC for m in ours[:-1]) and ours[-1] is None
    assert ours[1] == datetime(1969, 7, 21, 1, 17, 40, 500000, tzinfo=UTC)


def test_a_stamp_written_by_the_orm_reads_back_the_same_instant(postgres):
    event = AuditEvent.objects.create(action="moment.check", object_type="x", object_id="1")
    assert AuditEvent.objects.get(pk=event.pk).occurred_at == event.occurred_at
