"""Shared fixtures. Tests that need PostgreSQL skip elsewhere, unless REQUIRE_SERVICES=1
(set by .ci/run) turns every such skip into a failure, so CI can never pass by skipping."""

import contextlib
import os
import threading

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings

from lending import roles

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"

# CI (REQUIRE_SERVICES=1) draws the same property-test examples on every run, so a landing is
# never decided by luck; local runs draw new ones and keep finding what CI has not seen (the
# failing example is printed with its seed, to be pinned as a regression test).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile("ci" if REQUIRE_SERVICES else "dev")


def require_service(available: bool, reason: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _cache_cleared():
    """Every test starts with an empty cache: a rolled-back test's ids are used again by the
    next one (SQLite), so a key built from them could find the previous test's figures."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in Chinese leaves Chinese active in the thread (LocaleMiddleware activates it
    and nothing deactivates it in tests): every test starts from the configured language."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def postgres():
    """Request it before any database fixture: it only looks at the configured backend."""
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def staff_user(db, django_user_model):
    """A staff user holding no role: every deciding service refuses them (DESIGN §10)."""
    return django_user_model.objects.create_user(
        username="officer", password="pw-officer-1", is_staff=True
    )


@pytest.fixture
def role_user(db, django_user_model):
    """A factory of staff users holding one role (a Django group from lending/roles.py, with
    exactly the permissions the migration gives it): `role_user(roles.FINANCE, username=...)`."""

    def make(role: str, *, username: str | None = None, **fields):
        from django.contrib.auth.models import Group

        user = django_user_model.objects.create_user(
            username=username or role.replace(" ", "-"),
            password=f"pw-{role.replace(' ', '-')}-1",
            is_staff=True,
            **fields,
        )
        group = Group.objects.filter(name=role).first()
        if group is None:  # flushed by a transactional test: recreate them as migrate does
            for name in roles.ROLES:
                Group.objects.get_or_create(name=name)
            roles.sync_role_permissions()
            group = Group.objects.get(name=role)
        user.groups.add(group)
        return user

    return make


@pytest.fixture
def finance_user(role_user):
    """Moves money on approved loans: disburses, posts and reverses repayments, refunds credit,
    writes off (and never approves)."""
    return role_user(roles.FINANCE, username="cashier")


@contextlib.contextmanager
def celery_configured(**conf):
    """Point the Celery app at another broker/backend (or eager mode) for one test, dropping
    the connection pool and result backend it cached for the previous settings."""
    from config.celery import app

    def reset():
        app._pool = None
        app._backend_cache = None
        app.amqp._producer_pool = None
        app._local = threading.local()

    # Celery reads CELERY_BROKER_URL / CELERY_RESULT_BACKEND from the environment before its
    # own settings (as .ci/run sets them), so the override must go there as well.
    env_keys = {"broker_url": "CELERY_BROKER_URL", "result_backend": "CELERY_RESULT_BACKEND"}
    previous = {key: app.conf[key] for key in conf}
    previous_env = {env_keys[k]: os.environ.get(env_keys[k]) for k in conf if k in env_keys}
    app.conf.update(**conf)
    for key, name in env_keys.items():
        if key in conf:
            os.environ[name] = conf[key]
    reset()
    try:
        yield app
    finally:
        app.conf.update(**previous)
        for name, value in previous_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset()


# The data migrations whose rows a flush removes, each (module, function); all get_or_create.
SEED_MIGRATIONS = [
    ("lending.migrations.0002_seed_roles", "create_roles"),
    ("lending.migrations.0004_seed_buckets_and_lpr", "seed"),
    ("debt_collection.migrations.0002_default_policies_and_queues", "forwards"),
    ("debt_collection.migrations.0004_default_reminder_templates", "add"),
]


def restore_seed_rows() -> None:
    """The rows the data migrations seed (roles, buckets, LPR, collections defaults), back after
    a transactional test's flush took them — for tests that pytest-django runs after those (the
    browser tests' live server, fixtures that open the database themselves)."""
    import importlib

    from django.apps import apps

    for module, function in SEED_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
    roles.sync_role_permissions()
