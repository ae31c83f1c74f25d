"""National ID, mobile, address and emergency-contact phones encrypted at rest, with keyed
hashes for exact lookup (DESIGN §10). Existing rows are encrypted in batches; reversible (the
reverse writes the plain values back before the columns return to their old types)."""

from django.db import migrations

import lending.models.fields
from lending.pii import masked, pii_digest

PII_FIELDS = ("national_id", "mobile", "address")

BATCH = 1000


def encrypt_rows(apps, schema_editor):
    Borrower = apps.get_model("lending", "Borrower")
    EmergencyContact = apps.get_model("lending", "EmergencyContact")
    # Reading decrypts (plain values from before read as they are); bulk_update encrypts.
    batch = []
    for borrower in Borrower.objects.order_by("pk").iterator(chunk_size=BATCH):
        borrower.national_id_digest = pii_digest(borrower.national_id)
        borrower.mobile_digest = pii_digest(borrower.mobile)
        batch.append(borrower)
        if len(batch) == BATCH:
            _save(
                Borrower,
                batch,
                ["national_id", "mobile", "address", "national_id_digest", "mobile_digest"],
            )
    _save(
        Borrower, batch, ["national_id", "mobile", "address", "national_id_digest", "mobile_digest"]
    )
    for contact in EmergencyContact.objects.order_by("pk").iterator(chunk_size=BATCH):
        batch.append(contact)
        if len(batch) == BATCH:
            _save(EmergencyContact, batch, ["phone"])
    _save(EmergencyContact, batch, ["phone"])


def _save(model, batch, fields):
    if batch:
        model.objects.bulk_update(batch, fields)
        batch.clear()


def scrub_audit(apps, schema_editor):
    """Audit events written before kept old and new national IDs and mobiles in clear."""
    AuditEvent = apps.get_model("lending", "AuditEvent")
    for event in AuditEvent.objects.filter(action="borrower.update").iterator(chunk_size=BATCH):
        changes = (event.data or {}).get("changes") or {}
        pii = {name: pair for name, pair in changes.items() if name in PII_FIELDS}
        if pii:
            for name, pair in pii.items():
                changes[name] = [masked(name, value) for value in pair]
            AuditEvent.objects.filter(pk=event.pk).update(data=event.data)


def decrypt_rows(apps, schema_editor):
    Borrower = apps.get_model("lending", "Borrower")
    EmergencyContact = apps.get_model("lending", "EmergencyContact")
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        for b in Borrower.objects.order_by("pk").iterator(chunk_size=BATCH):
            cursor.execute(
                f"UPDATE {quote('lending_borrower')} SET {quote('national_id')} = %s, "
                f"{quote('mobile')} = %s, {quote('address')} = %s WHERE {quote('id')} = %s",
                [b.national_id, b.mobile, b.address, b.pk],
            )
        for c in EmergencyContact.objects.order_by("pk").iterator(chunk_size=BATCH):
            cursor.execute(
                f"UPDATE {quote('lending_emergencycontact')} SET {quote('phone')} = %s "
                f"WHERE {quote('id')} = %s",
                [c.phone, c.pk],
            )


class Migration(migrations.Migration):
    dependencies = [("lending", "0008_operation_permissions")]

    operations = [
        migrations.AlterField(
            model_name="borrower",
            name="national_id",
            field=lending.models.fields.EncryptedPiiField(
                max_length=18, verbose_name="national ID"
            ),
        ),
        migrations.AlterField(
            model_name="borrower",
            name="mobile",
            field=lending.models.fields.EncryptedPiiField(
                max_length=11, verbose_name="mobile phone"
            ),
        ),
        migrations.AlterField(
            model_name="borrower",
            name="address",
            field=lending.models.fields.EncryptedPiiField(
                blank=True, max_length=255, verbose_name="address"
            ),
        ),
        migrations.AlterField(
            model_name="emergencycontact",
            name="phone",
            field=lending.models.fields.EncryptedPiiField(max_length=11, verbose_name="phone"),
        ),
        migrations.AddField(
            model_name="borrower",
            name="national_id_digest",
            field=lending.models.fields.DigestField(
                default="", max_length=64, source="national_id"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="borrower",
            name="mobile_digest",
            field=lending.models.fields.DigestField(default="", max_length=64, source="mobile"),
            preserve_default=False,
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
        migrations.RunPython(scrub_audit, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="borrower",
            name="national_id_digest",
            field=lending.models.fields.DigestField(
                max_length=64, source="national_id", unique=True
            ),
        ),
        migrations.AlterField(
            model_name="borrower",
            name="mobile_digest",
            field=lending.models.fields.DigestField(db_index=True, max_length=64, source="mobile"),
        ),
    ]
