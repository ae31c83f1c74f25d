"""A loan's history re-lived in value-date order, night by night: pure, no Django (DESIGN §6).

A payment valued before nights that already closed changed what those nights should have seen:
the penalty base of every day since, what each later payment paid first, when the loan was
cured. `replay` re-lives the loan from its disbursement with the rules the postings and the
nights use — the same functions (`allocate`, `payoff_quote`, `accrue_loan`, `days_past_due`) — so
the services can post the difference between the history with and without the new posting
(lending.services.reprocess). Posting in any order then ends where value-date order would have.

Within a day the postings come first, in the order they reached the system, then the night:
credit pays what fell due, the loan is flagged, penalty accrues (or, inside the arrears
tolerance, the day counts as accrued for nothing).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from lending.allocation import (
    COMPONENTS,
    InstallmentState,
    Parts,
    allocate,
    due_installments,
    payoff_quote,
)
from lending.delinquency import Bucket, bucket_for, days_past_due
from lending.i18n import gettext_noop
from lending.money import ZERO
from lending.penalty import (
    BaseChange,
    CostCap,
    OverdueInstallment,
    PenaltyTerms,
    accrue_loan,
)
from lending.schedules import DayCount


class ReplayError(ValueError):
    """The history cannot be re-lived as posted (money taken out that would not be there).
    `template` % `params` is the English message; the Django side translates the template."""

    def __init__(self, template: str, **params):
        self.template, self.params = template, params
        self.message = template % params
        super().__init__(self.message)


@dataclass(frozen=True)
class ReplayTerms:
    penalty: PenaltyTerms
    allocation_order: tuple[str, ...]
    annual_rate: Decimal
    day_count: DayCount
    currency: str
    arrears_tolerance: Decimal
    cost_cap: CostCap
    upfront_fee: Decimal
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True)
class Payment:
    """Money received: allocated by the waterfall as of its value date."""

    key: object  # the transaction's id, or any marker for one not posted yet
    value_date: date
    amount: Decimal


@dataclass(frozen=True)
class Fixed:
    """A posting the replay keeps as it is (disbursement, fee, waiver, settlement discount,
    refund, recovery): its lines and credit land on its value date whatever came before."""

    value_date: date
    charge: bool  # True: the lines add to what is owed; False: they settle it
    lines: dict[int, Parts] = field(default_factory=dict)  # installment seq → parts
    credit: Decimal = ZERO
    # A waiver or settlement discount forgives what is owed, never more: re-lived after money
    # valued earlier that paid part of it, it settles only what is left (the rest of its lines
    # is moved back by the re-allocation), instead of refusing the earlier money.
    capped: bool = False
    key: object = None  # the transaction's id: a posting taken out of the history by it


Event = Payment | Fixed


@dataclass
class InstallmentRecord:
    """One installment as the replay moves it (`*_due`/`*_settled` as the caches hold them)."""

    seq: int
    due_date: date
    period_start: date
    due: Parts = field(default_factory=Parts)
    settled: Parts = field(default_factory=Parts)
    penalty_accrued: Decimal = ZERO
    accrued_through: date | None = None
    settled_on: date | None = None
    changes: list[BaseChange] = field(default_factory=list)

    @property
    def outstanding(self) -> Parts:
        return self.due - self.settled


@dataclass(frozen=True)
class Flag:
    dpd: int
    bucket: str
    overdue: Decimal


@dataclass
class Replay:
    installments: dict[int, InstallmentRecord]  # by seq
    credit: Decimal = ZERO
    closed_on: date | None = None
    allocations: dict[object, tuple[dict[int, Parts], Decimal]] = field(default_factory=dict)
    flags: dict[date, Flag] = field(default_factory=dict)  # the night's dpd and bucket
    # Everything settled, by value date and installment seq: a correction is dated like the
    # settlements it corrects, so a later catch-up reads each day's base where it changed.
    settled_by_day: dict[date, dict[int, Parts]] = field(default_factory=dict)
    # Credit that refunds still to come take out: the money left the lender, so earlier-valued
    # money posted after it cannot spend that credit (it would refuse a real receipt).
    reserved: Decimal = ZERO


def replay(
    installments: Iterable[tuple[int, date, date]],
    events: Sequence[Event],
    terms: ReplayTerms,
    *,
    nights: tuple[date, date] | None,
) -> Replay:
    """Re-live the loan: `installments` as (seq, period start, due date), `events` in the order
    they were posted (a stable sort by value date keeps it within a day), and the nights from
    the first to the last date of `nights` (inclusive; None: no night has run)."""
    state = Replay({seq: InstallmentRecord(seq, due, start) for seq, start, due in installments})
    ordered = sorted(events, key=lambda e: e.value_date)
    first_night, last_night = nights or (None, None)
    days = {e.value_date for e in ordered}
    if nights:
        days.update(first_night + timedelta(n) for n in range((last_night - first_night).days + 1))
    pending = list(reversed(ordered))
    state.reserved = _refunds_in(pending)
    for day in sorted(days):
        while pending and pending[-1].value_date == day:
            event = pending.pop()
            state.reserved -= _refunds_in([event])
            _post(state, event, terms)
        if nights and first_night <= day <= last_night and state.closed_on is None:
            _night(state, day, terms)
    return state


def _refunds_in(events) -> Decimal:
    return -sum((e.credit for e in events if isinstance(e, Fixed) and e.credit < 0), ZERO)


def _states(state: Replay) -> list[InstallmentState]:
    return [
        InstallmentState(i.seq, i.due_date, i.period_start, i.due, i.settled)
        for i in sorted(state.installments.values(), key=lambda i: i.seq)
    ]


def _apply(state: Replay, lines: dict[int, Parts], on: date, *, charge: bool) -> None:
    for seq, parts in lines.items():
        if parts.is_zero():
            continue
        record = state.installments[seq]
        if charge:
            record.due = record.due + parts
        else:
            record.settled = record.settled + parts
            day = state.settled_by_day.setdefault(on, {})
            day[seq] = day.get(seq, Parts()) + parts
        sign = 1 if charge else -1
        if parts.principal or parts.interest:
            record.changes.append(BaseChange(on, sign * parts.principal, sign * parts.interest))
        outstanding = record.outstanding
        if any(getattr(outstanding, c) < 0 for c in COMPONENTS) or any(
            getattr(record.settled, c) < 0 for c in COMPONENTS
        ):
            raise ReplayError(
                gettext_noop("installment %(seq)s would be settled beyond what it owes on %(on)s"),
                seq=seq,
                on=on,
            )
        record.settled_on = (record.settled_on or on) if outstanding.total == 0 else None


def _total_outstanding(state: Replay) -> Decimal:
    return sum((i.outstanding.total for i in state.installments.values()), ZERO)


def _close_if_paid(state: Replay, on: date) -> None:
    if state.closed_on is None and _total_outstanding(state) == 0:
        state.closed_on = on


def _spendable(state: Replay) -> Decimal:
    return max(ZERO, state.credit - state.reserved)


def _spend_credit(state: Replay, on: date, terms: ReplayTerms, *, whole_loan: bool) -> None:
    spendable = _spendable(state)
    if spendable <= 0:
        return
    targets = _states(state) if whole_loan else due_installments(_states(state), on)
    lines, left = allocate(spendable, targets, terms.allocation_order)
    _apply(state, lines, on, charge=False)
    state.credit -= spendable - left


def _post(state: Replay, event: Event, terms: ReplayTerms) -> None:
    if isinstance(event, Fixed):
        _post_fixed(state, event)
    else:
        _post_payment(state, event, terms)


def _post_fixed(state: Replay, event: Fixed) -> None:
    on = event.value_date
    lines = _capped(state, event.lines) if event.capped else event.lines
    _apply(state, lines, on, charge=event.charge)
    state.credit += event.credit
    if state.credit < 0:
        raise ReplayError(
            gettext_noop("the credit refunded on %(on)s would not have been there"), on=on
        )
    if state.closed_on is not None and _total_outstanding(state) > 0:
        state.closed_on = None
    if not event.charge and lines:
        _close_if_paid(state, on)  # a waiver or discount that leaves nothing owed closes it


def _capped(state: Replay, lines: dict[int, Parts]) -> dict[int, Parts]:
    """Each line's parts, at most what its installment still owes of each."""
    capped = {}
    for seq, parts in lines.items():
        left = state.installments[seq].outstanding
        capped[seq] = Parts(
            *(min(getattr(parts, c), max(ZERO, getattr(left, c))) for c in COMPONENTS)
        )
    return capped


def _post_payment(state: Replay, event: Payment, terms: ReplayTerms) -> None:
    on = event.value_date
    if state.closed_on is not None:
        # Paid after the loan was paid off: all of it is the borrower's credit, to refund.
        state.credit += event.amount
        state.allocations[event.key] = ({}, event.amount)
        return
    quote = payoff_quote(
        _states(state),
        as_of=on,
        annual_rate=terms.annual_rate,
        day_count=terms.day_count,
        credit_balance=_spendable(state),
        currency=terms.currency,
    )
    is_payoff = event.amount >= quote.amount
    if is_payoff and quote.unearned_interest:
        cancelled = {seq: Parts(interest=-v) for seq, v in quote.unearned_interest.items()}
        _apply(state, cancelled, on, charge=True)
    _spend_credit(state, on, terms, whole_loan=is_payoff)
    targets = _states(state) if is_payoff else due_installments(_states(state), on)
    lines, left = allocate(event.amount, targets, terms.allocation_order)
    _apply(state, lines, on, charge=False)
    state.credit += left
    state.allocations[event.key] = (lines, left)
    _close_if_paid(state, on)


def _night(state: Replay, day: date, terms: ReplayTerms) -> None:
    unsettled = [i for i in state.installments.values() if i.settled_on is None]
    if _spendable(state) > 0 and any(i.due_date <= day for i in unsettled):
        _spend_credit(state, day, terms, whole_loan=False)
        _close_if_paid(state, day)
        if state.closed_on is not None:
            return
        unsettled = [i for i in unsettled if i.settled_on is None]
    late = [i for i in unsettled if i.due_date < day]
    overdue = sum((i.outstanding.total for i in late), ZERO)
    dpd = days_past_due(
        oldest_unpaid_due=min((i.due_date for i in late), default=None),
        overdue_amount=overdue,
        tolerance=terms.arrears_tolerance,
        as_of=day,
    )
    state.flags[day] = Flag(dpd, bucket_for(dpd, terms.buckets), overdue if dpd else ZERO)
    if dpd:
        _accrue(state, late, day, terms)
        return
    for record in late:
        # Past grace but within tolerance: the night owes nothing and counts as accrued.
        past_grace = (day - record.due_date).days > terms.penalty.grace_days
        if past_grace and (record.accrued_through is None or record.accrued_through < day):
            record.accrued_through = day


def _accrue(state: Replay, late: list[InstallmentRecord], day: date, terms: ReplayTerms):
    cost = sum(
        (i.due.interest + i.due.fee + i.due.penalty for i in state.installments.values()), ZERO
    )
    overdue = [
        OverdueInstallment(
            installment_id=record.seq,
            due_date=record.due_date,
            principal_outstanding=record.outstanding.principal,
            interest_outstanding=record.outstanding.interest,
            penalty_accrued=record.penalty_accrued,
            accrued_through=record.accrued_through,
            base_changes=tuple(record.changes),
        )
        for record in late
    ]
    accrual = accrue_loan(
        overdue,
        terms.penalty,
        day,
        terms.cost_cap.headroom(day, cost + terms.upfront_fee),
        terms.currency,
    )
    for seq, accrued in accrual.new_accrued.items():
        record = state.installments[seq]
        record.penalty_accrued = accrued
        record.accrued_through = day
        record.due = record.due + Parts(penalty=accrual.posted.get(seq, ZERO))
