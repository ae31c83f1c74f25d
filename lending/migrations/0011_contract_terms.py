"""Contract terms frozen on the loan (DESIGN §5: a product edit reprices no booked loan), and the
penalty accrued kept exactly (Σ base × rate × days, divided by the day-count basis only to round).

Existing loans take the terms of their product as it stands now — the only record there is of
what they were booked under. Existing exact figures were kept divided (12 places); multiplied back
by the basis and rounded to 8 places they are exact again for any rate of up to 6 places."""

from decimal import Decimal

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from lending.schedules import DAY_COUNT_BASIS

BATCH = 2000
# The terms as they were when this migration was written (lending.models.products.CONTRACT_TERMS
# may grow later; this migration must copy only the columns it creates).
CONTRACT_TERMS = (
    "grace_days",
    "arrears_tolerance",
    "allocation_order",
    "penalty_base",
    "penalty_rate_type",
    "penalty_rate_value",
    "penalty_start",
    "cost_cap_type",
    "cost_cap_value",
)


def copy_product_terms(apps, schema_editor):
    Loan = apps.get_model("lending", "Loan")
    LoanProduct = apps.get_model("lending", "LoanProduct")
    product = LoanProduct.objects.filter(pk=OuterRef("product_id"))
    Loan.objects.update(**{name: Subquery(product.values(name)[:1]) for name in CONTRACT_TERMS})


def exact_to_accrued(apps, schema_editor):
    Installment = apps.get_model("lending", "Installment")
    rows = Installment.objects.exclude(penalty_exact=0).values_list(
        "pk", "penalty_exact", "loan__day_count"
    )
    _save(
        Installment,
        "penalty_accrued",
        (
            (pk, (exact * DAY_COUNT_BASIS[day_count]).quantize(Decimal("1e-8")))
            for pk, exact, day_count in rows.iterator(chunk_size=BATCH)
        ),
    )


def accrued_to_exact(apps, schema_editor):
    Installment = apps.get_model("lending", "Installment")
    rows = Installment.objects.exclude(penalty_accrued=0).values_list(
        "pk", "penalty_accrued", "loan__day_count"
    )
    _save(
        Installment,
        "penalty_exact",
        (
            (pk, (accrued / DAY_COUNT_BASIS[day_count]).quantize(Decimal("1e-12")))
            for pk, accrued, day_count in rows.iterator(chunk_size=BATCH)
        ),
    )


def _save(model, field, values) -> None:
    batch = []
    for pk, value in values:
        batch.append(model(pk=pk, **{field: value}))
        if len(batch) == BATCH:
            model.objects.bulk_update(batch, [field])
            batch.clear()
    if batch:
        model.objects.bulk_update(batch, [field])


class Migration(migrations.Migration):
    dependencies = [("lending", "0010_ledger_immutable")]

    operations = [
        migrations.AddField(
            model_name="loan",
            name="allocation_order",
            field=models.CharField(
                default="penalty,fee,interest,principal",
                help_text="Components in the order a repayment pays them, oldest installment first.",
                max_length=64,
                verbose_name="repayment allocation order",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="arrears_tolerance",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0.00"),
                help_text="An overdue remainder at or below this amount does not make a loan overdue.",
                max_digits=18,
                verbose_name="arrears tolerance",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="cost_cap_type",
            field=models.CharField(
                choices=[
                    ("fixed", "Fixed annual ceiling"),
                    ("lpr_multiple", "Multiple of the one-year LPR on the contract date"),
                ],
                default="fixed",
                max_length=16,
                verbose_name="all-in cost cap",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="cost_cap_value",
            field=models.DecimalField(
                decimal_places=6,
                default=Decimal("0.24"),
                help_text="An annual rate (0.24) for a fixed cap; a multiple (4) for an LPR cap.",
                max_digits=9,
                verbose_name="cap value",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="grace_days",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="grace days"),
        ),
        migrations.AddField(
            model_name="loan",
            name="penalty_base",
            field=models.CharField(
                choices=[
                    ("overdue_principal", "Overdue principal"),
                    ("overdue_principal_interest", "Overdue principal and interest"),
                ],
                default="overdue_principal",
                max_length=32,
                verbose_name="penalty base",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="penalty_rate_type",
            field=models.CharField(
                choices=[
                    ("absolute", "Absolute annual rate"),
                    ("contract_multiple", "Multiple of the contract rate"),
                ],
                default="contract_multiple",
                max_length=20,
                verbose_name="penalty rate type",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="penalty_rate_value",
            field=models.DecimalField(
                decimal_places=6,
                default=Decimal("1.5"),
                help_text="An annual rate (0.24) or a multiple of the contract rate (1.5).",
                max_digits=9,
                verbose_name="penalty rate",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="penalty_start",
            field=models.CharField(
                choices=[
                    ("due_date", "From the due date, once grace is exceeded"),
                    ("grace_end", "From the end of grace"),
                ],
                default="due_date",
                max_length=16,
                verbose_name="penalty counts",
            ),
        ),
        migrations.RunPython(copy_product_terms, migrations.RunPython.noop),
        migrations.AddField(
            model_name="installment",
            name="penalty_accrued",
            field=models.DecimalField(
                decimal_places=14,
                default=0,
                max_digits=40,
                verbose_name="penalty accrued (base × rate × days)",
            ),
        ),
        # Forwards: the exact figure × basis; backwards: penalty_exact is re-added and filled.
        migrations.RunPython(exact_to_accrued, accrued_to_exact),
        migrations.RemoveField(model_name="installment", name="penalty_exact"),
    ]
