import pytest

from lending import roles
from tests.api.conftest import client_for  # noqa: F401 (the API's clients, for the doors)


@pytest.fixture
def collector(role_user):
    return role_user(roles.COLLECTOR, username="collector")


@pytest.fixture
def collector2(role_user):
    return role_user(roles.COLLECTOR, username="collector2")


@pytest.fixture
def manager(role_user):
    return role_user(roles.COLLECTIONS_MANAGER, username="manager")


@pytest.fixture
def clock(monkeypatch):
    """Today, as the services read it (timezone.localdate), set by the test."""
    from django.utils import timezone

    def set_today(day):
        monkeypatch.setattr(timezone, "localdate", lambda *a: day)

    return set_today
