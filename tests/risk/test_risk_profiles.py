"""Risk profiles change through one service: validated, naming the field, and audited."""

from decimal import Decimal

import pytest
from django.urls import reverse

from lending.access import SYSTEM
from lending.errors import LendingError
from lending.models import AuditEvent
from risk.models import IncomeSource, RiskProfile
from risk.services.profiles import risk_profile_save
from tests.factories import BorrowerFactory, RiskProfileFactory

pytestmark = pytest.mark.django_db

D = Decimal


def test_a_change_is_saved_and_audited_with_before_and_after():
    profile = RiskProfileFactory(borrower=BorrowerFactory())
    risk_profile_save(
        borrower_id=profile.borrower_id,
        acting_user=SYSTEM,
        income_source=IncomeSource.DECLARED,
        existing_monthly_debt=D("2500.00"),
    )
    profile.refresh_from_db()
    assert (profile.income_source, profile.existing_monthly_debt) == ("declared", D("2500.00"))
    event = AuditEvent.objects.get(action="risk_profile.update")
    assert event.data["before"] == {"income_source": "payroll", "existing_monthly_debt": "1000.00"}
    assert event.data["after"] == {"income_source": "declared", "existing_monthly_debt": "2500.00"}


def test_bad_values_are_refused_naming_the_field_and_nothing_changes():
    profile = RiskProfileFactory(borrower=BorrowerFactory())
    with pytest.raises(LendingError) as negative:
        risk_profile_save(
            borrower_id=profile.borrower_id, acting_user=SYSTEM, existing_monthly_debt=D("-1")
        )
    assert negative.value.field == "existing_monthly_debt"
    with pytest.raises(LendingError) as unknown:
        risk_profile_save(borrower_id=profile.borrower_id, acting_user=SYSTEM, borrower_id_x=1)
    assert unknown.value.field == "borrower_id_x"
    profile.refresh_from_db()
    assert profile.existing_monthly_debt == D("1000.00")
    assert not AuditEvent.objects.filter(action__startswith="risk_profile").exists()


def test_the_admin_saves_through_the_service_and_shows_a_bad_debt_on_its_field(admin_client):
    borrower = BorrowerFactory()
    add = reverse("admin:risk_riskprofile_add")
    page = admin_client.post(
        add, {"borrower": borrower.pk, "income_source": "payroll", "existing_monthly_debt": "-5"}
    )
    assert page.status_code == 200
    assert "existing_monthly_debt" in page.context["adminform"].form.errors
    assert not RiskProfile.objects.exists()

    admin_client.post(
        add,
        {
            "borrower": borrower.pk,
            "income_source": "payroll",
            "employment_type": "salaried",
            "existing_monthly_debt": "800.00",
        },
    )
    assert RiskProfile.objects.get(borrower=borrower).existing_monthly_debt == D("800.00")
    assert AuditEvent.objects.filter(action="risk_profile.create").count() == 1
