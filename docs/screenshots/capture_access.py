"""Capture the access and personal-data screenshots in this folder from a running demo.

    make screenshots          # or, with a demo server running:
    .venv/bin/python docs/screenshots/capture_access.py [BASE]   # default http://127.0.0.1:8765

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


def open_first_row(page):
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_load_state("networkidle")


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
    ctx, page = login(browser, "collector")
    page.goto(BASE + "/admin/lending/borrower/")
    page.screenshot(path=f"{OUT}/borrowers-masked-find.png")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=f"{OUT}/borrower-masked.png")
    page.locator("text=Reveal personal data").click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=f"{OUT}/borrower-reveal.png")
    ctx.close()
    ctx, page = login(browser, "officer", "zh-hans")
    page.goto(BASE + "/admin/lending/borrower/")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=f"{OUT}/borrower-edit-zh.png")
    ctx.close()
    ctx, page = login(browser, "finance")
    page.goto(BASE + "/admin/lending/loan/?status__exact=active")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_load_state("networkidle")
    page.locator("text=Contract terms for arrears").scroll_into_view_if_needed()
    page.screenshot(path=f"{OUT}/loan-contract-terms.png")
    ctx.close()
    browser.close()
print("ok")
