"""Capture the "run a night", System section and History screenshots from a running demo.

    BASE=http://127.0.0.1:8765 /tmp/pw/bin/python docs/screenshots/capture_format.py

The "started" picture needs a night left to close (otherwise it shows the refusal), and "done" a
worker (`make run` starts one). Chinese pages
need a CJK font (Debian: fonts-noto-cjk). Not part of the suite.
"""

import os
import pathlib

from playwright.sync_api import sync_playwright

BASE = os.environ.get("BASE", "http://127.0.0.1:8765")
OUT = str(pathlib.Path(__file__).resolve().parent)


def login(browser, who, lang="en"):
    ctx = browser.new_context(
        viewport={"width": 1440, "height": 900}, extra_http_headers={"Accept-Language": lang}
    )
    page = ctx.new_page()
    page.goto(BASE + "/admin/login/")
    page.fill("#id_username", who)
    page.fill("#id_password", f"demo-{who}-2026")
    page.click("input[type=submit]")
    return ctx, page


def shot(page, name, full=False):
    page.wait_for_load_state("networkidle")
    page.screenshot(path=f"{OUT}/{name}.png", full_page=full)


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
    ctx, page = login(browser, "admin")
    shot(page, "system-group", full=True)
    page.goto(BASE + "/admin/lending/businessdayrun/")
    shot(page, "run-night-list")
    page.click("text=Run a night")
    shot(page, "run-night-form")
    page.click("input[type=submit][value='Start the night']")
    shot(page, "run-night-started", full=True)  # the run's page, or the refusal on the field
    page.wait_for_timeout(10000)  # a worker (make run) closes it meanwhile
    page.reload()
    shot(page, "run-night-done", full=True)
    page.goto(BASE + "/admin/lending/businessdayrun/run-night/")
    page.fill("#id_business_date", "2026-11-01")
    page.click("input[type=submit][value='Start the night']")
    shot(page, "run-night-refused")
    page.goto(BASE + "/admin/lending/businessdayrun/?status__exact=done")
    page.locator("#result_list tbody tr th a").first.click()
    shot(page, "run-night-run", full=True)
    page.goto(BASE + "/admin/lending/loan/?status__exact=active")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_load_state("networkidle")
    page.click("a.historylink")
    shot(page, "history")
    ctx.close()

    ctx, page = login(browser, "admin", "zh-hans")
    shot(page, "system-group-zh", full=True)
    page.goto(BASE + "/admin/lending/businessdayrun/run-night/")
    page.fill("#id_business_date", "2026-11-01")
    page.locator("input[type=submit].default").click()
    shot(page, "run-night-refused-zh")
    page.goto(BASE + "/admin/lending/businessdayrun/?status__exact=done")
    page.locator("#result_list tbody tr th a").first.click()
    shot(page, "run-night-run-zh", full=True)
    ctx.close()

    ctx, page = login(browser, "manager")
    page.goto(BASE + "/admin/lending/businessdayrun/run-night/")
    shot(page, "run-night-manager-403")
    ctx.close()
    ctx, page = login(browser, "manager", "zh-hans")
    page.goto(BASE + "/admin/lending/businessdayrun/run-night/")
    shot(page, "run-night-manager-403-zh")
    ctx.close()
    browser.close()
print("ok")
