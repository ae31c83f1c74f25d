"""A missing or bad setting stops every entry point with one line naming it (issue 9), not a
traceback through Django's start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT_A_FERNET_KEY = "not-a-key"


def run(args: list[str], **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        # CELERY_*: Celery serves the broker URL from the environment without loading settings.
        if not k.startswith(("DEBUG", "SECRET_KEY", "PII_", "CELERY_"))
    }
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env})
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY must be set when DEBUG is off."),
        ({"DEBUG": "0", "SECRET_KEY": ""}, "SECRET_KEY must be set when DEBUG is off."),
        ({"SECRET_KEY": "s" * 50}, "PII_ENCRYPTION_KEYS must be set when DEBUG is off"),
        (
            {"SECRET_KEY": "s" * 50, "PII_ENCRYPTION_KEYS": NOT_A_FERNET_KEY},
            "PII_ENCRYPTION_KEYS entry 1 is not a Fernet key",
        ),
    ],
)
@pytest.mark.parametrize("command", ["check", "close_business_day"])
def test_manage_py_says_what_is_missing_in_one_line_and_exits_1(env, message, command):
    result = run(["manage.py", command], **env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {message}")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_manage_py_traceback_still_shows_the_whole_story():
    result = run(["manage.py", "check", "--traceback"])
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_the_wsgi_application_stops_gunicorn_with_one_line():
    result = run(["-c", "import config.wsgi"])
    # 4 is gunicorn's "App failed to load": it stops instead of restarting workers for ever.
    assert result.returncode == 4
    assert result.stderr.strip() == "error: SECRET_KEY must be set when DEBUG is off."


def test_a_celery_worker_stops_with_one_line():
    result = run(["-c", "from config.celery import app; app.conf.timezone"])
    assert result.returncode == 1
    assert result.stderr.strip() == "error: SECRET_KEY must be set when DEBUG is off."


def test_with_its_settings_manage_py_runs():
    result = run(["manage.py", "check"], DEBUG="1", SECRET_KEY="x")
    assert result.returncode == 0, result.stderr
