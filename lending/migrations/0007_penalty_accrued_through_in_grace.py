"""Installments the old penalty rule marked accrued while they were inside grace.

Before this release a night inside grace set `penalty_accrued_through` although nothing accrued.
The penalty now counts every day since the last one accrued (or since the penalty's start), so
such a mark would make a product that counts from the due date lose its grace days on the first
night past grace. Unmark them: nothing had accrued (exact penalty 0), so nothing is lost.
"""

from django.db import migrations


def unmark_grace_nights(apps, schema_editor):
    Installment = apps.get_model("lending", "Installment")
    marked = Installment.objects.filter(
        penalty_exact=0, settled_on__isnull=True, penalty_accrued_through__isnull=False
    ).values_list("pk", "due_date", "penalty_accrued_through", "loan__product__grace_days")
    inside_grace = [
        pk for pk, due, through, grace in marked.iterator() if (through - due).days <= grace
    ]
    for start in range(0, len(inside_grace), 1000):
        Installment.objects.filter(pk__in=inside_grace[start : start + 1000]).update(
            penalty_accrued_through=None
        )


class Migration(migrations.Migration):
    dependencies = [("lending", "0006_nightly_write_path")]

    operations = [migrations.RunPython(unmark_grace_nights, migrations.RunPython.noop)]
