import pytest

from lending import roles


@pytest.fixture
def collector(role_user):
    return role_user(roles.COLLECTOR, username="collector")


@pytest.fixture
def collector2(role_user):
    return role_user(roles.COLLECTOR, username="collector2")


@pytest.fixture
def manager(role_user):
    return role_user(roles.COLLECTIONS_MANAGER, username="manager")
