"""The collections side of the demo book (`manage.py load_collections_demo`, after load_demo and
load_risk_demo), filled through the services like the rest of the demo.

load_demo's nights already opened the cases and wrote the reminders (the collections steps are
registered), with no collector in any queue yet. This adds the demo collectors to the queues,
has the manager hand out the backlog (`case_reassign`: each case to the member with the fewest
open cases), logs contacts — some refused by the compliance guard — records promises (every
other one paid), has waivers of penalty asked for and decided by the manager (four eyes), and
sends the reminders due now.

A demo shortcut, said plainly: promises are made today (the service allows no other day), and
the promise check is run for today at once so the book shows kept and broken promises without
waiting for tonight's close. A promise for today with nothing paid reads as broken already;
tonight's close finds every promise decided and changes nothing.
"""

import time
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from debt_collection.models import Case, CaseStatus, ContactAttempt, Queue
from debt_collection.services.cases import case_reassign
from debt_collection.services.concessions import waiver_decide, waiver_propose
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
    started = time.perf_counter()
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
            worked = _work(users[name], last, SYSTEM, manager)
            counts |= {f"{name}_{k}": v for k, v in worked.items()}
        counts |= promise_check(business_date=timezone.localdate())
    counts |= {f"reminders_{k}": v for k, v in reminders_send(acting_user=SYSTEM).items()}
    for key, value in sorted(counts.items()):
        _say(stdout, f"  {key:<28} {value}")
    _say(stdout, "Demo logins: collector, collector2, manager (password demo-<username>-2026).")
    _say(stdout, f"Loaded the collections demo in {time.perf_counter() - started:.1f} s.")
    return counts


def _at(day, hour, minute, tz) -> datetime:
    return datetime.combine(day, clock(hour, minute), tzinfo=ZoneInfo(tz))


def _try(**kwargs) -> bool:
    try:
        contact_log(**kwargs)
    except LendingError:
        return False  # refused by the guard: the refusal is recorded for the manager
    return True


WORKED_CASES = 12  # per collector, highest priority first
PROMISES = 6  # the first cases promise to pay today; every other one keeps it
WAIVERS = 3  # penalty waivers each collector asks for: approved, rejected, approved
OUTCOMES = ("promise_to_pay", "refused", "no_answer", "other", "dispute", "no_answer")
WAIVER_REASON = "borrower lost their job; pays the principal and interest if penalty is waived"


def _work(collector, day, poster, manager) -> dict:
    """A collector's last two days on their first cases: calls and texts inside the hours, one
    at 22:30 (refused), a fourth connected call to one debtor (refused), promises for today —
    every other one paid — and waivers of penalty asked for, two approved by the manager and
    one rejected."""
    cases = list(
        Case.objects.filter(status=CaseStatus.OPEN, collector=collector).order_by("-priority", "pk")
    )[:WORKED_CASES]
    counts = {"contacts": 0, "refused": 0, "promises": 0, "waivers": 0}
    for n, case in enumerate(cases):
        tz = case.time_zone
        common = {"case_id": case.pk, "party": "borrower", "acting_user": collector}
        before = day - timedelta(days=1)
        if before >= case.opened_on:  # yesterday's first attempt, unanswered
            counts["contacts"] += _try(
                **common,
                channel="call",
                contacted_at=_at(before, 9, 30 + n, tz),
                connected=False,
                outcome="no_answer",
            )
        outcome = "promise_to_pay" if n < PROMISES else OUTCOMES[n % len(OUTCOMES)]
        counts["contacts"] += _try(
            **common,
            channel="call",
            contacted_at=_at(day, 10, n, tz),
            connected=outcome != "no_answer",
            outcome=outcome,
            note="demo",
        )
        if n % 4 == 3:
            counts["contacts"] += _try(
                **common,
                channel="sms",
                contacted_at=_at(day, 15, n, tz),
                connected=True,
                outcome="other",
                note="repayment link sent",
            )
        if n == 0:
            counts["refused"] += not _try(
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
                counts["contacts"] += ok
                counts["refused"] += not ok
        if n < PROMISES:
            amount = min(case.overdue_amount, case.total_outstanding) or case.total_outstanding
            promise_record(
                case_id=case.pk,
                amount=amount,
                promised_for=timezone.localdate(),
                acting_user=collector,
            )
            counts["promises"] += 1
            if n % 2 == 0:  # kept: paid today
                repayment_post(
                    loan_id=case.loan_id,
                    amount=amount,
                    value_date=timezone.localdate(),
                    acting_user=poster,
                    idempotency_key=f"demo-promise-{case.pk}",
                )
    # Waivers on the cases nobody paid today, last first: the second one asked is rejected.
    unpaid = [c for n, c in enumerate(cases) if not (n < PROMISES and n % 2 == 0)]
    for case in reversed(unpaid):
        if counts["waivers"] == WAIVERS:
            break
        counts["waivers"] += _waiver(case, collector, manager, approve=counts["waivers"] != 1)
    return counts


def _waiver(case, collector, manager, *, approve: bool) -> bool:
    """Half the penalty the loan owes, asked for by the collector, decided by the manager."""
    penalty = (case.loan.penalty_outstanding / 2).quantize(Decimal("0.01"))
    if penalty <= 0:
        return False
    try:
        proposal = waiver_propose(
            case_id=case.pk, penalty=penalty, reason=WAIVER_REASON, acting_user=collector
        )
    except LendingError:
        return False  # nothing waivable fallen due on this loan
    waiver_decide(
        proposal_id=proposal.pk,
        approve=approve,
        note="hardship confirmed by payslips" if approve else "no proof of hardship yet",
        acting_user=manager,
    )
    return True
