"""Capture the admin screenshots in this folder from a running demo (`make screenshots` starts
one; or `make run`, then `.venv/bin/python docs/screenshots/capture_admin.py http://127.0.0.1:8000`).

Debian's chromium, driven by Playwright (a dev dependency). Not part of the suite: it documents
what staff see.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765"
OUT = Path(__file__).resolve().parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-quic"]  # fmt: skip


def main() -> int:
    missing = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{BASE}/admin/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "demo-admin-2026")
        page.click("input[type=submit]")
        pages = {
            "loans.png": "/admin/lending/loan/?status__exact=active",
            "borrowers.png": "/admin/lending/borrower/",
            "quote.png": "/admin/lending/loanproduct/quote/?product=1&amount=10000&rate=0.16"
            "&term=12&start_date=2026-01-15",
        }
        for name, url in pages.items():
            page.goto(BASE + url)
            page.screenshot(path=str(OUT / name))
        page.goto(f"{BASE}/admin/lending/loan/?status__exact=active&o=-7")
        page.locator("#result_list tbody tr th a").first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(OUT / "loan-detail.png"))
        page.goto(page.url.replace("/change/", "/repay/"))
        page.screenshot(path=str(OUT / "repayment-form.png"))
        more = {
            "nights.png": "/admin/lending/businessdayrun/",
            "applications-queue.png": "/admin/risk/loanapplication/",
            "policy-simulation.png": "/admin/risk/creditpolicy/2/simulate/",  # the demo's candidate
            "limits.png": "/admin/risk/creditlimit/",
        }
        for name, url in more.items():
            page.goto(BASE + url)
            page.screenshot(path=str(OUT / name))
        # The first of each list, opened: a night, a referral's review, a decision, a limit.
        for name, url, link in (
            ("night-detail.png", "/admin/lending/businessdayrun/", "#result_list tbody tr th a"),
            ("application-review.png", "/admin/risk/loanapplication/", 'a[href$="/review/"]'),
            ("decision-trace.png", "/admin/risk/decision/", "#result_list tbody tr th a"),
            ("limit-history.png", "/admin/risk/creditlimit/", "#result_list tbody tr th a"),
        ):
            page.goto(BASE + url)
            links = page.locator(link)
            if links.count():
                links.first.click()
                page.wait_for_load_state()
                page.screenshot(path=str(OUT / name))
            else:
                missing.append(name)
                print(f"{name}: nothing to open on {url}", file=sys.stderr)
        browser.close()
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
