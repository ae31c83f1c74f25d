"""Queues: a manager sets their bucket range and members (active collectors only)."""

from django.db import transaction
from django.utils.translation import gettext as _

from debt_collection.access import CollectionsPerm
from debt_collection.models import Queue
from lending.access import may, require
from lending.errors import LendingError, LendingErrorCode
from lending.services.audit import audit_log
from lending.services.delinquency import bucket_table
from lending.validation import clean_text

FIELDS = ("name", "from_bucket", "to_bucket", "outside_agency", "active")


@transaction.atomic
def queue_save(*, values: dict, members, acting_user, queue_id=None) -> Queue:
    perm = "collections.add_queue" if queue_id is None else "collections.change_queue"
    require(acting_user, perm, to=_("edit collection queues"))
    queue = Queue() if queue_id is None else Queue.objects.select_for_update().get(pk=queue_id)
    for name in FIELDS:
        if name in values:
            setattr(queue, name, values[name])
    queue.name = clean_text(queue.name, field="name", max_length=100, required=True)
    if Queue.objects.filter(name=queue.name).exclude(pk=queue.pk).exists():
        raise LendingError(
            LendingErrorCode.DUPLICATE,
            _("a queue named %(name)s exists already") % {"name": queue.name},
            field="name",
        )
    codes = [b.code for b in bucket_table(checked=False)]
    for field in ("from_bucket", "to_bucket"):
        code = getattr(queue, field)
        if code and code not in codes:
            raise LendingError(
                LendingErrorCode.INVALID,
                _("%(code)s is not a bucket (%(codes)s)")
                % {"code": code, "codes": ", ".join(codes)},
                field=field,
            )
    if (
        queue.from_bucket
        and queue.to_bucket
        and codes.index(queue.to_bucket) < codes.index(queue.from_bucket)
    ):
        raise LendingError(
            LendingErrorCode.INVALID, _("the range ends before it starts"), field="to_bucket"
        )
    if not queue.outside_agency and not queue.from_bucket:
        raise LendingError(
            LendingErrorCode.REQUIRED,
            _("a queue the nightly run fills needs its first bucket"),
            field="from_bucket",
        )
    members = list(members)
    for member in members:
        # Only someone who may work a case can be handed one by the night.
        if not may(member, CollectionsPerm.LOG_CONTACT):
            raise LendingError(
                LendingErrorCode.INVALID,
                _("%(user)s may not work collection cases (an active collector is needed)")
                % {"user": member.get_username()},
                field="members",
            )
    queue.save()
    queue.members.set(members)
    audit_log(
        actor=acting_user,
        action="queue.save",
        obj=queue,
        summary=queue.name,
        data={"members": sorted(m.pk for m in members)},
    )
    return queue
