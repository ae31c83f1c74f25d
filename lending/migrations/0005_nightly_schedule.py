"""Schedule the nightly close in django-celery-beat: 00:30 TIME_ZONE, for the previous date.

Operators change the time (or pause it) in the admin under Periodic tasks.
"""

from django.conf import settings
from django.db import migrations

TASK_NAME = "Close of business (previous date)"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="0",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "lending.close_business_days",
            "crontab": crontab,
            "description": "Flags overdue loans and accrues penalty interest for yesterday, "
            "catching up any missed dates in order.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0004_seed_buckets_and_lpr"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
