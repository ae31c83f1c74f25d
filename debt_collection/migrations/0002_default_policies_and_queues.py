"""The two shipped compliance policies (China's GB/T 45251-2025, active; US Regulation F, a
draft to activate where it applies) and the default queues (DESIGN §8, issue 10)."""

from datetime import time

from django.db import migrations

GBT = "GB/T 45251-2025"
REG_F = "12 CFR part 1006 (Regulation F)"
SCRIPT = (
    "You may say who you are and ask the contact to pass on that the borrower should call us. "
    "Never say that the borrower owes money, how much, or to whom: the contact is not a debtor."
)

POLICIES = [
    {
        "version": 1,
        "name": "China GB/T 45251-2025",
        "status": "active",
        "contact_from": time(8),
        "contact_until": time(22),
        "hours_source": f"{GBT}: no collection contact from 22:00 to 08:00, borrower's local time",
        "daily_connected_calls": 3,
        "daily_source": f"{GBT}: at most 3 connected calls per debtor per day, all agents together",
        "weekly_attempts": 21,
        "weekly_calls_only": False,
        "weekly_source": f"House setting under {GBT}: attempts per debtor in any 7 days",
        "holds_source": f"{GBT}: no contact while the debtor has asked not to be contacted "
        "or disputes the debt",
        "emergency_after": 3,
        "emergency_source": f"{GBT}: emergency contacts only when the borrower cannot be "
        "reached (house setting: after 3 consecutive unreachable attempts), never told of the debt",
        "party_source": f"{GBT}: only the borrower and the emergency contacts they listed",
        "emergency_note": SCRIPT,
        "promise_grace_days": 0,
    },
    {
        "version": 2,
        "name": "US Regulation F",
        "status": "draft",
        "contact_from": time(8),
        "contact_until": time(21),
        "hours_source": f"{REG_F} §1006.6(b)(1)(i): not before 8 a.m. or after 9 p.m. local time",
        "daily_connected_calls": None,
        "daily_source": "",
        "weekly_attempts": 7,
        "weekly_calls_only": True,
        "weekly_source": f"{REG_F} §1006.14(b)(2): at most 7 call attempts in 7 consecutive days",
        "holds_source": f"{REG_F} §1006.6(c): cease communication on request; FDCPA §809(b): "
        "collection stops while a dispute is verified",
        "emergency_after": 3,
        "emergency_source": f"{REG_F} §1006.10: third parties only to find the consumer, "
        "never told of the debt (house setting: after 3 unreachable attempts)",
        "party_source": f"{REG_F} §1006.6(d): no communication about the debt with third parties",
        "emergency_note": SCRIPT,
        "promise_grace_days": 0,
    },
]

QUEUES = [
    {"name": "M1 early reminders", "from_bucket": "M1", "to_bucket": "M1"},
    {"name": "M2–M3 agents", "from_bucket": "M2", "to_bucket": "M3"},
    {"name": "M4+ senior and legal", "from_bucket": "M4", "to_bucket": ""},
    {"name": "Outside agency", "from_bucket": "", "to_bucket": "", "outside_agency": True},
]


def forwards(apps, schema_editor):
    CompliancePolicy = apps.get_model("collections", "CompliancePolicy")
    Queue = apps.get_model("collections", "Queue")
    for values in POLICIES:
        CompliancePolicy.objects.get_or_create(version=values["version"], defaults=values)
    for values in QUEUES:
        Queue.objects.get_or_create(name=values["name"], defaults=values)


def backwards(apps, schema_editor):
    apps.get_model("collections", "CompliancePolicy").objects.filter(
        version__in=[p["version"] for p in POLICIES]
    ).delete()
    apps.get_model("collections", "Queue").objects.filter(
        name__in=[q["name"] for q in QUEUES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("collections", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
