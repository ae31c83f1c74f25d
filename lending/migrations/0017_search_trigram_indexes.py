"""Trigram indexes for the admin searches by borrower name and loan reference (PostgreSQL only).

`icontains` compiles to `UPPER("col"::text) LIKE UPPER(%s)`, a leading-wildcard LIKE that no
B-tree serves: without these every search scans lending_loan and lending_borrower. The index
expression must be `UPPER(col)` exactly for the planner to use it. Raw SQL behind a vendor check
rather than Meta.indexes, so SQLite (tests, demo) migrates without pg_trgm.
"""

from django.db import migrations

INDEXES = (
    ("borrower_name_trgm", "lending_borrower", "full_name"),
    ("loan_reference_trgm", "lending_loan", "reference"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (UPPER("{column}") gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    # The extension stays: dropping it could break anything else that came to rely on it.
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0016_export_permissions"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
