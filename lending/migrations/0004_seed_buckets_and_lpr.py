"""Default delinquency buckets and the published one-year LPR history.

The LPR values are copied from the published series (changes only, up to 2025-05-20); later
changes are added by operators in the admin. Before 2019-08-20 contracts referred to the PBOC
benchmark one-year lending rate, 4.35 % from 2015-10-24.
"""

from decimal import Decimal

from django.db import migrations

BUCKETS = [
    ("M0", 0, 0),
    ("M1", 1, 30),
    ("M2", 31, 60),
    ("M3", 61, 90),
    ("M4", 91, 120),
    ("M5", 121, 150),
    ("M6", 151, 180),
    ("M7", 181, None),
]

# effective date, one-year %, five-year %
LPR_HISTORY = [
    ("2019-08-20", "4.25", "4.85"),
    ("2019-09-20", "4.20", "4.85"),
    ("2019-11-20", "4.15", "4.80"),
    ("2020-02-20", "4.05", "4.75"),
    ("2020-04-20", "3.85", "4.65"),
    ("2021-12-20", "3.80", "4.65"),
    ("2022-01-20", "3.70", "4.60"),
    ("2022-05-20", "3.70", "4.45"),
    ("2022-08-22", "3.65", "4.30"),
    ("2023-06-20", "3.55", "4.20"),
    ("2023-08-21", "3.45", "4.20"),
    ("2024-02-20", "3.45", "3.95"),
    ("2024-07-22", "3.35", "3.85"),
    ("2024-10-21", "3.10", "3.60"),
    ("2025-05-20", "3.00", "3.50"),
]


def seed(apps, schema_editor):
    DelinquencyBucket = apps.get_model("lending", "DelinquencyBucket")
    LprRate = apps.get_model("lending", "LprRate")
    for code, low, high in BUCKETS:
        DelinquencyBucket.objects.get_or_create(
            code=code, defaults={"min_dpd": low, "max_dpd": high}
        )
    LprRate.objects.get_or_create(
        effective_date="2015-10-24",
        defaults={
            "one_year_rate": Decimal("0.0435"),
            "note": "PBOC benchmark one-year lending rate (before the LPR reform)",
        },
    )
    for effective, one_year, five_year in LPR_HISTORY:
        LprRate.objects.get_or_create(
            effective_date=effective,
            defaults={
                "one_year_rate": Decimal(one_year) / 100,
                "five_year_rate": Decimal(five_year) / 100,
                "note": "published LPR",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("lending", "0003_close_of_business")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
