"""Password guessing on the admin login page (django-axes): after AXES_FAILURE_LIMIT wrong
passwords for one username, even the right password is refused, from whatever address it
comes; other users still log in; an unlocked account logs in again."""

import pytest
from axes.utils import reset
from django.conf import settings

LOGIN_URL = "/admin/login/"
PASSWORD = "pw-officer-1"  # the conftest staff_user's

pytestmark = pytest.mark.django_db


def attempt(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def logged_in_as(client) -> str | None:
    """The user id the session carries, if any: what makes the next page a logged-in one."""
    return client.session.get("_auth_user_id")


def guess_wrong(client, username: str, times: int):
    for i in range(times):
        # A different address each time: spreading the guesses does not escape the lockout.
        response = attempt(client, username, f"wrong-{i}", address=f"203.0.113.{i + 1}")
        assert logged_in_as(client) is None
    return response


def test_right_password_logs_in_below_the_limit_and_clears_the_count(client, staff_user):
    guess_wrong(client, "officer", settings.AXES_FAILURE_LIMIT - 1)

    response = attempt(client, "officer", PASSWORD)
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert logged_in_as(client) == str(staff_user.pk)

    # A success starts the count afresh: as many mistakes again still do not lock.
    client.logout()
    guess_wrong(client, "officer", settings.AXES_FAILURE_LIMIT - 1)
    attempt(client, "officer", PASSWORD)
    assert logged_in_as(client) == str(staff_user.pk)


def test_too_many_wrong_passwords_lock_the_account_from_any_address(
    client, staff_user, django_user_model
):
    last = guess_wrong(client, "officer", settings.AXES_FAILURE_LIMIT)
    assert last.status_code == 429

    locked = attempt(client, "officer", PASSWORD, address="198.51.100.7")
    assert locked.status_code == 429
    assert "Account locked: too many login attempts" in locked.content.decode()
    assert logged_in_as(client) is None

    # Another user, from the address the guesses came from, is not affected.
    other = django_user_model.objects.create_user(
        username="officer2", password="pw-officer-2", is_staff=True
    )
    response = attempt(client, "officer2", "pw-officer-2", address="203.0.113.1")
    assert response.status_code == 302
    assert logged_in_as(client) == str(other.pk)


def test_an_unlocked_account_logs_in_again(client, staff_user):
    guess_wrong(client, "officer", settings.AXES_FAILURE_LIMIT)
    assert attempt(client, "officer", PASSWORD).status_code == 429

    assert reset(username="officer") > 0

    response = attempt(client, "officer", PASSWORD)
    assert response.status_code == 302
    assert logged_in_as(client) == str(staff_user.pk)
