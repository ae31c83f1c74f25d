"""Postings valued before nights that already closed (DESIGN §6).

A bank statement arrives days late; a repayment is reversed a week after its value date. The
nights since then charged penalty on a base that was not there, and later payments paid what
this one should have paid first. The loan's history is re-lived twice with `lending.replay` —
as it stands, and with the new posting — and the difference is posted:

- the posting itself, allocated as of its value date (a repayment pays the penalty owed
  through the day before first, not what later nights added);
- `reaccrual`: the penalty (and payoff's cancelled interest) the nights should have charged,
  less what they did, through the same cumulative rule;
- `reallocation`: what other money should have paid, one row per value date it moved on, with
  the change in the credit balance;
- bucket moves dated by each night whose bucket changes, appended to the history (never
  rewritten).

The loan's balances then move by exactly the difference between the two histories.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Min
from django.utils.translation import gettext as _

from lending.allocation import COMPONENTS, Parts, parse_allocation_order
from lending.errors import LendingError, LendingErrorCode, translated
from lending.models import (
    BucketChange,
    BusinessDayRun,
    Installment,
    Loan,
    LprRate,
    RunStatus,
    Transaction,
    TransactionKind,
    TransactionLine,
)
from lending.models.products import CostCapType
from lending.models.transactions import Effect
from lending.money import ZERO
from lending.replay import (
    Fixed,
    Payment,
    Replay,
    ReplayError,
    ReplayTerms,
    replay,
)
from lending.schedules import DayCount
from lending.services.delinquency import (
    UNREAD,
    bucket_move,
    bucket_table,
    last_closed_or_read,
)
from lending.services.ledger import refresh_loan_balances, write_transaction

# What the replay re-derives from the postings and the nights: never carried over as posted.
DERIVED = {
    TransactionKind.CREDIT_APPLIED,
    TransactionKind.PENALTY_ACCRUAL,
    TransactionKind.INTEREST_ADJUSTMENT,
    TransactionKind.REACCRUAL,
    TransactionKind.REALLOCATION,
}
# What lands as it was posted, whatever came before it. A recovery has no lines and no credit
# (the loan was written off): it lands as nothing, and is listed so the replay knows it.
FIXED = {
    TransactionKind.DISBURSEMENT,
    TransactionKind.FEE,
    TransactionKind.WAIVER,
    TransactionKind.REFUND,
    TransactionKind.SETTLEMENT_DISCOUNT,
    TransactionKind.RECOVERY,
}
# Postings that a payment valued before them would have to be re-lived with.
MONEY_KINDS = [TransactionKind.REPAYMENT, *FIXED]
# Forgiveness lands as posted but never settles more than is owed when it lands (replay.Fixed).
CAPPED = {TransactionKind.WAIVER, TransactionKind.SETTLEMENT_DISCOUNT}
NEW = "new"  # the key of a payment not yet posted


@dataclass
class History:
    rows: list[tuple[int, date, date]]  # installment seq, period start, due date
    events: list[Payment | Fixed]
    terms: ReplayTerms
    first_night: date | None  # the first night that ran after the loan was disbursed
    processed_through: date | None  # the last night whose work the loan holds


def _terms(loan: Loan) -> ReplayTerms:
    lpr = (
        LprRate.objects.filter(effective_date__lte=loan.start_date)
        .order_by("-effective_date")
        .values_list("one_year_rate", flat=True)
        .first()
    )
    if lpr is None and loan.cost_cap_type == CostCapType.LPR_MULTIPLE:
        raise LendingError(
            LendingErrorCode.NOT_FOUND,
            _("no LPR in force on %(date)s; add it in the admin") % {"date": loan.start_date},
            field="value_date",
        )
    return ReplayTerms(
        penalty=loan.penalty_terms(),
        allocation_order=parse_allocation_order(loan.allocation_order),
        annual_rate=loan.annual_rate,
        day_count=DayCount(loan.day_count),
        currency=loan.currency,
        arrears_tolerance=loan.arrears_tolerance,
        cost_cap=loan.cost_cap(lpr if lpr is not None else ZERO),
        upfront_fee=loan.upfront_fee,
        buckets=bucket_table(checked=False),
    )


def processed_through(
    loan: Loan, installments: list[Installment], *, last_closed=UNREAD, accrued_through=UNREAD
) -> date | None:
    """The last night the loan went through: closed for the book, or already run on this loan
    by a night still in progress. `accrued_through`: the latest night accrued on any of the
    loan's installments, when the caller read only some of them (a settled installment may
    hold the only trace of a night that stopped partway)."""
    if accrued_through is UNREAD:
        accrued = [i.penalty_accrued_through for i in installments]
    else:
        accrued = [accrued_through]
    nights = [last_closed_or_read(last_closed), loan.dpd_as_of, *accrued]
    return max((d for d in nights if d), default=None)


def load_history(loan: Loan, installments: list[Installment], *, leave_out=()) -> History:
    """The loan's postings as replay events; `leave_out`: ids of repayments to treat as never
    posted (the one being reversed)."""
    first_night = None
    if loan.disbursed_at is not None:
        first_night = BusinessDayRun.objects.filter(started_at__gte=loan.disbursed_at).aggregate(
            first=Min("business_date")
        )["first"]
    through = processed_through(loan, installments)

    def of_a_night(txn: Transaction) -> bool:
        """An accrual the replay's nights re-derive; any other (posted outside the nights the
        loan went through, e.g. an opening balance) is kept as posted."""
        return (
            first_night is not None
            and through is not None
            and (first_night <= txn.value_date <= through)
        )

    txns = list(loan.transactions.order_by("id"))
    undone = {t.reverses_id for t in txns if t.reverses_id} | set(leave_out)
    kept = [
        t
        for t in txns
        if t.kind in FIXED or (t.kind == TransactionKind.PENALTY_ACCRUAL and not of_a_night(t))
    ]
    seq_of = {i.pk: i.seq for i in installments}
    lines: dict[int, dict[int, Parts]] = {}
    for line in TransactionLine.objects.filter(transaction__in=[t.pk for t in kept]):
        parts = Parts(*(getattr(line, c) for c in COMPONENTS))
        lines.setdefault(line.transaction_id, {})[seq_of[line.installment_id]] = parts
    kept_ids = {t.pk for t in kept}
    events: list[Payment | Fixed] = []
    for txn in txns:
        if txn.kind == TransactionKind.REVERSAL or txn.pk in undone:
            continue
        if txn.kind == TransactionKind.REPAYMENT:
            events.append(Payment(txn.pk, txn.value_date, txn.amount))
        elif txn.pk in kept_ids:
            charge = txn.effect == Effect.CHARGE
            events.append(
                Fixed(
                    txn.value_date,
                    charge,
                    lines.get(txn.pk, {}),
                    txn.credit,
                    capped=txn.kind in CAPPED,
                    key=txn.pk,
                )
            )
        elif txn.kind not in DERIVED:
            raise LendingError(
                LendingErrorCode.NOT_REVERSIBLE,
                _(
                    "the loan holds a %(kind)s; its history cannot be re-lived from an earlier "
                    "value date"
                )
                % {"kind": txn.get_kind_display().lower()},
                field="value_date",
            )
    return History(
        rows=[(i.seq, i.period_start, i.due_date) for i in installments],
        events=events,
        terms=_terms(loan),
        first_night=first_night,
        processed_through=through,
    )


def night_range(history: History, through: date | None) -> tuple[date, date] | None:
    first = history.first_night
    if first is None and through is not None and history.processed_through is not None:
        first = history.processed_through + timedelta(days=1)  # the loan's nights start next
    if first is None or through is None or through < first:
        return None
    return first, through


def needs_reprocess(
    loan: Loan,
    installments: list[Installment],
    value_date: date,
    *,
    last_closed=UNREAD,
    latest_money=UNREAD,
    accrued_through=UNREAD,
) -> bool:
    """A posting on `value_date` can go straight onto the loan only when nothing valued after
    it was posted or accrued; otherwise the history is re-lived. `latest_money`: the latest
    value date of the loan's MONEY_KINDS postings, when the caller read it for many loans;
    `accrued_through`: see processed_through (the unsettled installments must all be given)."""
    last_closed = last_closed_or_read(last_closed)
    through = processed_through(
        loan, installments, last_closed=last_closed, accrued_through=accrued_through
    )
    if through is not None and value_date <= through:
        return True
    if penalty_nights_behind(loan, installments, value_date, last_closed=last_closed):
        return True
    if latest_money is UNREAD:
        return loan.transactions.filter(value_date__gt=value_date, kind__in=MONEY_KINDS).exists()
    return latest_money is not None and latest_money > value_date


@dataclass(frozen=True)
class PostingState:
    """What a posting checks on the locked loan before it writes."""

    keyed_id: int | None  # the transaction of its kind already posted under its key
    latest_money: date | None  # the latest value date of the loan's MONEY_KINDS postings
    last_closed: date | None  # the last closed night


def posting_state(loan: Loan, *, kind: TransactionKind, key: str) -> PostingState:
    """PostingState in one statement, read after the loan is locked (a posting that held the
    lock before us is seen). Three small queries through the ORM cost a repayment more Python
    than its allocation; the SQL is written once per process."""
    keyed = _KEYED_SQL if key else "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {keyed}, {_LATEST_MONEY_SQL}, {_LAST_CLOSED_SQL}",
            [*([kind.value, key] if key else []), loan.pk, *MONEY_KINDS, RunStatus.DONE.value],
        )
        keyed_id, latest_money, last_closed = cursor.fetchone()
    return PostingState(keyed_id, _as_date(latest_money), _as_date(last_closed))


def _as_date(value) -> date | None:
    """SQLite (`make run`) answers a raw max() of dates as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


_TXN = Transaction._meta.db_table
# The unique (kind, key) index is partial (key <> ''): said again so the planner may use it.
_KEYED_SQL = (
    f'(SELECT id FROM "{_TXN}" WHERE kind = %s AND idempotency_key = %s '
    f"AND idempotency_key <> '' LIMIT 1)"
)
_LATEST_MONEY_SQL = (
    f'(SELECT max(value_date) FROM "{_TXN}" WHERE loan_id = %s '
    f"AND kind IN ({', '.join(['%s'] * len(MONEY_KINDS))}))"
)
_LAST_CLOSED_SQL = (
    f'(SELECT max(business_date) FROM "{BusinessDayRun._meta.db_table}" WHERE status = %s)'
)


def penalty_nights_behind(
    loan: Loan, installments: list[Installment], value_date: date, *, last_closed=UNREAD
) -> date | None:
    """The nights have not closed the days before `value_date` yet (a night failed) while an
    installment was unpaid: the penalty of those days is owed before this payment pays
    anything, so they are re-lived now (the night finds them accrued). Returns the last."""
    last_closed = last_closed_or_read(last_closed)
    day_before = value_date - timedelta(days=1)
    if last_closed is None or last_closed >= day_before:
        return None
    if not any(i.outstanding > 0 and i.due_date < day_before for i in installments):
        return None
    return day_before


def _relive(history: History, events, through: date | None, field: str) -> Replay:
    try:
        return replay(history.rows, events, history.terms, nights=night_range(history, through))
    except ReplayError as exc:
        raise LendingError(LendingErrorCode.NOT_REVERSIBLE, translated(exc), field=field) from None


def _component(name: str) -> str:
    """A part of an installment in words, in the active language."""
    words = {
        "principal": _("principal"),
        "interest": _("interest"),
        "fee": _("fee"),
        "penalty": _("penalty"),
    }
    return words.get(name, name)


@dataclass
class Relived:
    before: Replay
    after: Replay
    flagged_through: date | None  # the last night that measured the loan's dpd
    field: str = "value_date"  # the input a refusal names

    def moved(self, seq: int, side: str) -> Parts:
        return getattr(self.after.installments[seq], side) - getattr(
            self.before.installments[seq], side
        )


def relive(
    loan: Loan,
    installments: list[Installment],
    *,
    value_date: date,
    payment: Decimal | None = None,
    reversing: list[Transaction] = (),
) -> Relived:
    """The loan's history as it stands, and with the payment added (or postings taken out:
    a repayment reversed, with the discount of a settlement it earned), each through
    the nights the loan went through — and, for a payment, the nights still to close whose
    penalty it owes first."""
    history = load_history(loan, installments)
    through = history.processed_through
    if payment is not None:
        events = [*history.events, Payment(NEW, value_date, payment)]
        behind = penalty_nights_behind(loan, installments, value_date)
        after_through = max((d for d in (through, behind) if d), default=None)
    else:
        taken_out = {posting.pk for posting in reversing}
        events = [e for e in history.events if e.key not in taken_out]
        after_through = through
    field = "value_date" if payment is not None else "transaction"
    before = _relive(history, history.events, through, field)
    after = _relive(history, events, after_through, field)
    return Relived(before, after, through, field)


@dataclass(frozen=True)
class Posted:
    """What rows add up to per installment seq, on each side, and to the credit balance."""

    charged: dict[int, Parts]
    settled: dict[int, Parts]
    credit: Decimal


def _sum_lines(txns: list[Transaction], installments: list[Installment]) -> Posted:
    seq_of = {i.pk: i.seq for i in installments}
    sides = {Effect.CHARGE: {}, Effect.SETTLE: {}}
    for txn in txns:
        side = sides.get(txn.effect)
        for line in txn.lines.all() if side is not None else ():
            seq = seq_of[line.installment_id]
            side[seq] = side.get(seq, Parts()) + Parts(*(getattr(line, c) for c in COMPONENTS))
    credit = sum((t.credit for t in txns), ZERO)
    return Posted(sides[Effect.CHARGE], sides[Effect.SETTLE], credit)


def _minus(a: dict[int, Parts], b: dict[int, Parts]) -> dict[int, Parts]:
    moved = {seq: a.get(seq, Parts()) - b.get(seq, Parts()) for seq in set(a) | set(b)}
    return {seq: parts for seq, parts in moved.items() if not parts.is_zero()}


def post_difference(
    *,
    loan: Loan,
    installments: list[Installment],
    relived: Relived,
    value_date: date,
    own: list[Transaction],
    caused_by: Transaction,
    acting_user,
) -> None:
    """Post what the re-lived history changes beyond what the rows in `own` (written already)
    post, and move the caches by every row: by exactly the difference between the histories."""
    own_effect = _sum_lines(own, installments)
    rows = list(own)
    charges = _minus(
        {seq: relived.moved(seq, "due") for seq in relived.after.installments},
        own_effect.charged,
    )
    if charges:
        rows.append(
            write_transaction(
                loan=loan,
                kind=TransactionKind.REACCRUAL,
                effect=Effect.CHARGE,
                value_date=value_date,
                lines=charges,
                installments=installments,
                acting_user=acting_user,
                caused_by=caused_by,
                note=f"re-lived from {value_date}",
            )
        )
    credit = relived.after.credit - relived.before.credit - own_effect.credit
    for day, lines in _settlements_moved(relived, own_effect.settled, value_date).items():
        on_day = credit if day == value_date else ZERO
        if lines or on_day:
            rows.append(
                write_transaction(
                    loan=loan,
                    kind=TransactionKind.REALLOCATION,
                    effect=Effect.SETTLE,
                    value_date=day,
                    lines=lines,
                    installments=installments,
                    acting_user=acting_user,
                    credit=on_day,
                    caused_by=caused_by,
                    note=f"re-lived from {value_date}",
                )
            )
    _move_caches(loan, installments, relived, _sum_lines(rows, installments), value_date)


def _settlements_moved(relived: Relived, own: dict[int, Parts], value_date: date):
    """Per value date, what the other postings settle differently (the rows' own settlements
    taken out of their date)."""
    after, before = relived.after.settled_by_day, relived.before.settled_by_day
    moved = {}
    for day in sorted(set(after) | set(before) | {value_date}):
        lines = _minus(after.get(day, {}), before.get(day, {}))
        moved[day] = _minus(lines, own) if day == value_date else lines
    return moved


def _move_caches(loan, installments, relived: Relived, rows: Posted, value_date) -> None:
    """The caches move by exactly the rows posted; the accrual state follows the replay."""
    for installment in installments:
        before = relived.before.installments[installment.seq]
        after = relived.after.installments[installment.seq]
        for suffix, lines in (("due", rows.charged), ("settled", rows.settled)):
            moved = lines.get(installment.seq, Parts())
            for c in COMPONENTS:
                name = f"{c}_{suffix}"
                setattr(installment, name, getattr(installment, name) + getattr(moved, c))
        installment.penalty_accrued += after.penalty_accrued - before.penalty_accrued
        if after.accrued_through != before.accrued_through:
            installment.penalty_accrued_through = after.accrued_through
        if installment.outstanding > 0:
            installment.settled_on = None
        elif after.settled_on != before.settled_on or installment.settled_on is None:
            installment.settled_on = after.settled_on or value_date
        for c in COMPONENTS:
            due, settled = getattr(installment, f"{c}_due"), getattr(installment, f"{c}_settled")
            if settled < 0 or settled > due:
                raise LendingError(
                    LendingErrorCode.NOT_REVERSIBLE,
                    _(
                        "installment %(seq)s would hold %(settled)s of %(due)s %(part)s "
                        "settled; the loan's history cannot be re-lived from this date"
                    )
                    % {
                        "seq": installment.seq,
                        "settled": settled,
                        "due": due,
                        "part": _component(c),
                    },
                    field=relived.field,
                )
    Installment.objects.bulk_update(
        installments,
        [
            *(f"{c}_{s}" for c in COMPONENTS for s in ("due", "settled")),
            "penalty_accrued",
            "penalty_accrued_through",
            "settled_on",
        ],
    )
    loan.credit_balance += rows.credit
    if loan.credit_balance < 0:
        raise LendingError(
            LendingErrorCode.NOT_REVERSIBLE,
            _("the credit balance would go below zero"),
            field=relived.field,
        )
    refresh_loan_balances(loan, installments)


def correct_bucket_history(loan: Loan, relived: Relived, value_date: date) -> None:
    """Append a move for each night from `value_date` whose bucket the re-lived history
    changes, dated by that night; the loan ends in the bucket of its last night."""
    through = relived.flagged_through
    flags = {
        day: flag
        for day, flag in relived.after.flags.items()
        if day >= value_date and through is not None and day <= through
    }
    if not flags:
        return
    in_force = (
        BucketChange.objects.filter(loan=loan, business_date__lt=value_date)
        .order_by("-business_date", "-id")
        .values_list("to_bucket", flat=True)
        .first()
    )
    recorded = dict(
        BucketChange.objects.filter(loan=loan, business_date__gte=value_date)
        .order_by("business_date", "id")
        .values_list("business_date", "to_bucket")
    )
    loan.bucket = in_force or bucket_table(checked=False)[0].code
    moves = []
    for day in sorted(flags):
        loan.bucket = recorded.get(day, loan.bucket)
        flag = flags[day]
        if flag.bucket != loan.bucket:
            moves.append(bucket_move(loan, day, flag.bucket, flag.dpd, flag.overdue))
            loan.bucket = flag.bucket
    BucketChange.objects.bulk_create(moves)
    last_night = max(flags)
    loan.dpd, loan.dpd_as_of = flags[last_night].dpd, last_night
    loan.save(update_fields=["dpd", "bucket", "dpd_as_of", "updated_at"])
