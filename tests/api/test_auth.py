"""Token login: a token for the right password; django-axes locks the account after too many
wrong ones, on this door as on the admin's; sessions work for the browsable pages."""

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from lending import roles
from tests.api.conftest import API, assert_problem

pytestmark = pytest.mark.django_db
TOKEN_URL = API + "auth/token/"
PASSWORD = "pw-finance-1"  # role_user's password for the finance role


def login(client, username, password, address="127.0.0.1"):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_the_right_password_gives_a_token_that_authenticates(anon, role_user):
    user = role_user(roles.FINANCE)
    response = login(anon, user.username, PASSWORD)
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=user).key == token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(API + "loans/").status_code == 200


def test_a_wrong_password_is_a_400_problem(anon, role_user):
    user = role_user(roles.FINANCE)
    assert_problem(login(anon, user.username, "wrong"), 400, "invalid_credentials")
    assert not Token.objects.exists()


def test_missing_and_unknown_fields_are_named(anon):
    body = assert_problem(
        anon.post(TOKEN_URL, {"username": "x"}, format="json"), 400, "required", "password"
    )
    assert "password" in body["detail"]
    assert_problem(
        anon.post(TOKEN_URL, {"username": "x", "password": "y", "otp": "1"}, format="json"),
        400,
        "unknown_field",
        "otp",
    )


def test_too_many_wrong_passwords_lock_the_token_login_too(anon, role_user):
    user = role_user(roles.FINANCE)
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        login(anon, user.username, f"wrong-{i}", address=f"203.0.113.{i + 1}")
    last = login(anon, user.username, "wrong-last", address="203.0.113.99")
    assert_problem(last, 429, "locked_out")

    # Even the right password, from another address, is refused while locked.
    locked = login(anon, user.username, PASSWORD, address="198.51.100.7")
    assert_problem(locked, 429, "locked_out")
    assert not Token.objects.filter(user=user).exists()


def test_a_session_opens_the_browsable_pages(client, role_user):
    user = role_user(roles.FINANCE)
    client.force_login(user)
    page = client.get(API + "loans/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert "text/html" in page["Content-Type"]


def test_a_session_post_needs_the_csrf_token(role_user):
    user = role_user(roles.FINANCE)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(API + "quotes/", {}, format="json")
    assert_problem(response, 403, "permission_denied")
    assert "CSRF" in response.json()["detail"]
