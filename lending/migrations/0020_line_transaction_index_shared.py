"""A transaction line's own index on transaction_id is dropped: the unique (transaction,
installment) index leads with the same column and serves every lookup by transaction, and each
posting's lines paid for both. Only the index goes: Django's own AlterField would drop and
re-add the foreign key, re-checking every line of the book under lock."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "lending_transactionline_transaction_id_99aa84e8"


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0019_list_filter_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="transactionline",
                    name="transaction",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="lending.transaction",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=(
                        f'CREATE INDEX "{INDEX}" ON "lending_transactionline" ("transaction_id")'
                    ),
                ),
            ],
        ),
    ]
