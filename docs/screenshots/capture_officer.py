"""Capture the officer's and finance's path (docs/workflows.md) from a running demo.

    /tmp/pw/bin/python docs/screenshots/capture_officer.py   # server on 127.0.0.1:8765

Walks, at 1440 px: a borrower's page → new application (borrower picker) → a quote → "apply
with these terms" → the decision and the booked loan → the loan page; a referral's "are you
sure" step; then finance's work lists and the disbursement; the officer's pages again in
Chinese. It books and disburses one demo loan. BASE and BORROWER can be set in the
environment (BORROWER: a demo name the active policy approves for 6,000 over 12 months).
Chinese pages need a CJK font (Debian: fonts-noto-cjk). Not part of the suite.
"""

import os

from playwright.sync_api import sync_playwright

BASE = os.environ.get("BASE", "http://127.0.0.1:8765")
BORROWER = os.environ.get("BORROWER", "张楠")
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


def shot(page, name, full=False):
    page.wait_for_load_state("networkidle")
    page.screenshot(path=f"{OUT}/officer-path-{name}.png", full_page=full)


def open_borrower(page):
    page.goto(BASE + f"/admin/lending/borrower/?q={BORROWER}")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_load_state("networkidle")


def pick_borrower(page, term):
    """Type into the borrower picker (select2) and take the first match."""
    page.locator(".select2-selection").first.click()
    page.locator(".select2-search__field").fill(term)
    page.wait_for_selector(".select2-results__option--highlighted, .select2-results__option")
    page.wait_for_timeout(600)  # the picker waits 250 ms before asking
    return page


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

    # --- the officer, in English -----------------------------------------------------------
    ctx, page = login(browser, "officer")
    open_borrower(page)
    borrower_url = page.url
    shot(page, "1-borrower")

    page.goto(BASE + "/admin/risk/loanapplication/add/")
    pick_borrower(page, BORROWER[:1])
    shot(page, "2-picker")

    page.goto(borrower_url)
    page.click("#quote-for-borrower")
    page.wait_for_load_state("networkidle")
    page.select_option("#id_product", index=1)
    page.fill("#id_amount", "6000")
    page.fill("#id_rate", "0.15")
    page.fill("#id_term", "12")
    page.click(".submit-row input[type=submit]")
    shot(page, "3-quote")
    page.click("#apply-with-terms")
    shot(page, "4-apply-prefilled")
    page.click("#application-form input[type=submit]")
    shot(page, "5-decision-and-loan")
    loan_link = page.locator("#application-loan")
    loan_url = BASE + loan_link.get_attribute("href") if loan_link.count() else None
    if loan_url:
        page.goto(loan_url)
        shot(page, "6-loan-booked")

    page.goto(BASE + "/admin/risk/loanapplication/")
    shot(page, "7-queue")
    page.locator("#result_list a", has_text="Review").first.click()
    page.wait_for_load_state("networkidle")
    page.fill("#id_note", "Payslips for three months seen")
    page.click("button[value=approve]")
    shot(page, "8-confirm-approval")
    ctx.close()

    # --- finance: the day's work lists and the disbursement --------------------------------
    ctx, page = login(browser, "finance")
    page.goto(BASE + "/admin/lending/loan/")
    shot(page, "9-finance-loans")
    page.click("#awaiting-disbursement")
    shot(page, "10-awaiting-disbursement")
    if loan_url:
        page.goto(loan_url.rstrip("/").rsplit("/", 1)[0] + "/disburse/")
        page.click(".submit-row input[type=submit]")
        shot(page, "11-disbursed", full=True)
    page.goto(BASE + "/admin/lending/loan/")
    page.click("#write-off-proposals")
    shot(page, "12-write-off-proposals")
    ctx.close()

    # --- the officer, in Chinese -----------------------------------------------------------
    ctx, page = login(browser, "officer", "zh-hans")
    page.goto(borrower_url)
    shot(page, "zh-1-borrower")
    page.click("#new-application")
    shot(page, "zh-2-apply")
    page.goto(BASE + "/admin/risk/loanapplication/")
    shot(page, "zh-3-queue")
    page.locator("#result_list tbody tr td.field-review_link a").first.click()
    page.wait_for_load_state("networkidle")
    page.fill("#id_note", "已核实工资流水")
    page.click("button[value=approve]")
    shot(page, "zh-4-confirm-approval")
    ctx.close()
    browser.close()
print("ok")
