"""The import benchmark still runs on a tiny book (PostgreSQL): the CSV and XLSX imports post
every row through repayment_post and write the same, django-import-export's plain
configuration writes the same as the project on its rows, the same file again posts nothing,
and `reconcile` finds the book clean after each; a paired run (--against) imports the file
by both checkouts. No figure is asserted (DESIGN §12:
benchmarks print, tests do not time)."""

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
def test_the_import_benchmark_posts_every_row_once_and_the_book_reconciles(postgres):
    params = connection.settings_dict
    url = (
        f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
        "/lending_bench_imports_smoke"
    )
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": url}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.imports",
            "--rows",
            "200",
            "--plain-rows",
            "50",
            "--rerun",
            "--against",  # this very checkout as "the other": the pairing itself is tested
            str(ROOT),
            "--rounds",
            "1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "MISMATCH" not in output, output[-3000:]
    assert "csv and xlsx wrote the same (200 repayments" in output
    assert "csv (sample) and plain wrote the same (50 repayments" in output
    assert "csv and csv again wrote the same (200 repayments" in output
    assert "reconcile: 200 loans, 0 differences" in output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["rows"] == 200
    assert figures["reconcile_clean"] is True
    assert [len(figures["paired"][side]) for side in ("this", "other")] == [1, 1]
    assert all(rate > 0 for side in ("this", "other") for rate, _cpu in figures["paired"][side])
    assert set(figures) >= {
        "csv_rows_per_s",
        "xlsx_rows_per_s",
        "plain_rows_per_s",
        "speedup_vs_plain",
        "peak_rss_mb",
    }
