"""The postings a catch-up reads (each day charged on that day's base): an index on a loan's
transactions by value date that leaves out the nightly accruals, so the night's own inserts never
touch it. Built CONCURRENTLY on PostgreSQL, so repayments keep flowing while it builds."""

from django.db import migrations, models

NAME = "txn_loan_value_date_posted"
CREATE = (
    f'CREATE INDEX {{}} IF NOT EXISTS "{NAME}" ON "lending_transaction" ("loan_id", "value_date") '
    "WHERE NOT (\"kind\" = 'penalty_accrual')"
)


def forwards(apps, schema_editor):
    concurrently = ""
    if schema_editor.connection.vendor == "postgresql":
        concurrently = "CONCURRENTLY"
        # A concurrent build that failed leaves an invalid index of this name behind, which
        # IF NOT EXISTS would keep: drop it first, so a re-run builds it.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = %s AND NOT i.indisvalid",
                [NAME],
            )
            if cursor.fetchone():
                schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{NAME}"')
    schema_editor.execute(CREATE.format(concurrently).replace("  ", " "))


def backwards(apps, schema_editor):
    concurrently = "CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f'DROP INDEX {concurrently} IF EXISTS "{NAME}"'.replace("  ", " "))


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction
    dependencies = [("lending", "0011_contract_terms")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AddIndex(
                    model_name="transaction",
                    index=models.Index(
                        condition=~models.Q(kind="penalty_accrual"),
                        fields=["loan", "value_date"],
                        name=NAME,
                    ),
                ),
            ],
        ),
    ]
