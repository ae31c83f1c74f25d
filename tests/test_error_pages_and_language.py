"""People meet errors inside the admin's frame (its header, their menu, a way back) and switch
the language from any page; the API keeps its problem details."""

import pytest
from django.test import override_settings
from django.urls import reverse

from lending import roles

pytestmark = pytest.mark.django_db


def test_a_page_a_role_may_not_open_is_a_403_inside_the_frame(client, role_user):
    client.force_login(role_user(roles.COLLECTOR))
    response = client.get(reverse("admin:lending_loanproduct_add"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Lending back office" in html  # the site's header, not a bare "403 Forbidden"
    assert "Your role does not allow this page or action" in html
    assert f'href="{reverse("admin:index")}"' in html
    assert 'id="nav-sidebar"' in html  # the user's own menu, to go on from here


def test_an_unknown_address_is_a_404_inside_the_frame_in_the_readers_language(client, role_user):
    client.force_login(role_user(roles.FINANCE))
    response = client.get("/admin/no/such/page/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    # The admin's catch-all answers unknown admin paths; any other path is the project's 404.
    other = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert other.status_code == 404
    html = other.content.decode()
    assert "信贷运营后台" in html and "Not found" not in html
    assert response.status_code == 404
    assert "信贷运营后台" in response.content.decode()


def test_the_api_keeps_problem_details_for_a_missing_path(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


@override_settings(DEBUG=False)
def test_a_server_error_page_shows_no_detail_and_needs_no_database(rf):
    from config.error_pages import server_error

    response = server_error(rf.get("/admin/lending/loan/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and "Traceback" not in html


def test_the_language_switch_is_on_every_admin_page_and_sticks(client, role_user):
    client.force_login(role_user(roles.FINANCE))
    page = client.get(reverse("admin:index"))
    assert 'id="language-switch"' in page.content.decode()
    switched = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("admin:index")}
    )
    assert switched.status_code == 302 and switched["Location"] == reverse("admin:index")
    assert "信贷运营后台" in client.get(reverse("admin:index")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    assert "Lending back office" in client.get(reverse("admin:index")).content.decode()


def test_the_login_page_has_the_switch_too(client):
    html = client.get(reverse("admin:login")).content.decode()
    assert 'id="language-switch"' in html and 'value="zh-hans"' in html


@override_settings(ALLOWED_HOSTS=["testserver"])
def test_a_bad_host_on_the_api_is_a_problem_not_an_html_page(client):
    response = client.get("/api/v1/products/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "parse_error"
