"""A collector's day: the work list holds their own cases only, another collector's case is not
found, and a contact logged at 22:30 in the borrower's time zone is refused on its field, naming
the contact-hours rule and its source; the same attempt an hour earlier is logged."""

import pytest

from debt_collection.models import ComplianceRefusal, ContactAttempt
from tests.browser.world import small_book

pytestmark = pytest.mark.xdist_group("browser")

# Two hours behind the server's Asia/Shanghai: 00:30 on the server is 22:30 for the borrower,
# and 23:30 (outside the hours in the server's own time) is 21:30 for them.
BORROWER_ZONE = "Asia/Urumqi"


def log_contact(page, server_time: str) -> None:
    page.click("text=Log a contact")
    page.select_option("#id_channel", "call")
    page.select_option("#id_party", "borrower")
    page.fill("#id_contacted_at", server_time)
    page.select_option("#id_outcome", "no_answer")
    page.click("#content-main input[type=submit]")


def test_a_collector_works_own_cases_within_the_borrower_s_contact_hours(staff, login):
    book = small_book(staff)
    book.mine.time_zone = BORROWER_ZONE
    book.mine.save(update_fields=["time_zone"])
    page = login(book.collector)

    page.goto("/admin/collections/case/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert book.mine.borrower.full_name in rows.inner_text()
    assert book.theirs.borrower.full_name not in page.locator("#content").inner_text()
    assert page.goto(f"/admin/collections/case/{book.theirs.pk}/change/").status == 404

    page.goto("/admin/collections/case/")
    rows.first.locator("th a").click()
    log_contact(page, "2026-11-11 00:30:00")
    # On the field it is about, not only in a banner.
    error = page.locator(".form-row", has=page.locator("#id_contacted_at")).locator(".errorlist")
    assert error.inner_text().startswith("Contact hours: ")
    assert "22:30:00 in Asia/Urumqi is outside the contact hours" in error.inner_text()
    assert "GB/T 45251-2025" in error.inner_text()  # the rule's source
    assert not ContactAttempt.objects.exists()
    assert ComplianceRefusal.objects.filter(collector=book.collector).count() == 1

    page.fill("#id_contacted_at", "2026-11-10 23:30:00")
    page.click("#content-main input[type=submit]")
    assert "Contact logged." in page.locator("ul.messagelist").inner_text()
    assert ContactAttempt.objects.get().case == book.mine
