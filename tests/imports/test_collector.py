"""An import pauses Python's automatic garbage collection (it walked a large file's rows over
and over) and collects what it made itself as it goes: garbage is still freed during the
import, and the collector is back as it was afterwards, whatever happened."""

import gc
import weakref

import pytest

from imports import engine, services
from imports.reading import FileRefused
from imports.registry import get_kind
from lending.models import Transaction, TransactionKind
from tests.imports.helpers import fates, run
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

REPAY = ["贷款编号", "还款金额", "还款日期", "渠道", "流水号"]


@pytest.fixture
def cashier(finance_user):
    return finance_user


def repayments(loan):
    return Transaction.objects.filter(loan=loan, kind=TransactionKind.REPAYMENT)


class Node:
    pass


def a_garbage_cycle() -> weakref.ref:
    node = Node()
    node.me = node  # only the cyclic collector frees it
    return weakref.ref(node)


def test_garbage_cycles_are_freed_while_the_import_runs():
    with engine._collecting_new_objects_only() as collect:
        assert not gc.isenabled()
        cycle = a_garbage_cycle()
        assert cycle() is not None  # automatic collection is paused
        collect()
        assert cycle() is None
    assert gc.isenabled()


def test_the_collector_is_back_after_an_import_and_after_a_refused_file(cashier, monkeypatch):
    monkeypatch.setattr(engine, "COLLECT_EVERY", 2)  # collect during this small file too
    paused_during = []
    real_collect = gc.collect
    monkeypatch.setattr(
        gc, "collect", lambda *a: paused_during.append(not gc.isenabled()) or real_collect(*a)
    )
    loans = [active_loan() for _ in range(3)]
    data = [REPAY] + [
        [loan.reference, "100.00", "2026-02-15", "bank", f"GC-{n}"] for n, loan in enumerate(loans)
    ]
    _record, result = run("repayments", data, cashier)
    assert fates(result) == [(2, "new"), (3, "new"), (4, "new")]
    assert all(repayments(loan).count() == 1 for loan in loans)
    assert paused_during and all(paused_during)
    assert gc.isenabled()
    with pytest.raises(FileRefused):
        engine.run_import(kind=get_kind("repayments"), data=b"\x00\xff junk", acting_user=cashier)
    assert gc.isenabled()


def test_a_collector_someone_else_paused_stays_paused(cashier):
    loan = active_loan()
    gc.disable()
    try:
        run("repayments", [REPAY, [loan.reference, "100.00", "2026-02-15", "bank", "GC"]], cashier)
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert repayments(loan).count() == 1


def test_progress_counts_rows_answered_not_rows_waiting_for_their_batch(cashier, monkeypatch):
    """A batched kind answers its rows a batch at a time: the progress shown never runs ahead
    of the repayments actually posted, and ends at the file's size."""
    monkeypatch.setattr(engine._Batch, "SIZE", 2)
    loans = [active_loan() for _ in range(5)]
    data = [REPAY] + [
        [loan.reference, "100.00", "2026-02-15", "bank", f"P-{n}"] for n, loan in enumerate(loans)
    ]
    seen = []

    def progress(done, total):
        posted = Transaction.objects.filter(idempotency_key__startswith="P-").count()
        seen.append((done, total, posted))

    _record, result = run("repayments", data, cashier, progress=progress)
    assert fates(result) == [(n, "new") for n in range(2, 7)]
    assert [done for done, _total, _posted in seen] == sorted(done for done, *_ in seen)
    assert all(done <= posted for done, _total, posted in seen)
    assert seen[-1][:2] == (5, 5)


def test_the_progress_is_written_once_per_count_and_every_so_many_rows(postgres, db):
    """A batch's waiting rows report the same count again and again: it is written once (each
    write of the import's record leaves a row version its open transaction keeps alive)."""
    tracker = services._ProgressWriter(record_id=0)
    writes = []
    with tracker.side.execute_wrapper(
        lambda execute, sql, *a: writes.append(sql) or execute(sql, *a)
    ):
        for done in [0] * 3 + [499, 500, 500, 500, 750, 999, 1000, 1000, 1203, 1203]:
            tracker(done, 1203)
    tracker.close()
    assert len(writes) == 3  # 500, 1000 and the last row
