"""Switched to Chinese with the language switcher, the main pages (tests/browser/world.py:
main_pages) show no English word, apart from names and codes: usernames, product codes and the
names of queues and credit policies (data, as entered), abbreviations that Chinese screens use as
they are (ID, KPI, LPR…), anything with a digit, underscore or slash in it (LN00000001, M1, v1,
ACT/360, Asia/Shanghai, INCOME_NOT_VERIFIED) and text set as code (<code>). Text for screen
readers only (.visually-hidden) is not looked at."""

import re

import pytest

from debt_collection.models import Queue
from risk.models import CreditPolicy
from tests.browser.world import main_pages, small_book

pytestmark = pytest.mark.xdist_group("browser")

ABBREVIATIONS = {"ID", "KPI", "LPR", "APR", "IRR", "ACT", "XLSX", "CSV", "JSON"}
# (username, page) -> what is still English there. Issue 13 translated the last of them; a page
# listed here again fails the test once it comes clean, until its line goes.
KNOWN_ENGLISH: dict[tuple[str, str], str] = {}

VISIBLE_TEXT = """() => {
  const skip = "#language-switch, code, script, style, noscript, .visually-hidden";
  const seen = el => {
    const box = (el.closest("select") || el);
    const r = box.getBoundingClientRect();
    return box.checkVisibility() && r.width > 1 && r.height > 1;
  };
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (el && !el.closest(skip) && seen(el)) out.push(n.textContent);
  }
  for (const el of document.querySelectorAll("input[type=submit], input[type=button]")) {
    if (!el.closest(skip) && seen(el)) out.push(el.value);
  }
  return out.join("\\n");
}"""


def english_words(text: str, names: list[str]) -> set[str]:
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    text = re.sub(r"\S*[0-9_/]\S*", " ", text)
    return set(re.findall(r"[A-Za-z]{2,}", text)) - ABBREVIATIONS


def switch_to_chinese(page) -> None:
    page.select_option("#language-select", "zh-hans")
    page.click("#language-switch button")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_the_main_pages_in_chinese_have_no_english_words(staff, login):
    book = small_book(staff)
    pages = main_pages(book, staff)
    names = [
        *(user.username for user in pages),
        book.product.code,
        "borrowers.csv",  # the file the officer uploaded
        *Queue.objects.values_list("name", flat=True),
        *CreditPolicy.objects.values_list("name", flat=True),
    ]
    found = {}
    for user, visits in pages.items():
        page = login(user)
        switch_to_chinese(page)
        for name, url in visits:
            assert page.goto(url).status == 200, (user.username, name)
            words = english_words(page.evaluate(VISIBLE_TEXT), names)
            if words:
                found[(user.username, name)] = sorted(words)
    unexpected = {page: words for page, words in found.items() if page not in KNOWN_ENGLISH}
    assert not unexpected, f"English on Chinese pages: {unexpected}"
    translated = set(KNOWN_ENGLISH) - set(found)
    assert not translated, f"now in Chinese, strike from KNOWN_ENGLISH: {translated}"
