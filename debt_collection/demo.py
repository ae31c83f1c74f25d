"""The collections side of the demo book (`manage.py load_collections_demo`, after load_demo and
load_risk_demo), filled through the services like the rest of the demo.

load_demo's nights already opened the cases and wrote the reminders (the collections steps are
registered), with no collector in any queue yet. This adds the demo collectors to the queues,
has the manager hand out the backlog (`case_reassign`: each case to the member with the fewest
open cases), logs contacts — some refused by the compliance guard — records promises, one
paid, and sends the reminders due now.

A demo shortcut, said plainly: promises are made today (the service allows no other day), and
the promise check is run for today at once so the book shows kept and broken promises without
waiting for tonight's close. A promise for today with nothing paid reads as broken already;
tonight's close finds every promise decided and changes nothing.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from debt_collection.models import Case, CaseStatus, ContactAttempt, Queue
from debt_collection.services.cases import case_reassign
from debt_collection.services.contacts import contact_log
from debt_collection.services.promises import promise_check, promise_record
from debt_collection.services.queues import queue_save
from debt_collection.services.reminders import reminders_send
from lending import roles
from lending.access import SYSTEM
from lending.demo import DemoLogin, demo_login
from lending.errors import LendingError
from lending.models import BusinessDayRun
from lending.services.repayments import repayment_post

LOGINS = (
    DemoLogin("collector", roles.COLLECTOR),
    DemoLogin("collector2", roles.COLLECTOR),
    DemoLogin("manager", roles.COLLECTIONS_MANAGER),
)
# queue name -> its demo members
MEMBERS = {
    "M1 early reminders": ("collector", "collector2"),
    "M2–M3 agents": ("collector", "collector2"),
    "M4+ senior and legal": ("collector2",),
}


class NotReady(Exception):
    pass


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")


def load_collections_demo(*, stdout=None) -> dict:
    """Fill the collections demo once; a second call changes nothing."""
    if ContactAttempt.objects.exists():
        _say(stdout, "The collections demo is already loaded (contacts exist): nothing changed.")
        return {"already_loaded": True}
    last = BusinessDayRun.objects.last_closed_date()
    if last is None:
        raise NotReady("no night is closed yet: run load_demo first")
    with transaction.atomic():
        users = {login.username: demo_login(login)[0] for login in LOGINS}
        manager = users["manager"]
        for queue in Queue.objects.filter(name__in=MEMBERS).order_by("pk"):
            members = [users[name] for name in MEMBERS[queue.name]]
            queue_save(values={}, members=members, queue_id=queue.pk, acting_user=manager)
        backlog = list(
            Case.objects.filter(status=CaseStatus.OPEN, collector__isnull=True)
            .exclude(queue__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if backlog:
            case_reassign(
                case_ids=backlog,
                reason="demo: the manager hands out the backlog",
                acting_user=manager,
            )
        counts = {"assigned": len(backlog)}
        for name in ("collector", "collector2"):
            counts |= {f"{name}_{k}": v for k, v in _work(users[name], last, SYSTEM).items()}
        counts |= promise_check(business_date=timezone.localdate())
    counts |= {f"reminders_{k}": v for k, v in reminders_send(acting_user=SYSTEM).items()}
    for key, value in sorted(counts.items()):
        _say(stdout, f"  {key:<28} {value}")
    _say(stdout, "Demo logins: collector, collector2, manager (password demo-<username>-2026).")
    return counts


def _at(day, hour, minute, tz) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz))


def _try(**kwargs) -> bool:
    try:
        contact_log(**kwargs)
    except LendingError:
        return False  # refused by the guard: the refusal is recorded for the manager
    return True


def _work(collector, day, poster) -> dict:
    """A collector's day on their first cases: calls inside the hours, one at 22:30 (refused),
    a fourth connected call to one debtor (refused), promises — one paid today, one not."""
    cases = list(
        Case.objects.filter(status=CaseStatus.OPEN, collector=collector).order_by("-priority", "pk")
    )[:4]
    logged = refused = promised = 0
    for n, case in enumerate(cases):
        tz = case.time_zone
        common = {"case_id": case.pk, "party": "borrower", "acting_user": collector}
        ok = _try(
            **common,
            channel="call",
            contacted_at=_at(day, 10, n, tz),
            connected=True,
            outcome="promise_to_pay",
            note="demo",
        )
        logged += ok
        if n == 0:
            refused += not _try(
                **common,
                channel="call",
                contacted_at=_at(day, 22, 30, tz),
                connected=False,
                outcome="no_answer",
            )
        if n == 1:
            for hour in (12, 16, 18):  # the fourth connected call of the day is one too many
                ok = _try(
                    **common,
                    channel="call",
                    contacted_at=_at(day, hour, 0, tz),
                    connected=True,
                    outcome="other",
                )
                logged, refused = logged + ok, refused + (not ok)
        if n < 2:
            amount = min(case.overdue_amount, case.total_outstanding) or case.total_outstanding
            promise_record(
                case_id=case.pk,
                amount=amount,
                promised_for=timezone.localdate(),
                acting_user=collector,
            )
            promised += 1
            if n == 0:  # kept: paid today
                repayment_post(
                    loan_id=case.loan_id,
                    amount=amount,
                    value_date=timezone.localdate(),
                    acting_user=poster,
                    idempotency_key=f"demo-promise-{case.pk}",
                )
    return {"contacts": logged, "refused": refused, "promises": promised}
