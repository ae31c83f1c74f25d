"""Promises to pay: recorded by the case's collector, judged kept or broken every night.

A promise is kept when repayments valued from the day it was made (not reversed) add up to its
amount by the promised date plus the grace days of the policy in force when it was made; it is
broken on the night that deadline passes without that. Kept early is kept: the night after the
money arrives.
"""

from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from debt_collection.access import CollectionsPerm
from debt_collection.models import Case, ContactAttempt, PromiseState, PromiseToPay
from debt_collection.selectors import active_policy, case_priority, jsonish
from debt_collection.services.common import lock_case
from lending.access import require, stored_user
from lending.close_of_business.bulk import bulk_set
from lending.errors import LendingError, LendingErrorCode
from lending.models import AuditEvent, Transaction, TransactionKind
from lending.money import ZERO
from lending.services.audit import audit_log
from lending.validation import parse_amount

MAX_PROMISE_DAYS = 90  # a promise further out is a payment plan, not a promise


@transaction.atomic
def promise_record(
    *, case_id, amount, promised_for: date, acting_user, contact_id=None
) -> PromiseToPay:
    require(acting_user, CollectionsPerm.RECORD_PROMISE, to=_("record promises to pay"))
    case = lock_case(case_id, acting_user)
    amount = parse_amount(amount, field="amount", currency=case.loan.currency)
    if amount <= 0:
        raise LendingError(LendingErrorCode.OUT_OF_RANGE, _("must be above 0"), field="amount")
    today = timezone.localdate()
    if not isinstance(promised_for, date) or not (
        today <= promised_for <= today + timedelta(days=MAX_PROMISE_DAYS)
    ):
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("must be from today to %s days ahead") % MAX_PROMISE_DAYS,
            field="promised_for",
        )
    contact = None
    if contact_id is not None:
        contact = ContactAttempt.objects.filter(pk=contact_id, case=case).first()
        if contact is None:
            raise LendingError(
                LendingErrorCode.NOT_FOUND, _("no such contact on this case"), field="contact"
            )
    promise = PromiseToPay.objects.create(
        case=case,
        amount=amount,
        promised_for=promised_for,
        made_on=today,
        grace_days=active_policy().promise_grace_days,
        contact=contact,
        recorded_by=stored_user(acting_user),
    )
    audit_log(
        actor=acting_user,
        action="promise.record",
        obj=promise,
        summary=f"{amount} by {promised_for}",
        data={"case": case.pk},
    )
    return promise


def deadline(promise: PromiseToPay) -> date:
    return promise.promised_for + timedelta(days=promise.grace_days)


def promise_check(*, business_date: date) -> dict:
    """The nightly step (book-level: pending promises are few, and a loan paid up leaves the
    night's chunks): one read of the pending promises, one of their loans' repayments, bulk
    writes. A re-run finds nothing pending to decide and changes nothing."""
    promises = list(
        PromiseToPay.objects.select_for_update(of=("self",))
        .filter(state=PromiseState.PENDING, made_on__lte=business_date)
        .select_related("case")
        .order_by("pk")
    )
    counts = {"promises_kept": 0, "promises_broken": 0}
    if not promises:
        return counts
    payments = defaultdict(list)
    for loan_id, value_date, amount in Transaction.objects.filter(
        kind=TransactionKind.REPAYMENT,
        reversed_by__isnull=True,
        loan_id__in={p.case.loan_id for p in promises},
        value_date__gte=min(p.made_on for p in promises),
        value_date__lte=business_date,
    ).values_list("loan_id", "value_date", "amount"):
        payments[loan_id].append((value_date, amount))
    broken_cases = defaultdict(int)
    events = []
    for promise in promises:
        until = min(deadline(promise), business_date)
        promise.paid = sum(
            (a for d, a in payments[promise.case.loan_id] if promise.made_on <= d <= until), ZERO
        )
        if promise.paid >= promise.amount:
            promise.state, promise.resolved_on = PromiseState.KEPT, business_date
            counts["promises_kept"] += 1
        elif business_date >= deadline(promise):
            promise.state, promise.resolved_on = PromiseState.BROKEN, business_date
            counts["promises_broken"] += 1
            broken_cases[promise.case_id] += 1
        else:
            continue
        events.append(
            AuditEvent(
                action=f"promise.{promise.state}",
                object_type="collections.promisetopay",
                object_id=str(promise.pk),
                summary=f"{promise.paid} of {promise.amount}",
            )
        )
    bulk_set(
        PromiseToPay,
        [(p.pk, p.state, p.paid, p.resolved_on) for p in promises],
        ["state", "paid", "resolved_on"],
    )
    # A broken promise raises the case's priority at once.
    cases = list(Case.objects.select_for_update().filter(pk__in=broken_cases).order_by("pk"))
    for case in cases:
        case.broken_promises += broken_cases[case.pk]
        score = case_priority(case, business_date)
        case.priority, case.priority_parts = score.score, score.parts
    bulk_set(
        Case,
        [(c.pk, c.broken_promises, c.priority, jsonish(c.priority_parts)) for c in cases],
        ["broken_promises", "priority", "priority_parts"],
    )
    AuditEvent.objects.bulk_create(events)
    return counts
