"""Celery adapters for collections: call the service, nothing else (DESIGN §3.2)."""

from celery import shared_task

from debt_collection.services.reminders import reminders_send
from lending.access import SYSTEM


@shared_task(name="collections.send_reminders", ignore_result=True)
def send_reminders_task() -> dict:
    """Beat runs it every 15 minutes; the service sends only inside the contact hours."""
    return reminders_send(acting_user=SYSTEM)
