"""Input bounds a product sets (issue 9): the longest first period a disbursement may choose,
and how far a repayment may exceed the payoff."""

from decimal import Decimal

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0012_posted_value_date_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="loanproduct",
            name="max_first_period_days",
            field=models.PositiveSmallIntegerField(
                default=62,
                help_text=(
                    "A first due date chosen at disbursement may be at most this many days after "
                    "it (a single payment: also up to its regular due date)."
                ),
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(366),
                ],
                verbose_name="longest first period (days)",
            ),
        ),
        migrations.AddField(
            model_name="loanproduct",
            name="max_overpayment",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("1000.00"),
                help_text=(
                    "A repayment may exceed the payoff on its value date by at most this amount "
                    "(kept as a credit balance); 0 refuses any overpayment."
                ),
                max_digits=18,
                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                verbose_name="overpayment limit",
            ),
        ),
    ]
