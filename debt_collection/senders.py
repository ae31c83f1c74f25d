"""Reminder senders: how a rendered reminder leaves the building.

`settings.COLLECTIONS_REMINDER_SENDER` names a class by dotted path; the service calls its
`send(message)` and marks the reminder sent when it returns (a raise is a failed attempt,
retried later). Two ship: the log (the default: nothing leaves, the text is logged with the
mobile masked) and Django's e-mail backend, to an e-mail-to-SMS gateway address built from the
mobile (`COLLECTIONS_REMINDER_EMAIL_DOMAIN`), so whatever EMAIL_BACKEND is configured carries it.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from lending.identity import mask_mobile

logger = logging.getLogger("debt_collection.reminders")
DEFAULT_SENDER = "debt_collection.senders.LogSender"


@dataclass(frozen=True)
class Message:
    reminder_id: int
    mobile: str  # plain: the sender needs it; never log it unmasked
    subject: str
    body: str
    language: str


class LogSender:
    def send(self, message: Message) -> None:
        logger.info(
            "reminder %s to %s: %s\n%s",
            message.reminder_id,
            mask_mobile(message.mobile),
            message.subject,
            message.body,
        )


class EmailSender:
    def __init__(self):
        self.domain = getattr(settings, "COLLECTIONS_REMINDER_EMAIL_DOMAIN", "")
        if not self.domain:
            raise ImproperlyConfigured(
                "EmailSender needs COLLECTIONS_REMINDER_EMAIL_DOMAIN (the SMS gateway's domain)"
            )

    def send(self, message: Message) -> None:
        send_mail(
            message.subject,
            message.body,
            None,  # DEFAULT_FROM_EMAIL
            [f"{message.mobile}@{self.domain}"],
            fail_silently=False,
        )


def configured_sender() -> tuple[str, object]:
    path = getattr(settings, "COLLECTIONS_REMINDER_SENDER", "") or DEFAULT_SENDER
    return path, import_string(path)()
