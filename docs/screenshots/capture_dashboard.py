"""Capture the portfolio dashboard screenshots in this folder from a running demo.

    manage.py load_demo && manage.py load_risk_demo && manage.py load_collections_demo
    manage.py snapshot_backfill --replace          # one consistent series (docs/dashboard.md)
    manage.py runserver 127.0.0.1:8765
    /tmp/pw/bin/python docs/screenshots/capture_dashboard.py   # uses Debian chromium

Chinese pages need a CJK font on the machine (Debian: fonts-noto-cjk). Not part of the suite.
"""

import os
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = os.environ.get("BASE_URL", "http://127.0.0.1:8765")
OUT = Path(__file__).resolve().parent


def login(browser, who, lang="en"):
    ctx = browser.new_context(
        viewport={"width": 1440, "height": 900}, extra_http_headers={"Accept-Language": lang}
    )
    page = ctx.new_page()
    page.goto(BASE + "/admin/login/")
    page.fill("#id_username", who)
    page.fill("#id_password", f"demo-{who}-2026")
    page.click("input[type=submit]")
    page.wait_for_load_state("networkidle")
    return ctx, page


with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-quic",
        ],
    )
    for lang, name in (("en", "dashboard.png"), ("zh-hans", "dashboard-zh.png")):
        ctx, page = login(browser, "manager", lang)
        page.goto(BASE + "/admin/portfolio/dashboard/")
        page.wait_for_load_state("networkidle")
        assert page.locator("svg.portfolio-chart").count() >= 3
        page.screenshot(path=str(OUT / name), full_page=True)
        ctx.close()
    # Walked, not kept: the manager's home carries the dashboard, a collector's does not.
    ctx, page = login(browser, "manager")
    assert page.locator("#chart-buckets").count() == 1
    ctx.close()
    ctx, page = login(browser, "collector")
    assert page.locator("#chart-buckets").count() == 0
    assert page.goto(BASE + "/admin/portfolio/dashboard/").status == 403
    ctx.close()
    browser.close()
print("ok")
