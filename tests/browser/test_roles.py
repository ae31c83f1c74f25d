"""Each role logs in through the login page and finds on its home the sections its day needs,
and not those it may not use (docs/roles.md), the technical ones grouped under System; the first
of them opens."""

import pytest

from config.admin_site import SYSTEM_APPS
from lending import roles

pytestmark = pytest.mark.xdist_group("browser")

# role -> (admin pages the home must link to, the first being the day's main list;
#          pages it must not link to)
HOMES = {
    roles.CREDIT_OFFICER: (
        [
            "risk/loanapplication",
            "lending/borrower",
            "lending/borrower/add",
            "lending/loan",
            "lending/loanproduct",
            "risk/riskprofile",
            "imports/importrecord",
        ],
        ["collections/case", "lending/businessdayrun", "auth/user", "risk/creditpolicy/add"],
    ),
    roles.RISK_ANALYST: (
        [
            "risk/creditpolicy",
            "risk/creditpolicy/add",
            "risk/decision",
            "risk/loanapplication",
            "lending/businessdayrun",
            "risk/limitincreaseproposal/add",
        ],
        ["lending/borrower/add", "collections/case", "imports/importrecord", "auth/user"],
    ),
    roles.COLLECTOR: (
        [
            "collections/case",
            "collections/casebyborrower",
            "lending/borrower",
            "imports/importrecord",
        ],
        [
            "risk/loanapplication",
            "collections/collectionskpi",
            "collections/queue/add",
            "auth/user",
        ],
    ),
    roles.COLLECTIONS_MANAGER: (
        [
            "collections/case",
            "collections/collectionskpi",
            "collections/queue/add",
            "collections/compliancepolicy",
            "collections/reminder",
            "collections/waiverproposal",
        ],
        ["risk/loanapplication", "lending/loanproduct/add", "auth/user"],
    ),
    roles.FINANCE: (
        [
            "lending/loan",
            "collections/writeoffproposal",
            "lending/businessdayrun",
            "lending/loanproduct/add",
            "imports/importrecord",
        ],
        ["risk/loanapplication", "lending/borrower/add", "auth/user"],
    ),
    roles.AUDITOR: (
        [
            "lending/auditevent",
            "lending/loan",
            "risk/decision",
            "collections/case",
            "auth/user",
            "imports/importrecord",
        ],
        ["authtoken/tokenproxy"],
    ),
    roles.ADMINISTRATOR: (
        [
            "auth/user",
            "auth/user/add",
            "lending/borrower/add",
            "django_celery_beat/periodictask",
            "authtoken/tokenproxy",
            "risk/creditpolicy/add",
        ],
        [],
    ),
}


def home_links(page, within="#content-main") -> set[str]:
    hrefs = page.eval_on_selector_all(f"{within} a", "els => els.map(e => e.pathname)")
    return {h.removeprefix("/admin/").rstrip("/") for h in hrefs}


def outside_system(page) -> set[str]:
    """Links to the technical apps (users, tokens, scheduled tasks, login records) that are not
    in the home's System section, where they belong, after the business apps."""
    technical = {link for link in home_links(page) if link.split("/")[0] in SYSTEM_APPS}
    return technical - home_links(page, "#content-main .app-system")


def test_each_role_s_home_leads_to_its_work_and_nothing_else(staff, login):
    # One walk through the seven roles: each browser test flushes the database after it.
    wrong = {}
    for role in roles.ROLES:
        page = login(staff(role, role.replace(" ", "-")))
        links = home_links(page)
        needed, forbidden = HOMES[role]
        if role == roles.AUDITOR:  # reads everything, changes nothing
            forbidden = forbidden + [link for link in links if link.endswith("/add")]
        missing, offered = set(needed) - links, set(forbidden) & links
        misplaced = outside_system(page)
        if missing or offered or misplaced:
            wrong[role] = {"missing": missing, "offered": offered, "not under System": misplaced}
        response = page.goto(f"/admin/{needed[0]}/")
        assert response.status == 200 and page.locator("#content h1").is_visible(), role
        page.context.close()
    assert not wrong
