"""factory-boy factories for the lending models; loans are made through the services."""

import itertools
from datetime import date
from decimal import Decimal

import factory

from lending.identity import generate_national_id
from lending.models import Borrower, LoanProduct
from lending.models.borrowers import KycStatus

_sequence = itertools.count(1)


def _national_id(borrower) -> str:
    n = next(_sequence)
    # Vary the birth date as well as the sequence so thousands of borrowers stay unique.
    born = date(1960 + n // 100 % 40, 1 + n // 4000 % 12, 1 + n // 48000 % 28)
    return generate_national_id(date_of_birth=born, sex=borrower.sex, sequence=n % 100)


class BorrowerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Borrower

    full_name = factory.Sequence(lambda n: f"借款人{n}")
    sex = "M"
    national_id = factory.LazyAttribute(_national_id)
    date_of_birth = factory.LazyAttribute(
        lambda b: date(
            int(b.national_id[6:10]), int(b.national_id[10:12]), int(b.national_id[12:14])
        )
    )
    mobile = factory.Sequence(lambda n: f"138{n:08d}")
    monthly_income = Decimal("12000.00")
    kyc_status = KycStatus.VERIFIED


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LoanProduct
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"prod{n}")
    name = factory.LazyAttribute(lambda p: f"Product {p.code}")
    min_rate = Decimal("0.05")
    max_rate = Decimal("0.18")
    min_term_months = 1
    max_term_months = 36
    min_amount = Decimal("100.00")
    max_amount = Decimal("200000.00")


class RiskProfileFactory(factory.django.DjangoModelFactory):
    """A verified, salaried borrower with a clean bureau record (one recent inquiry, 1,000 a
    month owed elsewhere): the profile each risk test starts from and changes one field of."""

    class Meta:
        model = "risk.RiskProfile"

    income_source = "payroll"
    employment_type = "salaried"
    employment_months = 36
    existing_monthly_debt = Decimal("1000.00")
    bureau_score = 720
    bureau_inquiries_6m = 1
    bureau_worst_delinquency_days = 0
    bureau_current_delinquencies = 0
