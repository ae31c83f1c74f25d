"""What an operator sees when starting the back office: production refuses to start without
sound PII keys (one line naming the variable and how to make one), HSTS is a year unless told
otherwise, and local work (DEBUG on) gets its own keys in a private file made once.

Each case imports the settings in a fresh interpreter with a controlled environment, as a
deployment would start."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "PII_ENCRYPTION_KEYS": settings.PII_ENCRYPTION_KEYS,
    "PII_HASH_KEY": settings.PII_HASH_KEY,
    "SALT_KEY": settings.SALT_KEY,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "SECURE_HSTS_PRELOAD": settings.SECURE_HSTS_PRELOAD,
    "AXES_FAILURE_LIMIT": settings.AXES_FAILURE_LIMIT,
    "AXES_COOLOFF_SECONDS": settings.AXES_COOLOFF_TIME.total_seconds(),
    "AXES_LOCKOUT_PARAMETERS": settings.AXES_LOCKOUT_PARAMETERS,
}))
"""
CONTROLLED = ("DEBUG", "SECRET_KEY", "LOCAL_KEYS_FILE", "SECURE_", "PII_", "AXES_")
HASH_KEY = "h" * 40


def fernet_key() -> str:
    return Fernet.generate_key().decode()


def load_settings(**env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONTROLLED)}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(ROOT), **env_vars)
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production(**env_vars: str) -> subprocess.CompletedProcess:
    return load_settings(SECRET_KEY="a-production-secret-" + "x" * 40, **env_vars)


def refusal(result: subprocess.CompletedProcess) -> str:
    """The one line an operator reads: the message of the ImproperlyConfigured it died on."""
    assert result.returncode != 0, result.stdout
    last = result.stderr.strip().splitlines()[-1]
    prefix = "django.core.exceptions.ImproperlyConfigured: "
    assert last.startswith(prefix), result.stderr
    return last.removeprefix(prefix)


def loaded(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_without_encryption_keys_refuses_to_start_and_says_how_to_make_one():
    message = refusal(production(PII_HASH_KEY=HASH_KEY))
    assert message.startswith("PII_ENCRYPTION_KEYS must be set")
    assert "Fernet.generate_key()" in message


def test_a_malformed_encryption_key_is_named_by_position_without_printing_it():
    message = refusal(
        production(PII_ENCRYPTION_KEYS=f"{fernet_key()},not-a-fernet-key", PII_HASH_KEY=HASH_KEY)
    )
    assert message.startswith("PII_ENCRYPTION_KEYS entry 2 is not a Fernet key")
    assert "Fernet.generate_key()" in message
    assert "not-a-fernet-key" not in message


@pytest.mark.parametrize(
    ("hash_key", "expected"),
    [
        ("", "PII_HASH_KEY must be set"),
        ("too-short", "PII_HASH_KEY is 9 characters, it needs at least 32"),
    ],
)
def test_production_without_a_sound_hash_key_refuses_to_start(hash_key, expected):
    message = refusal(production(PII_ENCRYPTION_KEYS=fernet_key(), PII_HASH_KEY=hash_key))
    assert message.startswith(expected)
    assert "secrets.token_urlsafe" in message


def test_production_with_keys_starts_with_a_year_of_hsts_and_no_preload():
    first, old = fernet_key(), fernet_key()
    config = loaded(production(PII_ENCRYPTION_KEYS=f"{first}, {old}", PII_HASH_KEY=HASH_KEY))
    assert config["PII_ENCRYPTION_KEYS"] == [first, old]  # the first encrypts: order kept
    assert config["PII_HASH_KEY"] == HASH_KEY
    assert config["SECURE_HSTS_SECONDS"] == 31_536_000
    assert config["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert config["SECURE_HSTS_PRELOAD"] is False
    assert config["AXES_FAILURE_LIMIT"] == 5
    assert config["AXES_COOLOFF_SECONDS"] == 15 * 60
    assert config["AXES_LOCKOUT_PARAMETERS"] == ["username"]


def test_hsts_preload_and_lockout_follow_the_environment():
    config = loaded(
        production(
            PII_ENCRYPTION_KEYS=fernet_key(),
            PII_HASH_KEY=HASH_KEY,
            SECURE_HSTS_PRELOAD="1",
            SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
            SECURE_HSTS_SECONDS="63072000",
            AXES_FAILURE_LIMIT="3",
            AXES_COOLOFF_MINUTES="60",
        )
    )
    assert config["SECURE_HSTS_PRELOAD"] is True
    assert config["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert config["SECURE_HSTS_SECONDS"] == 63_072_000
    assert config["AXES_FAILURE_LIMIT"] == 3
    assert config["AXES_COOLOFF_SECONDS"] == 3600


def test_preload_with_less_than_a_year_of_hsts_refuses_to_start():
    message = refusal(
        production(
            PII_ENCRYPTION_KEYS=fernet_key(),
            PII_HASH_KEY=HASH_KEY,
            SECURE_HSTS_PRELOAD="1",
            SECURE_HSTS_SECONDS="3600",
        )
    )
    assert "SECURE_HSTS_PRELOAD" in message
    assert "SECURE_HSTS_SECONDS" in message
    assert "31536000" in message


def test_local_work_makes_its_own_private_keys_once(tmp_path):
    key_file = tmp_path / "var" / "local_keys.json"
    first = loaded(load_settings(DEBUG="1", LOCAL_KEYS_FILE=str(key_file)))

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["local_keys.json"]  # no temp left
    (encryption_key,) = first["PII_ENCRYPTION_KEYS"]
    token = Fernet(encryption_key).encrypt(b"110101199003074578")
    assert len(first["PII_HASH_KEY"]) >= 32
    assert first["SALT_KEY"] == "lending-pii"

    second = loaded(load_settings(DEBUG="1", LOCAL_KEYS_FILE=str(key_file)))
    assert second["PII_ENCRYPTION_KEYS"] == first["PII_ENCRYPTION_KEYS"]
    assert second["PII_HASH_KEY"] == first["PII_HASH_KEY"]
    # What was encrypted yesterday still reads today.
    assert Fernet(second["PII_ENCRYPTION_KEYS"][0]).decrypt(token) == b"110101199003074578"


def test_local_work_uses_keys_from_the_environment_when_given(tmp_path):
    key_file = tmp_path / "local_keys.json"
    key = fernet_key()
    config = loaded(
        load_settings(
            DEBUG="1", LOCAL_KEYS_FILE=str(key_file), PII_ENCRYPTION_KEYS=key, PII_HASH_KEY=HASH_KEY
        )
    )
    assert config["PII_ENCRYPTION_KEYS"] == [key]
    assert config["PII_HASH_KEY"] == HASH_KEY
    assert not key_file.exists()
