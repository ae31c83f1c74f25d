"""A night closed by a real Celery worker on a real Redis broker, against PostgreSQL.

The worker is a separate process on the test database; the test only queues the beat task and
waits for the runs, exactly as production does. Skipped (with the reason) where Redis or
PostgreSQL is absent, and failed instead under REQUIRE_SERVICES=1 (CI).
"""

import os
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from lending.access import SYSTEM
from lending.close_of_business.runner import close_business_days
from lending.models import BusinessDayRun, Transaction, TransactionKind
from lending.services.reconcile import reconcile_loans
from lending.tasks import close_business_days_task
from tests.conftest import celery_configured, require_service
from tests.lending.loan_helpers import active_loan

# Every test here flushes one Redis database: under xdist they share one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("redis")

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parents[2]


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def worker(transactional_db):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    require_service(redis_reachable(), "needs Redis on 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "CLOSE_OF_BUSINESS_CHUNK_SIZE": "1",  # three loans → a chord of three chunks
    }
    configured = celery_configured(broker_url=REDIS_URL, result_backend=REDIS_URL)
    configured.__enter__()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency=2",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    configured.__exit__(None, None, None)


def wait_for(predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def test_worker_catches_up_the_missed_nights_exactly_once(worker):
    loans = [active_loan(start=date(2026, 9, 15)) for _ in range(3)]  # 766.80 due 2026-10-15
    # The last night that ran, closed by hand with the same chunking as the worker.
    close_business_days(until=date(2026, 10, 16), acting_user=SYSTEM, chunk_size=1)

    close_business_days_task.delay("2026-10-20")  # what beat sends; four nights were missed
    done = wait_for(
        lambda: BusinessDayRun.objects.filter(business_date="2026-10-20", status="done").exists()
    )
    if not done:
        worker.terminate()
        pytest.fail("the worker did not close 2026-10-20:\n" + worker.communicate()[0].decode())

    runs = BusinessDayRun.objects.order_by("business_date")
    assert [(r.business_date, r.status, r.chunks_total) for r in runs] == [
        (date(2026, 10, 16) + timedelta(days=n), "done", 3) for n in range(5)
    ]
    accruals = Transaction.objects.filter(kind=TransactionKind.PENALTY_ACCRUAL)
    for loan in loans:
        loan.refresh_from_db()
        assert loan.dpd == 5 and loan.bucket == "M1"
        days = sorted(accruals.filter(loan=loan).values_list("value_date", flat=True))
        assert days == [date(2026, 10, 16) + timedelta(days=n) for n in range(5)]
        # 766.80 × (0.18 × 1.5) / 360 = 0.5751 a day; five days exact 2.8755 → 2.88 posted
        assert loan.penalty_outstanding == Decimal("2.88")
    assert reconcile_loans(acting_user=SYSTEM).clean
