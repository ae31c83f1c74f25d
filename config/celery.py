"""The Celery application. Tasks live in each app's tasks.py and are found by autodiscovery."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lending_backoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def _load_settings(sender, **kwargs):
    """Load Django's settings first: a missing or bad one stops the worker in one line."""
    from django.conf import settings

    from config.startup import settings_or_exit

    with settings_or_exit(1):
        settings.INSTALLED_APPS  # noqa: B018 - the import is the check
