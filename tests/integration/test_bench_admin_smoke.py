"""The admin benchmark still runs on a tiny book (PostgreSQL): the administrator, who sees every
list, and a collector, whose lists are narrowed to their own cases, open every page the index
offers them — list, filter, search, change page — and none of them fails. No figure is
asserted (DESIGN §12: benchmarks print, tests do not time)."""

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
def test_the_admin_benchmark_opens_every_page_of_each_role_without_an_error(postgres):
    params = connection.settings_dict
    url = (
        f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
        "/lending_bench_admin_smoke"
    )
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": url}
    command = [sys.executable, "-m", "bench.admin", "--loans", "300", "--repeat", "1"]
    command += ["--roles", "collector", "administrator"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    lines = result.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["errors"] == 0, "\n".join(line for line in lines if "ERROR" in line)
    assert figures["loans"] == 300
    assert set(figures) >= {
        "pages",
        "p50_ms",
        "p95_ms",
        "max_ms",
        "slowest_page",
        "pages_over_1s",
        "max_queries",
        "max_queries_page",
        "query_count_grows_with_page",
        "whole_table_counts",
    }
    assert isinstance(figures["p95_ms"], float)
    assert isinstance(figures["max_queries"], int)
    # Each role's main lists were opened: a list, a filter, a search and a change page of loans
    # for the administrator; the collector's own cases.
    for page in (
        "administrator | lending.loan | list",
        "administrator | lending.loan | filter",
        "administrator | lending.loan | search",
        "administrator | lending.loan | detail",
        "administrator | risk.loanapplication | list",
        "administrator | risk.creditlimit | detail",
        "collector | collections.case | list",
        "collector | collections.case | detail",
    ):
        assert any(f" {page} " in line for line in lines), page
