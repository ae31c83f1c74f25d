"""Real-browser tests: Debian's chromium (Playwright's own download does not work here) driven by
pytest-playwright against pytest-django's live server, at 1440 px.

Two departures from pytest-playwright's defaults, both about the rest of the suite sharing the
xdist worker:

* Playwright's sync API keeps an asyncio loop running on the test thread while it is started, and
  Django refuses ORM calls from a thread with a running loop. So Playwright lives for this
  package only (package-scoped fixtures overriding the plugin's session-scoped ones), the ORM is
  allowed meanwhile (DJANGO_ALLOW_ASYNC_UNSAFE: the live server answers in its own thread, the
  test thread only builds data between page loads), and both end with the package.
* The live server needs committed data, so these tests are transactional: the database is
  flushed after each one, taking the rows migrations seed (roles, the credit policy, buckets,
  queues, compliance policies) with it. `seeded` puts them back before each test.
"""

import os
from pathlib import Path

import pytest

from lending.access import SYSTEM
from tests.conftest import require_service, restore_seed_rows

# Debian's package; CHROMIUM names another build of the same browser.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WIDTH, HEIGHT = 1440, 900
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # --headed and --slowmo from pytest-playwright's command line still apply.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": LAUNCH_ARGS}


@pytest.fixture(scope="package")
def playwright():
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="package")
def browser_type(playwright):
    return playwright.chromium


@pytest.fixture(scope="package")
def launch_browser(browser_type_launch_args, browser_type):
    def launch(**kwargs):
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser):
    # A skip here skips every browser test; under REQUIRE_SERVICES=1 each one fails instead.
    require_service(Path(CHROMIUM).exists(), f"needs chromium at {CHROMIUM} (apt install chromium)")
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser_context_args(live_server):
    return {
        "base_url": live_server.url,
        "viewport": {"width": WIDTH, "height": HEIGHT},
        "locale": "en-US",
        "timezone_id": "Asia/Shanghai",
    }


@pytest.fixture
def seeded(live_server, transactional_db):
    """The migration-seeded rows, back after an earlier transactional test's flush."""
    from risk.models import CreditPolicy, PolicyStatus
    from risk.policy import DEFAULT_POLICY
    from risk.services.policies import policy_activate, policy_create

    restore_seed_rows()
    if not CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE).exists():
        draft = policy_create(name="Default policy", definition=DEFAULT_POLICY, acting_user=SYSTEM)
        policy_activate(policy_id=draft.pk, acting_user=SYSTEM)


@pytest.fixture
def staff(seeded, role_user):
    """`staff(roles.FINANCE, "cashier")`: a user holding the role, and their password."""

    def make(role, username):
        user = role_user(role, username=username)
        user.browser_password = f"pw-{role.replace(' ', '-')}-1"
        return user

    return make


@pytest.fixture
def login(new_context):
    """`login(user, lang="en")`: a fresh browser (own cookies) logged in as `user`, at /admin/."""

    def open_as(user, *, lang="en"):
        context = new_context(extra_http_headers={"Accept-Language": lang})
        context.set_default_timeout(10_000)  # a page that loads does so within a second or two
        page = context.new_page()
        page.goto("/admin/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", user.browser_password)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        return page

    return open_as


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    # Django's default hasher costs about a second a login on a busy two-core machine; the login
    # page and the session are the same with a quick one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
