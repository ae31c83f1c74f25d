"""The API benchmark still runs end to end on a tiny book (PostgreSQL): gunicorn serves the
API, two clients post repayments with idempotency keys, replayed keys post nothing twice, and
the book reconciles afterwards. No figure is asserted (DESIGN §12: benchmarks print, tests do
not time)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.xdist_group("bench")
@pytest.mark.django_db
def test_the_api_benchmark_runs_replays_post_nothing_twice_and_the_book_reconciles(postgres):
    params = connection.settings_dict
    url = (
        f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
        "/lending_bench_api_smoke"
    )
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": url}
    command = [sys.executable, "-m", "bench.api", "--loans", "50", "--clients", "2"]
    command += ["--pings", "25", "--replays", "5", "--workers", "2"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["errors"] == 0, result.stdout[-3000:]
    assert figures["repayments"] == 50
    # Every client posted five of its keys again: each answer was the first one, and the
    # book holds one repayment per key.
    assert figures["replays"] == 10
    assert figures["replay_errors"] == 0
    assert figures["posted_twice"] == 0
    assert figures["reconcile_clean"] is True
    assert "reconcile: 56 loans, 0 difference(s)" in result.stdout
