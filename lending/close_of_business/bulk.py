"""Writing many rows' new values in one statement per chunk.

PostgreSQL gets ``UPDATE … FROM (VALUES …)``, one statement for the whole batch; other databases
(SQLite for `make run`) fall back to Django's bulk_update. Values are computed by the caller.
"""

from django.db import connection


def bulk_set(model, rows: list[tuple], fields: list[str], batch_size: int = 5000) -> None:
    """Set `fields` on the rows of `model`: each row is (pk, value for each field)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = []
        for row in rows:
            obj = model(pk=row[0])
            for name, value in zip(fields, row[1:], strict=True):
                setattr(obj, name, value)
            objects.append(obj)
        model.objects.bulk_update(objects, fields, batch_size=1000)
        return
    table = model._meta.db_table
    columns = [model._meta.get_field(name) for name in fields]
    casts = [f"::{column.db_type(connection)}" for column in columns]
    assignments = ", ".join(f'"{column.column}" = v."{column.column}"' for column in columns)
    names = ", ".join(["id", *(f'"{column.column}"' for column in columns)])
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            placeholder = "(%s::bigint, " + ", ".join(f"%s{cast}" for cast in casts) + ")"
            values = ", ".join([placeholder] * len(batch))
            cursor.execute(
                f'UPDATE "{table}" AS t SET {assignments} FROM (VALUES {values}) '
                f"AS v({names}) WHERE t.id = v.id",
                [value for row in batch for value in row],
            )


def bulk_save(objects: list, fields: list[str], batch_size: int = 5000) -> None:
    """bulk_set for model instances that already hold their new values. Django's bulk_update
    builds a CASE WHEN per row and field, which costs more Python than the postings it
    writes (a 500-payment batch of repayments spent most of its time there)."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objects, fields, batch_size=1000)
        return
    columns = [model._meta.get_field(name) for name in fields]
    rows = [
        (obj.pk, *(c.get_db_prep_save(getattr(obj, c.attname), connection) for c in columns))
        for obj in objects
    ]
    bulk_set(model, rows, fields, batch_size)
