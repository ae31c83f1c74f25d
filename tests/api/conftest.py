"""API fixtures: clients logged in by token as one role, and a book to work on."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from lending import roles

API = "/api/v1/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """The throttles count in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def client_for(role_user):
    """`client_for(roles.FINANCE)`: an APIClient sending that role's token."""

    def make(role: str, *, username: str | None = None):
        user = role_user(role, username=username)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        client.user = user
        return client

    return make


@pytest.fixture
def finance(client_for):
    return client_for(roles.FINANCE)


@pytest.fixture
def officer(client_for):
    return client_for(roles.CREDIT_OFFICER)


@pytest.fixture
def auditor(client_for):
    return client_for(roles.AUDITOR)


@pytest.fixture
def administrator(client_for):
    return client_for(roles.ADMINISTRATOR)


def assert_problem(response, status: int, code: str, field: str | None = None) -> dict:
    """The response is problem details with this status and code (and names `field`)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "code", "errors"}
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"].endswith(code)
    if field is not None:
        assert field in body["errors"], body
    return body
