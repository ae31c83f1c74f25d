"""Capture the spreadsheet screenshots in this folder from a running demo (`make run`, or a
server on 127.0.0.1:8765 over a database with load_demo, load_risk_demo, load_collections_demo),
walking the pages as finance, the collections manager and a collector would, in English and
Chinese, at 1440 px. Prints each page's status and width; exits 1 on a 500 or an overflow.

    make screenshots          # or, with a demo server running:
    .venv/bin/python docs/screenshots/capture_imports.py [BASE] [CSV]

CSV: a repayments file to upload (GB18030 with a bank's title row is the interesting case;
docs/screenshots/statement_csv.py writes one from the demo book).
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765"
CSV = sys.argv[2] if len(sys.argv) > 2 else "/tmp/walk/repayments_gbk.csv"  # noqa: S108
OUT = Path(__file__).resolve().parent
problems = []


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


def visit(page, url, shot=None, full=False):
    response = page.goto(BASE + url)
    check(page, url, response.status)
    if shot:
        page.screenshot(path=str(OUT / shot), full_page=full)


def check(page, what, status):
    width = page.evaluate("document.documentElement.scrollWidth")
    print(f"{status} {width:>5}px {what}")
    if status >= 500 or width > 1440:
        problems.append((what, status, width))


with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
    )
    for lang, suffix in (("en", ""), ("zh-hans", "-zh")):
        ctx, page = login(browser, "finance", lang)
        visit(page, "/admin/", f"imports-home{suffix}.png" if lang == "en" else None)
        visit(page, "/admin/imports/importrecord/start/", f"imports-start{suffix}.png")
        visit(page, "/admin/imports/importrecord/upload/repayments/")
        page.set_input_files("input[type=file]", CSV)
        page.click("input[type=submit]")
        page.wait_for_load_state("networkidle")
        check(page, "dry run " + page.url, 200)
        page.screenshot(path=str(OUT / f"imports-dry-run{suffix}.png"), full_page=True)
        if lang == "en":
            page.check("input[name=valid_rows_only]")
            page.click("#confirm input[type=submit]")
            page.wait_for_load_state("networkidle")
            check(page, "confirmed " + page.url, 200)
            page.screenshot(path=str(OUT / "imports-written.png"), full_page=True)
        visit(page, "/admin/imports/importrecord/")
        visit(page, "/admin/lending/loan/export/?status__exact=active", f"export-loans{suffix}.png")
        ctx.close()
    for who in ("manager", "collector"):
        ctx, page = login(browser, who, "zh-hans")
        visit(page, "/admin/collections/case/")
        export = page.locator("a:has-text('导出')").first
        if export.count():
            export.click()
            page.wait_for_load_state("networkidle")
            check(page, f"{who} export " + page.url, 200)
            if who == "collector":
                page.screenshot(path=str(OUT / "export-work-list-zh.png"))
        visit(page, "/admin/imports/importrecord/start/")
        ctx.close()
    browser.close()
print("problems:", problems or "none")
sys.exit(1 if problems else 0)
