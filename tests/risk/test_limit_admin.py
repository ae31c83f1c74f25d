"""Credit limits in the admin: what is owed or approved against each, and what is available."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from lending.access import SYSTEM
from lending.services.loans import loan_book_approved
from risk.models import CreditLimit, LimitStatus
from risk.selectors import exposure, with_available
from risk.services.limits import credit_limit_change
from tests.factories import BorrowerFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

D = Decimal


def limit_for(borrower, amount: str, status=LimitStatus.ACTIVE) -> CreditLimit:
    return credit_limit_change(
        borrower=borrower,
        kind="set",
        reason="test",
        acting_user=SYSTEM,
        amount=D(amount),
        status=status,
    )


def test_available_is_the_limit_less_what_is_owed_or_approved_and_nothing_when_frozen(
    admin_client,
):
    # 10,000 paid out on 15 Jan, nothing repaid yet: 10,000 owed. A 3,000 loan approved and
    # waiting counts whole. Limit 30,000 → 17,000 available.
    loan = active_loan(start=date(2026, 1, 15))
    borrower = loan.borrower
    waiting = loan_book_approved(
        borrower=borrower,
        product=loan.product,
        principal=D("3000.00"),
        annual_rate=D("0.18"),
        term_months=6,
        acting_user=SYSTEM,
    )
    assert waiting.status == "approved"
    limit_for(borrower, "30000.00")
    frozen = limit_for(BorrowerFactory(), "5000.00", status=LimitStatus.FROZEN)

    rows = {row.pk: row for row in with_available(CreditLimit.objects.all())}
    mine = CreditLimit.objects.get(borrower=borrower)
    assert rows[mine.pk].exposure == exposure(borrower.pk) == D("13000.00")
    assert rows[mine.pk].available == D("17000.00")
    assert (rows[frozen.pk].exposure, rows[frozen.pk].available) == (D("0"), D("0"))

    page = admin_client.get(reverse("admin:risk_creditlimit_changelist")).content.decode()
    assert "13,000.00" in page and "17,000.00" in page
    detail = admin_client.get(reverse("admin:risk_creditlimit_change", args=[mine.pk]))
    assert "17,000.00" in detail.content.decode()


def test_the_borrower_page_shows_the_limits_pages_available_and_nothing_while_frozen(
    admin_client,
):
    # The same book as above: 13,000 owed or approved against a 30,000 limit.
    loan = active_loan(start=date(2026, 1, 15))
    borrower = loan.borrower
    loan_book_approved(
        borrower=borrower,
        product=loan.product,
        principal=D("3000.00"),
        annual_rate=D("0.18"),
        term_months=6,
        acting_user=SYSTEM,
    )
    limit_for(borrower, "30000.00")
    page = reverse("admin:lending_borrower_change", args=[borrower.pk])
    assert "30,000.00 · Active · 17,000.00 available" in admin_client.get(page).content.decode()

    # Frozen, the room left is not there to take: the borrower's page says so, as the
    # limits list does, though 17,000 is still below the limit.
    limit_for(borrower, "30000.00", status=LimitStatus.FROZEN)
    assert "30,000.00 · Frozen · 0.00 available" in admin_client.get(page).content.decode()
