"""The work list by borrower says each grouped loan's days past due in the reader's language
(逾期5天, glossary: 逾期天数), not the English abbreviation."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from debt_collection.models import Case
from tests.factories import BorrowerFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db


def test_the_grouped_loans_say_their_days_past_due_in_words(client, django_user_model):
    borrower = BorrowerFactory()
    loan = active_loan(start=date(2026, 7, 15), borrower=borrower)
    Case.objects.create(
        loan=loan,
        borrower=borrower,
        opened_on=date(2026, 10, 1),
        bucket="M1",
        dpd=5,
        priority=1,
        overdue_amount=Decimal("100.00"),
        total_outstanding=Decimal("1000.00"),
    )
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    client.force_login(boss)
    url = reverse("admin:collections_casebyborrower_changelist")

    english = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert f"{loan.reference}</a> M1 · 5 dpd · 100.00" in english
    # Fails until "%(dpd)s dpd" is in locale/ (makemessages, translate, compilemessages).
    chinese = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
    assert f"{loan.reference}</a> M1 · 逾期5天 · 100.00" in chinese
