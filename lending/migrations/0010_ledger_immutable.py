"""The ledger and the audit trail are append-only in the database itself (DESIGN §5, §10): on
PostgreSQL a trigger refuses UPDATE and DELETE of transactions, their lines and audit events,
whoever issues them. Corrections stay reversals. The one update allowed is the write-once link
a repayment sets on the companions posted with it (`caused_by`, from empty to a transaction).
TRUNCATE (test teardown, a deliberate wipe) is a statement, not a row change, and is not
affected. Other databases (the SQLite demo) keep the rule by convention only."""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION lending_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are immutable: post a reversal instead of % (id %)',
        TG_TABLE_NAME, TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION lending_transaction_refuse_change() RETURNS trigger AS $$
DECLARE
    linked lending_transaction%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.caused_by_id IS NULL AND NEW.caused_by_id IS NOT NULL THEN
        linked := NEW;
        linked.caused_by_id := NULL;
        IF linked IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'rows of % are immutable: post a reversal instead of % (id %)',
        TG_TABLE_NAME, TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = {
    "lending_transaction": "lending_transaction_refuse_change",
    "lending_transactionline": "lending_refuse_change",
    "lending_auditevent": "lending_refuse_change",
}


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTIONS)  # no parameters: RAISE's % placeholders are plpgsql's
    for table, function in TRIGGERS.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS lending_transaction_refuse_change()")
    schema_editor.execute("DROP FUNCTION IF EXISTS lending_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("lending", "0009_pii_encrypted")]
    operations = [migrations.RunPython(install, remove)]
