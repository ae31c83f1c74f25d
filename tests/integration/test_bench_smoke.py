"""The nightly benchmark still runs and its three nights still agree (a small book, PostgreSQL):
the project, the hand-written floor and the per-loan loop must write the same to the cent, so a
schema change the bench's synthetic book or floor missed fails here, not in the next benchmark.
No figure is asserted (DESIGN §12: benchmarks print, tests do not time)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_nightly_benchmark_runs_and_its_three_nights_agree(postgres):
    params = connection.settings_dict
    url = (
        f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
        "/lending_bench_smoke"
    )
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-m", "bench.nightly", "--loans", "3000", "--naive-sample", "300"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "MISMATCH" not in output, output[-3000:]
    assert "project and floor wrote the same" in output
    assert "project (sample) and naive wrote the same" in output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["loans"] == 3000
    assert figures["overdue_loans"] > 0
