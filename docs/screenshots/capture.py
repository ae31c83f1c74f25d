"""Capture the admin screenshots in this folder from a running `make run`.

    python3 -m venv /tmp/shots && /tmp/shots/bin/pip install selenium
    /tmp/shots/bin/python docs/screenshots/capture.py   # needs Debian's chromium + chromium-driver

Not part of the test suite: it documents what staff see.
"""

import sys
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BASE = "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent


def main() -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1600,1000",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"{BASE}/admin/login/")
        driver.find_element(By.NAME, "username").send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys("demo-admin-2026")
        driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        pages = {
            "loans.png": "/admin/lending/loan/?status__exact=active",
            "borrowers.png": "/admin/lending/borrower/",
            "quote.png": "/admin/lending/loanproduct/quote/?product=1&amount=10000&rate=0.16"
            "&term=12&start_date=2026-01-15",
        }
        for name, url in pages.items():
            driver.get(BASE + url)
            driver.save_screenshot(str(OUT / name))
        driver.get(f"{BASE}/admin/lending/loan/?status__exact=active&o=-7")
        driver.find_element(By.CSS_SELECTOR, "#result_list tbody tr th a").click()
        driver.save_screenshot(str(OUT / "loan-detail.png"))
        driver.get(driver.current_url.replace("/change/", "/repay/"))
        driver.save_screenshot(str(OUT / "repayment-form.png"))
        more = {
            "nights.png": "/admin/lending/businessdayrun/",
            "applications-queue.png": "/admin/risk/loanapplication/",
            "policy-simulation.png": "/admin/risk/creditpolicy/2/simulate/",  # the demo's candidate
            "limits.png": "/admin/risk/creditlimit/",
        }
        for name, url in more.items():
            driver.get(BASE + url)
            driver.save_screenshot(str(OUT / name))
        # The first of each list, opened: a night, a referral's review, a decision, a limit.
        for name, url, link in (
            ("night-detail.png", "/admin/lending/businessdayrun/", "#result_list tbody tr th a"),
            ("application-review.png", "/admin/risk/loanapplication/", 'a[href$="/review/"]'),
            ("decision-trace.png", "/admin/risk/decision/", "#result_list tbody tr th a"),
            ("limit-history.png", "/admin/risk/creditlimit/", "#result_list tbody tr th a"),
        ):
            driver.get(BASE + url)
            links = driver.find_elements(By.CSS_SELECTOR, link)
            if links:
                links[0].click()
                driver.save_screenshot(str(OUT / name))
            else:
                print(f"{name}: nothing to open on {url}", file=sys.stderr)
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
