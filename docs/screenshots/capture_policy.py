"""Capture the credit-policy editor screenshots in this folder from a running demo, walking the
analyst's path: a new draft with two mistakes (refused, each named on its field), corrected and
saved, simulated, put forward for activation; then the same refusal in Chinese.

    python3 -m venv /tmp/pw && /tmp/pw/bin/pip install playwright   # uses Debian chromium
    /tmp/pw/bin/python docs/screenshots/capture_policy.py           # server on 127.0.0.1:8765

POLICY_BASE overrides the server's address. Chinese pages need a CJK font on the machine
(Debian: fonts-noto-cjk). Each run adds draft versions to the demo. Not part of the suite.
"""

import os

from playwright.sync_api import sync_playwright

BASE = os.environ.get("POLICY_BASE", "http://127.0.0.1:8765")
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


def band_row(page, attribute: str, index: int):
    """The index-th band row of an attribute in the bands table."""
    rows = page.locator("#bands tbody tr").filter(
        has=page.locator(f"select option[value={attribute}][selected]")
    )
    return rows.nth(index)


def draft_with_mistakes(page, name: str):
    page.goto(BASE + "/admin/risk/creditpolicy/add/")
    page.fill("#id_version-name", name)
    page.fill("#id_hard-max_inquiries_6m", "-1")
    band_row(page, "bureau_score", 2).locator("input[name$='-min']").fill("640")
    page.fill("#id_grade-1-max_limit", "90000")
    page.click("input[name=_save]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#policy-problems li").count() == 2


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
    ctx, page = login(browser, "analyst")
    draft_with_mistakes(page, "Grade B up to 90,000")
    page.screenshot(path=f"{OUT}/policy-editor.png", full_page=True)
    # Corrected, saved and simulated in one go; then put forward from the simulation page.
    page.fill("#id_hard-max_inquiries_6m", "6")
    band_row(page, "bureau_score", 2).locator("input[name$='-min']").fill("650")
    page.click("input[name=_simulate]")
    page.wait_for_load_state("networkidle")
    assert "/simulate/" in page.url, page.url
    assert page.locator("#simulation th", has_text="draft v").count() == 1
    page.screenshot(path=f"{OUT}/policy-simulation.png", full_page=True)
    page.click("input[value='Put forward for activation']")
    page.wait_for_load_state("networkidle")
    assert "activate" in page.locator("#policy-steps").inner_text()
    ctx.close()

    ctx, page = login(browser, "analyst", "zh-hans")
    draft_with_mistakes(page, "评级 B 最高 90,000")
    page.screenshot(path=f"{OUT}/policy-editor-zh.png", full_page=True)
    ctx.close()
    browser.close()
print("ok")
