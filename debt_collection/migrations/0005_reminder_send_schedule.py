"""Schedule the reminder sender in django-celery-beat: every 15 minutes. It sends only inside
the contact hours in each borrower's time zone, so running it often costs nothing outside them.
Operators change or pause it in the admin under Periodic tasks."""

from django.db import migrations

TASK_NAME = "Send collection reminders"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "collections.send_reminders",
            "interval": every,
            "description": "Sends pending reminders from the outbox inside the contact hours.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("collections", "0004_default_reminder_templates"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
