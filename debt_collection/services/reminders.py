"""Reminders and notices (issue 10): written by the night, sent inside the contact hours.

`reminder_write` is the book-level nightly step. The night that closes date D prepares the
reminders that go out the next morning (the send day, D + 1): due 3 days after the send day,
due on it, and 1 and 7 days overdue on it. A chunked step would not see the first two (the
night's chunks hold only due-or-overdue loans), so the step finds the installments itself, by
due date through the partial index `inst_unsettled_due`, and writes them: one INSERT … SELECT
for the four kinds on PostgreSQL (`debt_collection.reminder_sql`), elsewhere a chunk at a time,
one read per table and one bulk insert (`_write_by_rows`); tests hold both to the same rows. A
re-run of the date writes nothing (the unique (installment, kind) constraint stands behind it).

`reminders_send` empties the outbox through the configured sender (`debt_collection.senders`)
when the borrower's local time is inside the active policy's contact hours; outside them the
reminder waits. A reminder whose send day has passed in the borrower's time zone expires (its
amount and wording are stale); one whose installment was paid, or whose borrower is under a
contact hold, is cancelled.
"""

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from debt_collection import compliance, notices
from debt_collection.models import (
    KIND_OFFSETS,
    Case,
    CaseStatus,
    ContactHold,
    Reminder,
    ReminderKind,
    ReminderState,
    ReminderTemplate,
)
from debt_collection.reminder_sql import write_reminders
from debt_collection.selectors import active_policy
from debt_collection.senders import Message, configured_sender
from lending.access import require, stored_user
from lending.close_of_business.lending_steps import lpr_on
from lending.errors import LendingError, LendingErrorCode
from lending.models import Installment, LoanStatus, LprRate
from lending.services.audit import audit_log
from lending.validation import clean_text

CHUNK = 5000
SEND_BATCH = 200
MAX_ATTEMPTS = 5
RATE_PLACES = Decimal("0.000001")
SEND_PERMISSION = "collections.send_reminders"
EDIT_PERMISSION = "collections.change_remindertemplate"


def reminder_language() -> str:
    # Lending keeps no language per borrower; the platform's borrowers read Chinese by default.
    return getattr(settings, "COLLECTIONS_REMINDER_LANGUAGE", "") or "zh-hans"


def due_dates_for(business_date: date) -> dict[str, date]:
    """kind -> the due date whose installments get that reminder from the night of the date."""
    send_on = business_date + timedelta(days=1)
    return {kind: send_on - timedelta(days=offset) for kind, offset in KIND_OFFSETS.items()}


def set_based_sql() -> bool:
    return connection.vendor == "postgresql"


def reminder_write(*, business_date: date) -> dict:
    """The nightly step: the next morning's reminders into the outbox, once per installment
    and kind."""
    dues = due_dates_for(business_date)
    params = {
        "d": business_date,
        "send_on": business_date + timedelta(days=1),
        "language": reminder_language(),
        "tz": settings.TIME_ZONE,
        "kinds": list(dues),
        "dues": list(dues.values()),
    }
    if set_based_sql():
        overdue = [KIND_OFFSETS[kind] > 0 for kind in dues]
        return {"reminders_written": write_reminders(overdue=overdue, params=params)}
    written = 0
    ids = list(
        Installment.objects.filter(due_date__in=list(dues.values()), settled_on__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), CHUNK):
        written += _write_by_rows(ids[start : start + CHUNK], params)
    return {"reminders_written": written}


def _quantize_rate(rate: Decimal) -> Decimal:
    return rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _write_by_rows(ids: list[int], params: dict) -> int:
    kind_for = dict(zip(params["dues"], params["kinds"], strict=True))
    rows = list(
        Installment.objects.filter(
            pk__in=ids, settled_on__isnull=True, loan__status=LoanStatus.ACTIVE
        ).select_related("loan")
    )
    loan_ids = {i.loan_id for i in rows}
    zones = dict(
        Case.objects.filter(loan_id__in=loan_ids, status=CaseStatus.OPEN).values_list(
            "loan_id", "time_zone"
        )
    )
    done = set(
        Reminder.objects.filter(installment_id__in=ids).values_list("installment_id", "kind")
    )
    rates = list(
        LprRate.objects.order_by("-effective_date").values_list("effective_date", "one_year_rate")
    )
    new = []
    for inst in rows:
        loan, kind = inst.loan, kind_for[inst.due_date]
        # Money paid ahead waits as a credit balance for the due date: only the rest is due.
        amount = inst.outstanding - loan.credit_balance
        # Overdue notices follow lending's arrears tolerance: a remainder it ignores is not
        # overdue; before the due date anything unpaid is worth the reminder.
        floor = loan.arrears_tolerance if KIND_OFFSETS[kind] > 0 else 0
        if (inst.pk, kind) in done or amount <= floor:
            continue
        if loan.penalty_rate_type == "absolute":
            penalty = loan.penalty_rate_value
        else:
            penalty = _quantize_rate(loan.annual_rate * loan.penalty_rate_value)
        cap = loan.cost_cap_value
        if loan.cost_cap_type == "lpr_multiple":
            try:
                cap = _quantize_rate(cap * lpr_on(rates, loan.start_date))
            except LookupError:
                cap = None  # no LPR in force: the reminder says the cap is unknown, not a guess
        grace_until = inst.due_date + timedelta(days=loan.grace_days)
        new.append(
            Reminder(
                installment_id=inst.pk,
                loan_id=loan.pk,
                borrower_id=loan.borrower_id,
                kind=kind,
                language=params["language"],
                business_date=params["d"],
                send_on=params["send_on"],
                time_zone=zones.get(loan.pk, params["tz"]),
                due_date=inst.due_date,
                amount_due=amount,
                currency=loan.currency,
                penalty_rate=penalty,
                penalty_from=inst.due_date if loan.penalty_start == "due_date" else grace_until,
                grace_until=grace_until,
                cost_cap_rate=cap,
            )
        )
    Reminder.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


# --- sending ---------------------------------------------------------------------------


def facts_of(reminder: Reminder) -> notices.Facts:
    return notices.Facts(
        reference=reminder.loan.reference,
        amount_due=reminder.amount_due,
        currency=reminder.currency,
        due_date=reminder.due_date,
        penalty_rate=reminder.penalty_rate,
        penalty_from=reminder.penalty_from,
        grace_until=reminder.grace_until,
        cost_cap_rate=reminder.cost_cap_rate,
        send_on=reminder.send_on,
    )


def template_for(templates: dict, kind: str, language: str) -> ReminderTemplate | None:
    """The template in the reminder's language, else the site's, else English."""
    for lang in (language, settings.LANGUAGE_CODE, "en"):
        if (kind, lang) in templates:
            return templates[(kind, lang)]
    return None


def reminder_render(reminder: Reminder, templates: dict | None = None) -> tuple[str, str]:
    """The subject and text a reminder would be sent with now (the admin previews this)."""
    if templates is None:
        templates = {(t.kind, t.language): t for t in ReminderTemplate.objects.all()}
    template = template_for(templates, reminder.kind, reminder.language)
    if template is None:
        raise LookupError(f"no template for {reminder.kind}")
    facts = facts_of(reminder)
    return notices.render(template.subject, facts), notices.render(template.body, facts)


def _verdict(reminder: Reminder, now: datetime, rules, holds: set[int]) -> tuple | None:
    """Why this reminder is not sent now: a final state (cancelled/expired) with its reason,
    "held" (outside the hours, or its day not yet come), or None to send it."""
    if reminder.installment.settled_on is not None:
        return ReminderState.CANCELLED, _("paid before it was sent")
    if reminder.loan.status != LoanStatus.ACTIVE:
        return ReminderState.CANCELLED, _("the loan is no longer active")
    local_day = compliance.local(now, reminder.time_zone).date()
    if local_day > reminder.send_on:
        return ReminderState.EXPIRED, _("its day passed before it could be sent")
    # The one rule implementation the contact guard uses: holds, then the hours in the
    # borrower's time zone. A reminder is a notice, not a collection attempt: the daily and
    # weekly limits do not count it (no past attempts are passed).
    breach = compliance.check(
        rules,
        compliance.Attempt(at=now, channel="sms", party=compliance.BORROWER),
        tz=reminder.time_zone,
        past=[],
        holds=["hold"] if reminder.borrower_id in holds else [],
    )
    if breach is not None and breach.rule == compliance.HOLD:
        return ReminderState.CANCELLED, _("the borrower is under a contact hold")
    if breach is not None or local_day < reminder.send_on:
        return "held", ""
    return None


def reminders_send(*, acting_user, now: datetime | None = None, limit: int = 10_000) -> dict:
    """Send what may go now; return counts by what happened (sent, held, failed, …)."""
    require(acting_user, SEND_PERMISSION, to=_("send reminders"))
    now = now or timezone.now()
    rules = active_policy().rules()
    path, sender = configured_sender()
    templates = {(t.kind, t.language): t for t in ReminderTemplate.objects.all()}
    counts: Counter = Counter()
    last_pk, seen = 0, 0
    while seen < limit:
        with transaction.atomic():
            # skip_locked: two senders running at once each take different reminders.
            batch = list(
                Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(state=ReminderState.PENDING, pk__gt=last_pk)
                .select_related("loan", "borrower", "installment")
                .order_by("pk")[: min(SEND_BATCH, limit - seen)]
            )
            if not batch:
                break
            last_pk, seen = batch[-1].pk, seen + len(batch)
            holds = set(
                ContactHold.objects.filter(
                    borrower_id__in={r.borrower_id for r in batch}, lifted_at__isnull=True
                ).values_list("borrower_id", flat=True)
            )
            changed = [r for r in batch if _handle(r, now, rules, holds, path, sender, templates)]
            for r in changed:
                counts[str(r.state) if r.state != ReminderState.PENDING else "retry"] += 1
            if len(batch) > len(changed):
                counts["held"] += len(batch) - len(changed)
            Reminder.objects.bulk_update(
                changed,
                ["state", "attempts", "last_error", "sender", "subject", "body", "sent_at"],
            )
    return dict(counts)


def _handle(reminder, now, rules, holds, path, sender, templates) -> bool:
    """Decide and, if it may go, send one reminder; True when the row changed."""
    verdict = _verdict(reminder, now, rules, holds)
    if verdict is not None:
        state, reason = verdict
        if state == "held":
            return False
        reminder.state, reminder.last_error = state, reason
        return True
    reminder.attempts += 1
    try:
        subject, body = reminder_render(reminder, templates)
        sender.send(
            Message(
                reminder_id=reminder.pk,
                mobile=reminder.borrower.mobile,
                subject=subject,
                body=body,
                language=reminder.language,
            )
        )
    except Exception as exc:  # a sender's failure is recorded and retried, never lost
        reminder.last_error = f"{type(exc).__name__}: {exc}"[:255]
        if reminder.attempts >= MAX_ATTEMPTS:
            reminder.state = ReminderState.FAILED
        return True
    reminder.state, reminder.sent_at, reminder.sender = ReminderState.SENT, now, path
    reminder.subject, reminder.body, reminder.last_error = subject[:200], body, ""
    return True


# --- templates ---------------------------------------------------------------------------


@transaction.atomic
def reminder_template_save(
    *, acting_user, kind: str, language: str, subject: str, body: str
) -> ReminderTemplate:
    """Write the template of a kind and language; it must state what issue 10 requires."""
    require(acting_user, EDIT_PERMISSION, to=_("edit reminder templates"))
    if kind not in ReminderKind.values:
        raise LendingError(LendingErrorCode.INVALID, _("unknown kind"), field="kind")
    if language not in dict(settings.LANGUAGES):
        raise LendingError(LendingErrorCode.INVALID, _("unknown language"), field="language")
    subject = clean_text(subject, field="subject", max_length=200)
    body = clean_text(body, field="body", max_length=4000)
    for name, text in (("subject", subject), ("body", body)):
        if not text:
            raise LendingError(LendingErrorCode.REQUIRED, _("must not be empty"), field=name)
        error = notices.syntax_error(text)
        if error:
            raise LendingError(LendingErrorCode.INVALID, error, field=name)
    missing = notices.missing(body)
    if missing:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("the text must state %s") % ", ".join("{{ " + m + " }}" for m in missing),
            field="body",
        )
    template, _created = ReminderTemplate.objects.update_or_create(
        kind=kind,
        language=language,
        defaults={"subject": subject, "body": body, "updated_by": stored_user(acting_user)},
    )
    audit_log(
        actor=acting_user, action="reminder_template.save", obj=template, summary=str(template)
    )
    return template
