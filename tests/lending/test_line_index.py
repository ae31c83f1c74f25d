"""A transaction's lines are found through the unique (transaction, installment) index, which
replaced the line's own index on transaction_id (migration 0020): a lookup by transaction still
goes through an index, and the table carries one index fewer."""

import pytest
from django.db import connection

from lending.models import TransactionLine

pytestmark = pytest.mark.django_db


def test_lines_of_a_transaction_are_found_through_the_unique_index(postgres):
    query = TransactionLine.objects.filter(transaction_id=1).values("id")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test book is tiny
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row for (row,) in cursor.fetchall())
    assert "transaction_line_unique" in plan, plan


def test_no_second_index_leads_with_transaction_id(postgres):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [TransactionLine._meta.db_table],
        )
        leading = [
            name for name, definition in cursor.fetchall() if "(transaction_id" in definition
        ]
    assert leading == ["transaction_line_unique"]
