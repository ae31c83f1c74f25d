"""Capture the collections screenshots in this folder from a running demo (`make run`, or a
server on 127.0.0.1:8765 over a database with load_demo, load_risk_demo, load_collections_demo).

    make screenshots          # or, with a demo server running:
    .venv/bin/python docs/screenshots/capture_collections.py [BASE]

Chinese pages need a CJK font on the machine (Debian: fonts-noto-cjk). Not part of the suite.
"""

import sys

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765"
OUT = str(__import__("pathlib").Path(__file__).resolve().parent)


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


with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
    )
    ctx, page = login(browser, "collector")
    page.goto(BASE + "/admin/collections/case/")
    page.screenshot(path=f"{OUT}/collections-work-list.png")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=f"{OUT}/collections-case.png", full_page=True)
    ctx.close()
    ctx, page = login(browser, "manager", "zh-hans")
    page.goto(BASE + "/admin/collections/casebyborrower/")
    page.screenshot(path=f"{OUT}/collections-by-borrower-zh.png")
    page.goto(BASE + "/admin/collections/collectionskpi/")
    page.screenshot(path=f"{OUT}/collections-kpis-zh.png", full_page=True)
    ctx.close()
    browser.close()
