"""The curl examples of docs/api.md run as written, with the real curl, and answer the status
written under each (`# → 201`).

Each ```sh block runs in bash with the variables the docs name (API, TOKEN, LOAN, CASE, ...)
set to a book built here. The API is served on a local port from this very thread — curl runs
as a subprocess while the test serves its requests one by one with Django's WSGI handler — so
the requests see the test's own (uncommitted) data and the test needs no flushed database."""

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from debt_collection.models import WaiverProposal
from lending import roles
from lending.access import SYSTEM
from lending.services.loans import loan_write_off
from tests.api.collections_world import make_world
from tests.collections.helpers import START
from tests.factories import BorrowerFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
EXPECTED = re.compile(r"^# → (\d{3})\b", re.MULTILINE)
# Every curl answers its status on a line of its own (the body goes to a file); "curl" inside
# the examples is this function, so the examples stay as a reader types them.
PRELUDE = """
set -u
n=0
curl() {
  n=$((n + 1))
  command curl --silent --show-error --max-time 60 -o "$OUT/body-$n" \\
       -w '%{http_code}\\n' "$@" >> "$OUT/statuses"
}
"""


def sh_blocks(text: str) -> list[str]:
    return [b for b in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M) if "curl" in b]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def test_the_docs_have_runnable_examples_with_their_status():
    blocks = sh_blocks(DOCS.read_text())
    assert len(blocks) >= 8
    for block in blocks:
        calls = len(re.findall(r"^curl ", block, re.M))
        assert calls == len(EXPECTED.findall(block)), block
        assert "…" not in block and "LN000000" not in block, block  # placeholders, not variables


@pytest.fixture
def book(client_for, role_user):
    """The rows the examples name, and a token per role."""
    world = make_world(client_for)
    cashier = role_user(roles.FINANCE, username="cashier")
    cashier.set_password("s3cret-Passw0rd")
    cashier.save()
    tokens = {
        "TOKEN": cashier,
        "COLLECTOR_TOKEN": world.collector.user,
        "MANAGER_TOKEN": world.manager.user,
        "OFFICER_TOKEN": world.clients[roles.CREDIT_OFFICER].user,
        "ANALYST_TOKEN": world.clients[roles.RISK_ANALYST].user,
        "CHECKER_TOKEN": role_user(roles.RISK_ANALYST, username="analyst-two"),
    }
    waiver = WaiverProposal.objects.create(
        case=world.other, interest=5, reason="r", proposed_by=world.collector2.user
    )
    written_off = active_loan(start=START)
    loan_write_off(
        loan_id=written_off.pk, reason="t", value_date=date(2026, 10, 1), acting_user=SYSTEM
    )
    return {
        **{name: Token.objects.get_or_create(user=user)[0].key for name, user in tokens.items()},
        "LOAN": active_loan(start=START).reference,
        "CASE": str(world.case.pk),
        "WAIVER": str(waiver.pk),
        "WRITTEN_OFF_LOAN": written_off.reference,
        "BORROWER": str(BorrowerFactory().pk),
    }


@pytest.fixture
def served(settings):
    """A local port answered by Django in this thread (see the module's docstring)."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    server = make_server("127.0.0.1", 0, WSGIHandler(), WSGIServer, QuietHandler)
    server.timeout = 0.05
    # As the test client does: a request must not close the test's connection (and its
    # transaction) when it starts or ends.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield server
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        server.server_close()


def run_block(block: str, server, variables: dict, out: Path) -> list[str]:
    (out / "statuses").write_text("")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OUT": str(out),
        "API": f"http://127.0.0.1:{server.server_port}/api/v1",
        **variables,
    }
    process = subprocess.Popen(
        ["bash", "-c", PRELUDE + block],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    while process.poll() is None:
        server.handle_request()  # one request, or none within the timeout
    stderr = process.stderr.read().decode()
    assert process.returncode == 0, stderr
    return (out / "statuses").read_text().split()


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl command")
def test_every_curl_example_answers_its_documented_status(book, served, tmp_path):
    blocks = sh_blocks(DOCS.read_text())
    for number, block in enumerate(blocks):
        out = tmp_path / f"block-{number}"
        out.mkdir()
        statuses = run_block(block, served, book, out)
        expected = EXPECTED.findall(block)
        bodies = [(out / f"body-{i + 1}").read_text() for i in range(len(statuses))]
        assert statuses == expected, (block, bodies)
