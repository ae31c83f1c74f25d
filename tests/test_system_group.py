"""The admin index groups the technical sections under "System", after the business apps; each
role sees in it only what it could see before, and every page keeps its address."""

import pytest
from django.contrib import admin
from django.urls import reverse

from config.admin_site import SYSTEM_APPS, SystemSectionMixin
from lending import roles

pytestmark = pytest.mark.django_db


def sections(page):
    return {
        app["name"]: [m["object_name"] for m in app["models"]] for app in page.context["app_list"]
    }


def test_admin_site_keeps_its_identity_and_registrations():
    from django.contrib.admin import sites

    assert isinstance(admin.site, SystemSectionMixin) and admin.site is sites.site
    assert any(m._meta.label == "lending.Loan" for m in admin.site._registry)


def test_the_administrator_finds_the_technical_sections_under_system(client, role_user):
    client.force_login(role_user(roles.ADMINISTRATOR))
    page = client.get(reverse("admin:index"))
    found = sections(page)
    names = list(found)
    assert names[-1] == "System"
    assert {"User", "Group", "TokenProxy", "PeriodicTask", "AccessAttempt"} <= set(found["System"])
    assert "Lending" in names and "Authentication and Authorization" not in names
    assert "Periodic Tasks" not in names and "Axes" not in names
    assert all(app["app_label"] not in SYSTEM_APPS for app in page.context["app_list"])
    # Its own page lists it; the models keep their addresses.
    system = client.get(reverse("admin:system_index"))
    assert system.status_code == 200 and list(sections(system)) == ["System"]
    assert reverse("admin:django_celery_beat_periodictask_changelist") in system.content.decode()


def test_the_auditor_sees_in_system_only_the_access_review(client, role_user):
    client.force_login(role_user(roles.AUDITOR))
    found = sections(client.get(reverse("admin:index")))
    access_review = {"User", "Group", "AccessAttempt", "AccessLog", "AccessFailureLog"}
    assert access_review <= set(found["System"])
    assert "TokenProxy" not in found["System"] and "PeriodicTask" not in found["System"]


@pytest.mark.parametrize("role", [roles.CREDIT_OFFICER, roles.COLLECTOR, roles.FINANCE])
def test_business_roles_get_no_system_section(client, role_user, role):
    client.force_login(role_user(role))
    found = sections(client.get(reverse("admin:index")))
    assert "System" not in found and found  # their apps are still there
    assert client.get(reverse("admin:system_index")).context["app_list"] == []


@pytest.mark.parametrize("role", [roles.COLLECTIONS_MANAGER, roles.ADMINISTRATOR])
def test_the_dashboard_and_the_sections_share_the_home_page(client, role_user, role):
    # Those who run the book find the portfolio dashboard first, at the page's width, then
    # their sections; an administrator's technical ones under System, last.
    client.force_login(role_user(role))
    page = client.get(reverse("admin:index"))
    html = page.content.decode()
    assert 'class="portfolio"' in html and ".dashboard #content { width: auto; }" in html
    assert html.index('class="portfolio"') < html.index('id="content-main"')
    names = list(sections(page))
    assert ("System" in names) == (role == roles.ADMINISTRATOR)
    assert names[-1] == "System" if role == roles.ADMINISTRATOR else "Lending" in names


def test_others_keep_the_plain_index(client, role_user):
    client.force_login(role_user(roles.CREDIT_OFFICER))
    html = client.get(reverse("admin:index")).content.decode()
    assert 'class="portfolio"' not in html and "width: auto" not in html
