"""What-if variants of the project's night, applied only inside the benchmark's worker processes.

They answer "how much would this change buy?" with a measurement instead of a guess; none of
them is the project's code, and the headline figures in docs/benchmarks.md never use them.
Combine them with commas: ``--variant unnest-bulk-update,chunk-lock-self``.

- ``unnest-bulk-update``: Django's ``QuerySet.bulk_update`` writes
  ``SET col = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END`` for batches of 1,000 rows, which
  costs Python time to build and resolve one ``When`` per row and field, and PostgreSQL time to
  walk the CASE for every row (quadratic in the batch). The variant replaces it, for every model,
  with one ``UPDATE … FROM unnest(%s::type[], …)`` statement per call: one array per column.
- ``unnest-bulk-set``: the same idea for ``lending.close_of_business.bulk.bulk_set`` (which
  replaced ``bulk_update`` in the steps with ``UPDATE … FROM (VALUES (%s, …), …)`` in batches of
  5,000): one ``UPDATE … FROM unnest(arrays)`` per call, a handful of parameters instead of one
  per value.
- ``chunk-lock-self``: ``business_day_run_chunk`` locks its chunk with
  ``select_for_update().select_related("run")``, which also locks the run's row for the whole
  chunk transaction, so two workers never run two chunks of a date at once. The variant is the
  same function with ``select_for_update(of=("self",))``.
- ``set-based-steps``: ``flag_overdue`` and ``accrue_penalty`` replaced by the floor's own
  statements (bench/floor.py) restricted to the chunk's loan ids (``= ANY(%(ids)s)``), run inside
  the chunk's transaction by the project's runner: what DESIGN §6 describes ("a few SQL
  statements per chunk of loan ids"), to see how close to the floor the runner itself can get.
"""

import time
from decimal import Decimal

from django.db import connections, transaction
from django.db.models.query import QuerySet

VARIANTS = ("unnest-bulk-update", "unnest-bulk-set", "chunk-lock-self", "set-based-steps")


def _unnest_bulk_update(self, objs, fields, batch_size=None):
    objs = list(objs)
    if not objs:
        return 0
    connection = connections[self.db]
    meta = self.model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    arrays = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
        for field in columns
    ]
    quote = connection.ops.quote_name
    names = [quote(field.column) for field in columns]
    sql = "UPDATE {table} AS t SET {sets} FROM unnest({arrays}) AS v({names}) WHERE t.{pk} = v.{pk}"
    sql = sql.format(
        table=quote(meta.db_table),
        sets=", ".join(f"{n} = v.{n}" for n in names[1:]),
        arrays=", ".join(f"%s::{field.db_type(connection)}[]" for field in columns),
        names=", ".join(names),
        pk=names[0],
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount


def _unnest_bulk_set(model, rows: list[tuple], fields: list[str], batch_size=None) -> None:
    if not rows:
        return
    objs = []
    for row in rows:
        obj = model(pk=row[0])
        for name, value in zip(fields, row[1:], strict=True):
            setattr(obj, name, value)
        objs.append(obj)
    _unnest_bulk_update(model.objects.all(), objs, fields)


def _run_chunk_locking_only_the_chunk(*, chunk_id: int):
    """runner.business_day_run_chunk with the chunk's lock limited to the chunk row."""
    from lending.close_of_business import runner

    with transaction.atomic():
        chunk = (
            runner.BusinessDayChunk.objects.select_for_update(of=("self",))
            .select_related("run")
            .get(pk=chunk_id)
        )
        if chunk.status == runner.ChunkStatus.DONE:
            return chunk
        started = time.monotonic()
        counts = {}
        for step in runner.chunked_steps():
            counts[step.name] = runner._jsonable(
                step.func(business_date=chunk.run.business_date, loan_ids=chunk.loan_ids)
            )
        chunk.counts = counts
        chunk.status = runner.ChunkStatus.DONE
        chunk.attempts += 1
        chunk.error = ""
        chunk.seconds = Decimal(f"{time.monotonic() - started:.3f}")
        chunk.save()
    runner.BusinessDayRun.objects.filter(pk=chunk.run_id).update(
        chunks_done=runner.BusinessDayChunk.objects.filter(
            run_id=chunk.run_id, status=runner.ChunkStatus.DONE
        ).count()
    )
    return chunk


def apply(variants: str | None) -> None:
    for variant in filter(None, (variants or "").split(",")):
        if variant == "unnest-bulk-update":
            QuerySet.bulk_update = _unnest_bulk_update
        elif variant == "unnest-bulk-set":
            from lending.close_of_business import lending_steps

            lending_steps.bulk_set = _unnest_bulk_set
        elif variant == "chunk-lock-self":
            from lending.close_of_business import runner

            runner.business_day_run_chunk = _run_chunk_locking_only_the_chunk
        elif variant == "set-based-steps":
            _set_based_steps()
        else:
            raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")


# ----------------------------------------------------------------------------- set-based steps

_ACCRUAL_FROM_FLOOR = (
    """            FROM floor_flag f
            JOIN lending_loan l ON l.id = f.id
            JOIN lending_loanproduct p ON p.id = l.product_id
            WHERE f.new_dpd > 0""",
    """            FROM lending_loan l
            JOIN lending_loanproduct p ON p.id = l.product_id
            WHERE l.id = ANY(%(ids)s) AND l.status = 'active' AND l.dpd > 0""",
)


def _floor_sql(name: str) -> str:
    from bench import floor

    return getattr(floor, name)


def _flag_overdue_sql(*, business_date, loan_ids) -> dict:
    """flag_overdue as the floor's statements, restricted to the chunk's loans."""
    sql = _floor_sql("FLAG_SQL")
    old = "WHERE l.status = 'active' AND (l.next_due_date <= %(d)s OR l.dpd > 0)"
    assert old in sql
    sql = sql.replace(old, "WHERE l.status = 'active' AND l.id = ANY(%(ids)s)")
    sql = sql.replace(
        "SELECT c.id, c.old_bucket,", "SELECT c.id, c.old_dpd, c.newly, c.old_bucket,"
    )
    sql = sql.replace(
        "SELECT l.id, l.bucket AS old_bucket,",
        "SELECT l.id, l.dpd AS old_dpd, coalesce(o.newly, 0) AS newly, l.bucket AS old_bucket,",
    )
    sql = sql.replace(
        "SELECT loan_id, min(due_date) AS oldest,",
        "SELECT loan_id, min(due_date) AS oldest, "
        "count(*) FILTER (WHERE due_date = %(d)s::date - 1) AS newly,",
    )
    sql = sql.replace(
        "WHERE due_date < %(d)s AND settled_on IS NULL",
        "WHERE due_date < %(d)s AND settled_on IS NULL AND loan_id = ANY(%(ids)s)",
    )
    params = {"d": business_date, "ids": list(loan_ids)}
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(_floor_sql("BUCKET_CHANGES_SQL"), params)
        moves = cursor.rowcount
        cursor.execute(_floor_sql("LOAN_FLAG_SQL"), params)
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE new_dpd > 0 AND old_dpd = 0),"
            " count(*) FILTER (WHERE old_dpd > 0 AND new_dpd = 0),"
            " coalesce(sum(newly) FILTER (WHERE new_dpd > 0), 0) FROM floor_flag"
        )
        examined, newly_overdue, cured, installments = cursor.fetchone()
        cursor.execute("DROP TABLE floor_flag")
    return {
        "loans_examined": examined,
        "loans_newly_overdue": newly_overdue,
        "loans_cured": cured,
        "installments_newly_overdue": int(installments),
        "bucket_moves": moves,
    }


def _accrue_penalty_sql(*, business_date, loan_ids) -> dict:
    """accrue_penalty as the floor's statements, restricted to the chunk's overdue loans."""
    sql = _floor_sql("PENALTY_SQL")
    assert _ACCRUAL_FROM_FLOOR[0] in sql
    sql = sql.replace(*_ACCRUAL_FROM_FLOOR)
    params = {"d": business_date, "ids": list(loan_ids)}
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(_floor_sql("ACCRUAL_POSTING_SQL"), params)
        cursor.execute(_floor_sql("INSTALLMENT_SQL"), params)
        cursor.execute(_floor_sql("LOAN_PENALTY_SQL"), params)
        cursor.execute(
            "SELECT count(DISTINCT loan_id) FILTER (WHERE amount > 0), coalesce(sum(amount), 0),"
            " count(DISTINCT loan_id) FILTER (WHERE capped) FROM floor_accrual"
        )
        posted, total, capped = cursor.fetchone()
        cursor.execute("DROP TABLE floor_accrual")
    return {"accruals_posted": posted, "accrual_total": total, "loans_capped": capped}


def _set_based_steps() -> None:
    from lending.close_of_business import registry

    for name, func in (
        ("flag_overdue", _flag_overdue_sql),
        ("accrue_penalty", _accrue_penalty_sql),
    ):
        step = registry._steps[name]
        registry._steps[name] = registry.Step(step.name, step.position, func, step.chunked)
