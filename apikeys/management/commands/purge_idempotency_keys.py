"""Delete Idempotency-Key rows older than API_IDEMPOTENCY_KEY_HOURS (default 24). Run it daily
(cron or a django-celery-beat schedule); an expired key is ignored by the API anyway."""

from django.core.management.base import BaseCommand

from apikeys.store import purge


class Command(BaseCommand):
    help = "Delete API idempotency keys older than API_IDEMPOTENCY_KEY_HOURS (default 24)."

    def handle(self, *args, **options):
        deleted = purge()
        self.stdout.write(f"{deleted} idempotency keys deleted")
