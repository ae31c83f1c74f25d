"""The demo book's history before its last real nights, computed in memory and written in bulk.

Posting 30,000 payments and closing 600 nights through the services one call at a time takes
minutes; this does the same work with the same pure rules the services and the nightly steps
call — `build_schedule`, `payoff_quote`, `allocate`, `accrue_loan`, `days_past_due`,
`bucket_for` — in the same order (each day's postings in plan order, then the night: credit
spent on what fell due, overdue flagging, penalty), and writes the rows the services would have
written: loans, installments, transactions with their lines (and caused-by / reverses links),
bucket moves and audit events. `reconcile_loans` then finds no difference, and
tests/lending/test_demo_ledger.py checks loan by loan that `lending.replay` re-lives each
history to the same balances.

What it does not do: run the other apps' nightly steps (no collection case, reminder or limit
review is written for a simulated night) — the nights it simulates are recorded as demo
history (`DEMO_HISTORY_STEP`), and the last nights of the book run for real afterwards.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection
from django.db.models import DateTimeField, JSONField, Max
from django.utils import timezone

from lending.access import stored_user
from lending.allocation import (
    InstallmentState,
    Parts,
    allocate,
    due_installments,
    parse_allocation_order,
    payoff_quote,
)
from lending.close_of_business.lending_steps import lpr_on
from lending.delinquency import bucket_for, days_past_due
from lending.models import (
    AuditEvent,
    BucketChange,
    BusinessDayRun,
    BusinessDayStep,
    Installment,
    Loan,
    LoanStatus,
    LprRate,
    RunStatus,
    Transaction,
    TransactionKind,
    TransactionLine,
)
from lending.models.loans import LoanOrigin
from lending.models.transactions import EFFECT_OF_KIND, Effect
from lending.money import ZERO, money_str, quantize_money
from lending.penalty import BaseChange, OverdueInstallment, accrue_loan, counted_from
from lending.schedules import DayCount, FeeCollection, build_schedule
from lending.services.delinquency import bucket_table
from lending.services.loans import booked_terms, schedule_terms_for
from lending.validation import check_loan_terms

# The step row that marks a night as written by the demo loader, not run (see module doc).
DEMO_HISTORY_STEP = "demo_history"
BATCH = 5000


class DemoLedgerError(RuntimeError):
    """The plan asks for something the services would refuse (the demo plan is wrong)."""


class SimInstallment:
    """One installment as the caches hold it; what is left is kept current as it moves."""

    __slots__ = (
        "accrued_through",
        "changes",
        "due",
        "due_date",
        "left",
        "left_total",
        "penalty_accrued",
        "period_start",
        "pk",
        "seq",
        "settled",
        "settled_on",
    )

    def __init__(self, seq: int, period_start: date, due_date: date):
        self.seq, self.period_start, self.due_date = seq, period_start, due_date
        self.due, self.settled = Parts(), Parts()
        self.left, self.left_total = Parts(), ZERO
        self.settled_on: date | None = None
        self.penalty_accrued: Decimal = ZERO
        self.accrued_through: date | None = None
        self.changes: list[BaseChange] = []
        self.pk = None

    @property
    def outstanding(self) -> Parts:
        return self.left

    def move(self, p: Parts, *, charge: bool) -> None:
        # Parts' own + and - go through getattr per component: spelled out, it is 3× faster.
        if charge:
            d = self.due
            self.due = d = Parts(
                d.principal + p.principal,
                d.interest + p.interest,
                d.fee + p.fee,
                d.penalty + p.penalty,
            )
            s = self.settled
        else:
            s = self.settled
            self.settled = s = Parts(
                s.principal + p.principal,
                s.interest + p.interest,
                s.fee + p.fee,
                s.penalty + p.penalty,
            )
            d = self.due
        self.left = left = Parts(
            d.principal - s.principal,
            d.interest - s.interest,
            d.fee - s.fee,
            d.penalty - s.penalty,
        )
        self.left_total = left.principal + left.interest + left.fee + left.penalty

    def state(self) -> InstallmentState:
        return InstallmentState(self.seq, self.due_date, self.period_start, self.due, self.settled)


@dataclass
class SimTxn:
    kind: str
    effect: str
    value_date: date
    lines: dict[int, Parts]
    amount: Decimal = ZERO
    credit: Decimal = ZERO
    posted_by: object = None
    fields: dict = field(default_factory=dict)
    caused_by: "SimTxn | None" = None
    reverses: "SimTxn | None" = None
    row: Transaction | None = None  # once written


@dataclass
class SimLoan:
    model: Loan  # unsaved until written: its contract terms drive the pure rules
    order: tuple[str, ...]
    active: bool = False  # the status is active (read on every night: kept as a flag)
    terms: object = None  # PenaltyTerms, once disbursed
    cap: object = None  # CostCap, once disbursed
    installments: list[SimInstallment] = field(default_factory=list)
    txns: list[SimTxn] = field(default_factory=list)

    def set_status(self, status: str) -> None:
        self.model.status = status
        self.active = status == LoanStatus.ACTIVE

    def states(self) -> list[InstallmentState]:
        return [i.state() for i in self.installments]

    def total_outstanding(self) -> Decimal:
        return sum((i.left_total for i in self.installments), ZERO)


@dataclass
class NightCounts:
    apply_credit: Counter = field(default_factory=Counter)
    flag_overdue: Counter = field(default_factory=Counter)
    accrue_penalty: Counter = field(default_factory=Counter)
    candidates: int = 0


def _changes_after(changes: list[BaseChange], since: date) -> tuple[BaseChange, ...]:
    """The postings valued after `since`; older ones change nothing (penalty.OverdueInstallment).
    They are appended in value-date order, so most nights the last one already says none."""
    if not changes or changes[-1].value_date <= since:
        return ()
    return tuple(c for c in changes if c.value_date > since)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


class DemoLedger:
    """The services' postings and the nights' work, in memory, for the demo's history."""

    def __init__(self, *, today: date):
        self.today = today
        self.loans: list[SimLoan] = []
        self.audit: list[AuditEvent] = []
        self.bucket_changes: list[tuple[SimLoan, BucketChange]] = []
        self.nights: dict[date, NightCounts] = {}
        self.last_closed: date | None = None
        self.buckets = bucket_table()
        self.current_bucket = self.buckets[0].code
        self.rates = list(
            LprRate.objects.order_by("-effective_date").values_list(
                "effective_date", "one_year_rate"
            )
        )
        self.active: list[SimLoan] = []  # disbursed and not yet known closed (see night)

    # ------------------------------------------------------------------ ledger primitives

    def _audit(self, actor, action: str, loan: SimLoan, summary: str, data=None) -> None:
        self.audit.append((loan, stored_user(actor), action, summary[:255], data or {}))

    def _post(
        self,
        loan: SimLoan,
        kind,
        value_date,
        lines,
        acting_user,
        *,
        amount=ZERO,
        credit=ZERO,
        effect=None,
        **fields,
    ) -> SimTxn:
        """post_transaction: the row, and the caches moved by exactly its lines."""
        effect = effect or EFFECT_OF_KIND[kind]
        txn = SimTxn(
            kind, effect, value_date, lines, amount, credit, stored_user(acting_user), fields
        )
        loan.txns.append(txn)
        by_seq = {i.seq: i for i in loan.installments}
        for seq, parts in lines.items():
            if parts.is_zero():
                continue
            inst = by_seq[seq]
            if kind != TransactionKind.PENALTY_ACCRUAL:
                sign = 1 if effect == Effect.CHARGE else -1
                if parts.principal or parts.interest:
                    inst.changes.append(
                        BaseChange(value_date, sign * parts.principal, sign * parts.interest)
                    )
            if effect == Effect.NONE:
                continue
            inst.move(parts, charge=effect == Effect.CHARGE)
            if inst.left_total > 0:
                inst.settled_on = None
            else:
                inst.settled_on = inst.settled_on or value_date
        loan.model.credit_balance += credit
        if loan.model.credit_balance < 0:
            raise DemoLedgerError(f"{loan.model.purpose}: credit below zero on {value_date}")
        self._refresh_balances(loan)
        return txn

    def _refresh_balances(self, loan: SimLoan) -> None:
        m = loan.model
        principal = interest = fee = penalty = ZERO
        next_due = None
        for inst in loan.installments:
            left = inst.left
            principal += left.principal
            interest += left.interest
            fee += left.fee
            penalty += left.penalty
            if inst.left_total > 0 and (next_due is None or inst.due_date < next_due):
                next_due = inst.due_date
        m.principal_outstanding, m.interest_outstanding = principal, interest
        m.fee_outstanding, m.penalty_outstanding = fee, penalty
        m.next_due_date = next_due

    def _quote(self, loan: SimLoan, as_of: date):
        m = loan.model
        return payoff_quote(
            loan.states(),
            as_of=as_of,
            annual_rate=m.annual_rate,
            day_count=DayCount(m.day_count),
            credit_balance=m.credit_balance,
            currency=m.currency,
        )

    def _cancel_unearned(self, loan: SimLoan, as_of: date, user) -> SimTxn | None:
        quote = self._quote(loan, as_of)
        if not quote.unearned_interest:
            return None
        return self._post(
            loan,
            TransactionKind.INTEREST_ADJUSTMENT,
            as_of,
            {seq: Parts(interest=-v) for seq, v in quote.unearned_interest.items()},
            user,
            note=f"interest after {as_of} is not earned",
        )

    def _apply_credit(self, loan: SimLoan, as_of: date, user, *, whole_loan: bool):
        m = loan.model
        if m.credit_balance <= 0:
            return None
        states = loan.states()
        targets = states if whole_loan else due_installments(states, as_of)
        lines, left = allocate(m.credit_balance, targets, loan.order)
        used = m.credit_balance - left
        if not used:
            return None
        return self._post(loan, TransactionKind.CREDIT_APPLIED, as_of, lines, user, credit=-used)

    def _close_if_paid(self, loan: SimLoan, on: date) -> bool:
        if loan.active and loan.total_outstanding() == 0:
            loan.set_status(LoanStatus.CLOSED)
            loan.model.closed_at = _at(on, 12)
            return True
        return False

    def _refresh_delinquency(self, loan: SimLoan, recorded_on: date) -> None:
        """loan_refresh_delinquency: dpd as of the last closed night after money moved."""
        m = loan.model
        measured = [d for d in (self.last_closed, m.dpd_as_of) if d]
        if not measured:
            return
        as_of = max(measured)
        late = [i for i in loan.installments if i.due_date < as_of and i.left_total > 0]
        oldest = min((i.due_date for i in late), default=None)
        amount = sum((i.left_total for i in late), ZERO)
        dpd = days_past_due(
            oldest_unpaid_due=oldest,
            overdue_amount=amount,
            tolerance=m.arrears_tolerance,
            as_of=as_of,
        )
        bucket = bucket_for(dpd, self.buckets)
        if bucket != m.bucket:
            self._move(loan, recorded_on, bucket, dpd, amount)
        m.dpd, m.bucket, m.dpd_as_of = dpd, bucket, as_of

    def _move(self, loan: SimLoan, day: date, to: str, dpd: int, overdue: Decimal) -> None:
        self.bucket_changes.append(
            (
                loan,
                BucketChange(
                    business_date=day,
                    from_bucket=loan.model.bucket,
                    to_bucket=to,
                    dpd=dpd,
                    overdue_amount=overdue if dpd else ZERO,
                ),
            )
        )

    # ------------------------------------------------------------------ the services

    def book_approved(
        self,
        *,
        borrower,
        product,
        principal,
        annual_rate,
        term_months,
        purpose,
        acting_user,
        on: date,
    ) -> SimLoan:
        """loan_book_approved for a migrated loan (its checks, its row, its audit)."""
        if borrower.is_blacklisted:
            raise DemoLedgerError(f"borrower {borrower.pk} is blacklisted")
        if borrower.kyc_status != "verified":
            raise DemoLedgerError(f"borrower {borrower.pk} is not KYC-verified")
        check_loan_terms(
            product=product, principal=principal, annual_rate=annual_rate, term_months=term_months
        )
        model = Loan(
            borrower=borrower,
            product=product,
            purpose=purpose,
            origin=LoanOrigin.MIGRATED,
            **booked_terms(
                product, principal=principal, annual_rate=annual_rate, term_months=term_months
            ),
            created_by=stored_user(acting_user),
            status=LoanStatus.APPROVED,
            approved_at=_at(on, 9),
            approved_by=stored_user(acting_user),
        )
        loan = SimLoan(model, parse_allocation_order(model.allocation_order))
        self.loans.append(loan)
        self._audit(
            acting_user,
            "loan.create",
            loan,
            f"booked {{ref}}: {principal} at {annual_rate} for {term_months} months",
            {
                "principal": str(principal),
                "rate": str(annual_rate),
                "term": term_months,
                "origin": str(LoanOrigin.MIGRATED),
            },
        )
        self._audit(acting_user, "loan.approve", loan, "approved")
        return loan

    def cancel(self, loan: SimLoan, *, reason: str, acting_user) -> None:
        if loan.model.status not in (LoanStatus.PENDING, LoanStatus.APPROVED):
            raise DemoLedgerError(f"cannot cancel a {loan.model.status} loan")
        loan.set_status(LoanStatus.CANCELLED)
        loan.model.status_reason = reason
        self._audit(acting_user, "loan.cancelled", loan, reason)

    def disburse(self, loan: SimLoan, *, on: date, acting_user) -> None:
        m = loan.model
        if m.status != LoanStatus.APPROVED:
            raise DemoLedgerError(f"cannot disburse a {m.status} loan")
        if on > self.today:
            raise DemoLedgerError("disbursement in the future")
        rows = build_schedule(schedule_terms_for(m, on, None))
        loan.installments = [SimInstallment(r.seq, r.period_start, r.due_date) for r in rows]
        upfront = m.origination_fee if m.fee_collection == FeeCollection.UPFRONT else ZERO
        loan.set_status(LoanStatus.ACTIVE)
        m.start_date, m.first_due_date, m.maturity_date = on, rows[0].due_date, rows[-1].due_date
        m.disbursed_at = _at(on, 10)
        loan.terms = m.penalty_terms()
        loan.cap = m.cost_cap(lpr_on(self.rates, on))
        self.active.append(loan)
        self._post(
            loan,
            TransactionKind.DISBURSEMENT,
            on,
            {r.seq: Parts(principal=r.principal, interest=r.interest, fee=r.fee) for r in rows},
            acting_user,
            amount=m.principal - upfront,
            note=f"origination fee {upfront} deducted" if upfront else "",
        )
        self._audit(
            acting_user, "loan.disburse", loan, f"disbursed {m.principal - upfront} on {on}"
        )

    def repayment(
        self, loan: SimLoan, *, amount: Decimal, value_date: date, acting_user, **fields
    ) -> SimTxn:
        """repayment_post straight onto the loan (in value-date order nothing is re-lived)."""
        m = loan.model
        if not loan.active:
            raise DemoLedgerError(f"repayment to a {m.status} loan")
        if value_date > self.today or value_date < m.start_date:
            raise DemoLedgerError(f"repayment valued {value_date}")
        if self.last_closed is not None and value_date <= self.last_closed:
            raise DemoLedgerError("a repayment before the last closed night would be re-lived")
        quote = self._quote(loan, value_date)
        if amount > quote.amount + m.product.max_overpayment:
            raise DemoLedgerError(f"{amount} is past the payoff {quote.amount} plus the limit")
        is_payoff = amount >= quote.amount
        companions = []
        if is_payoff:
            companions.append(self._cancel_unearned(loan, value_date, acting_user))
        companions.append(self._apply_credit(loan, value_date, acting_user, whole_loan=is_payoff))
        states = loan.states()
        targets = states if is_payoff else due_installments(states, value_date)
        lines, left = allocate(amount, targets, loan.order)
        payment = self._post(
            loan,
            TransactionKind.REPAYMENT,
            value_date,
            lines,
            acting_user,
            amount=amount,
            credit=left,
            **fields,
        )
        for companion in companions:
            if companion is not None:
                companion.caused_by = payment
        closed = self._close_if_paid(loan, value_date)
        self._refresh_delinquency(loan, value_date)
        self._audit(
            acting_user,
            "repayment.post",
            loan,
            f"repayment {amount} on {value_date}" + (" paid the loan off" if closed else ""),
            {"transaction": payment, "credit_added": str(left)},
        )
        return payment

    def reverse(self, loan: SimLoan, original: SimTxn, *, reason: str, acting_user) -> None:
        """repayment_reverse of a payment valued after the last night: its rows negated."""
        if original.value_date <= (self.last_closed or date.min):
            raise DemoLedgerError("only a payment after the last closed night is reversed here")
        m = loan.model
        consequences = [t for t in loan.txns if t.caused_by is original]
        rows = []
        for txn in [original, *reversed(consequences)]:
            rows.append(
                self._post(
                    loan,
                    TransactionKind.REVERSAL,
                    txn.value_date,
                    {seq: -parts for seq, parts in txn.lines.items()},
                    acting_user,
                    amount=txn.amount,
                    credit=-txn.credit,
                    effect=txn.effect,
                    note=reason,
                )
            )
            rows[-1].reverses = txn
        if m.status == LoanStatus.CLOSED and loan.total_outstanding() > 0:
            loan.set_status(LoanStatus.ACTIVE)
            m.closed_at = None
            if loan not in self.active:
                self.active.append(loan)
        self._close_if_paid(loan, original.value_date)
        self._refresh_delinquency(loan, original.value_date)
        self._audit(
            acting_user,
            "repayment.reverse",
            loan,
            f"reversed repayment {original.amount} of {original.value_date}: {reason}",
            {"transaction": original, "reversal": rows[0]},
        )

    def credit_apply(self, loan: SimLoan, *, as_of: date, acting_user) -> SimTxn | None:
        """loan_credit_apply: credit pays what fell due."""
        if not loan.active:
            return None
        applied = self._apply_credit(loan, as_of, acting_user, whole_loan=False)
        if applied:
            self._close_if_paid(loan, as_of)
            self._audit(acting_user, "credit.apply", loan, f"{-applied.credit}")
        return applied

    def write_off(self, loan: SimLoan, *, reason: str, value_date: date, acting_user) -> None:
        m = loan.model
        if not loan.active:
            raise DemoLedgerError(f"cannot write off a {m.status} loan ({m.start_date})")
        self._cancel_unearned(loan, value_date, acting_user)
        self._apply_credit(loan, value_date, acting_user, whole_loan=True)
        remaining = {i.seq: i.outstanding for i in loan.installments}
        txn = self._post(
            loan, TransactionKind.WRITE_OFF, value_date, remaining, acting_user, note=reason
        )
        loan.set_status(LoanStatus.WRITTEN_OFF)
        m.status_reason, m.closed_at = reason, _at(value_date, 16)
        self._audit(
            acting_user,
            "loan.write_off",
            loan,
            f"wrote off {Parts.sum(remaining.values()).total}: {reason}",
            {"transaction": txn},
        )

    def refund(self, loan: SimLoan, *, on: date, acting_user, note: str) -> None:
        """loan_credit_refund of the whole credit, on the day it ran."""
        amount = loan.model.credit_balance
        if amount <= 0:
            raise DemoLedgerError("nothing to refund")
        self._post(
            loan,
            TransactionKind.REFUND,
            on,
            {},
            acting_user,
            amount=amount,
            credit=-amount,
            note=note,
        )
        self._audit(acting_user, "credit.refund", loan, f"refunded {amount}")

    def amount_due(self, loan: SimLoan, as_of: date) -> tuple[Decimal, Decimal]:
        """demo._amount_due: unpaid and fallen due by `as_of`, and the credit (0 if none due)."""
        due = [i for i in loan.installments if i.due_date <= as_of]
        if not due:
            return ZERO, ZERO
        return quantize_money(sum((i.left_total for i in due), ZERO)), (loan.model.credit_balance)

    def payoff_amount(self, loan: SimLoan, as_of: date) -> Decimal:
        return self._quote(loan, as_of).amount

    # ------------------------------------------------------------------ the night

    def night(self, day: date, system) -> None:
        """close_business_day's lending steps for `day` (apply credit, flag, accrue)."""
        counts = NightCounts()
        delinquent = self.current_bucket
        self.active = [loan for loan in self.active if loan.active]
        candidates = [
            loan
            for loan in self.active
            if (
                (loan.model.next_due_date is not None and loan.model.next_due_date <= day)
                or loan.model.bucket != delinquent
            )
        ]
        counts.candidates = len(candidates)
        for loan in candidates:
            m = loan.model
            if m.credit_balance > 0 and m.next_due_date is not None and m.next_due_date <= day:
                applied = self.credit_apply(loan, as_of=day, acting_user=system)
                if applied is not None:
                    counts.apply_credit["credit_applications"] += 1
                    counts.apply_credit["credit_applied"] += -applied.credit
        for loan in candidates:
            if loan.active:
                self._flag(loan, day, counts.flag_overdue)
        for loan in candidates:
            if loan.active:
                self._accrue(loan, day, counts.accrue_penalty)
        self.last_closed = day
        self.nights[day] = counts

    def _flag(self, loan: SimLoan, day: date, counts: Counter) -> None:
        m = loan.model
        late = [i for i in loan.installments if i.due_date < day and i.settled_on is None]
        amount = sum((i.left_total for i in late), ZERO)
        dpd = days_past_due(
            oldest_unpaid_due=min((i.due_date for i in late), default=None),
            overdue_amount=amount,
            tolerance=m.arrears_tolerance,
            as_of=day,
        )
        bucket = bucket_for(dpd, self.buckets)
        counts["loans_examined"] += 1
        if dpd and not m.dpd:
            counts["loans_newly_overdue"] += 1
        if m.dpd and not dpd:
            counts["loans_cured"] += 1
        if dpd:
            yesterday = day - timedelta(days=1)
            counts["installments_newly_overdue"] += sum(i.due_date == yesterday for i in late)
        if bucket != m.bucket:
            self._move(loan, day, bucket, dpd, amount)
            counts["bucket_moves"] += 1
        m.dpd, m.bucket, m.dpd_as_of = dpd, bucket, day

    def _accrue(self, loan: SimLoan, day: date, counts: Counter) -> None:
        m = loan.model
        terms = loan.terms
        late = [i for i in loan.installments if i.due_date < day and i.settled_on is None]
        if not m.dpd:
            for inst in late:  # past grace within tolerance: counted as accrued for nothing
                if (day - inst.due_date).days > m.grace_days and (
                    inst.accrued_through is None or inst.accrued_through < day
                ):
                    inst.accrued_through = day
            return
        counts.setdefault("accruals_posted", 0)
        counts.setdefault("accrual_total", ZERO)
        counts.setdefault("loans_capped", 0)
        cost = sum((i.due.interest + i.due.fee + i.due.penalty for i in loan.installments), ZERO)
        cap = loan.cap
        overdue = []
        for inst in sorted(late, key=lambda i: (i.due_date, i.seq)):
            since = counted_from(inst.due_date, inst.accrued_through, terms)
            overdue.append(
                OverdueInstallment(
                    installment_id=inst.seq,
                    due_date=inst.due_date,
                    principal_outstanding=inst.left.principal,
                    interest_outstanding=inst.left.interest,
                    penalty_accrued=inst.penalty_accrued,
                    accrued_through=inst.accrued_through,
                    base_changes=_changes_after(inst.changes, since),
                )
            )
        accrual = accrue_loan(
            overdue, terms, day, cap.headroom(day, cost + m.upfront_fee), m.currency
        )
        counts["loans_capped"] += accrual.capped
        by_seq = {i.seq: i for i in loan.installments}
        for seq, exact in accrual.new_accrued.items():
            inst = by_seq[seq]
            inst.penalty_accrued = exact
            inst.accrued_through = day
        if accrual.posted:
            total = sum(accrual.posted.values(), ZERO)
            txn = SimTxn(
                TransactionKind.PENALTY_ACCRUAL,
                Effect.CHARGE,
                day,
                {seq: Parts(penalty=v) for seq, v in accrual.posted.items()},
                fields={"note": "nightly penalty accrual"},
            )
            loan.txns.append(txn)
            for seq, v in accrual.posted.items():
                by_seq[seq].move(Parts(penalty=v), charge=True)
            m.penalty_outstanding += total
            counts["accruals_posted"] += 1
            counts["accrual_total"] += total

    # ------------------------------------------------------------------ writing

    def write(self) -> None:
        """Every row, in bulk, with the ids assigned here (so links need no second pass):
        loans, installments, transactions, lines, bucket moves, audit events."""
        loan_id = _next_id(Loan)
        for loan in self.loans:
            loan.model.pk = loan_id
            loan.model.reference = f"LN{loan_id:08d}"
            loan_id += 1
        _insert(Loan, [_model_row(loan.model) for loan in self.loans])
        self._write_installments()
        self._write_transactions()
        _insert(
            BucketChange,
            [
                {
                    "loan_id": loan.model.pk,
                    "business_date": c.business_date,
                    "from_bucket": c.from_bucket,
                    "to_bucket": c.to_bucket,
                    "dpd": c.dpd,
                    "overdue_amount": c.overdue_amount,
                }
                for loan, c in self.bucket_changes
            ],
        )
        events = [
            {
                "actor_id": actor.pk if actor else None,
                "action": action,
                "object_type": "lending.loan",
                "object_id": str(loan.model.pk),
                "summary": summary.replace("{ref}", loan.model.reference),
                "data": {k: (v.pk if isinstance(v, SimTxn) else v) for k, v in data.items()},
            }
            for loan, actor, action, summary, data in self.audit
        ]
        _insert(AuditEvent, events)
        _reset_sequences([Loan, Installment, Transaction])

    def _write_installments(self) -> None:
        rows = []
        pk = _next_id(Installment)
        for loan in self.loans:
            for inst in loan.installments:
                inst.pk = pk
                pk += 1
                due, settled = inst.due, inst.settled
                rows.append(
                    {
                        "id": inst.pk,
                        "loan_id": loan.model.pk,
                        "seq": inst.seq,
                        "period_start": inst.period_start,
                        "due_date": inst.due_date,
                        "principal_due": due.principal,
                        "interest_due": due.interest,
                        "fee_due": due.fee,
                        "penalty_due": due.penalty,
                        "principal_settled": settled.principal,
                        "interest_settled": settled.interest,
                        "fee_settled": settled.fee,
                        "penalty_settled": settled.penalty,
                        "settled_on": inst.settled_on,
                        "penalty_accrued": inst.penalty_accrued,
                        "penalty_accrued_through": inst.accrued_through,
                    }
                )
        _insert(Installment, rows)

    def _write_transactions(self) -> None:
        txns = [(loan, t) for loan in self.loans for t in loan.txns]
        # Ids in value-date order (the order the postings reached the book), and within a
        # loan in posting order: a payment's companions come before it, as the services write.
        txns.sort(key=lambda pair: pair[1].value_date)
        pk = _next_id(Transaction)
        for _loan, t in txns:
            t.pk = pk
            pk += 1
        rows, lines = [], []
        for loan, t in txns:
            total = Parts.sum(t.lines.values())
            rows.append(
                {
                    "id": t.pk,
                    "loan_id": loan.model.pk,
                    "kind": t.kind,
                    "effect": t.effect,
                    "value_date": t.value_date,
                    "amount": t.amount,
                    "principal": total.principal,
                    "interest": total.interest,
                    "fee": total.fee,
                    "penalty": total.penalty,
                    "credit": t.credit,
                    "reverses_id": t.reverses.pk if t.reverses else None,
                    "caused_by_id": t.caused_by.pk if t.caused_by else None,
                    "posted_by_id": t.posted_by.pk if t.posted_by else None,
                    **t.fields,
                }
            )
            by_seq = {i.seq: i.pk for i in loan.installments}
            for seq, parts in sorted(t.lines.items()):
                if not parts.is_zero():
                    lines.append(
                        {
                            "transaction_id": t.pk,
                            "installment_id": by_seq[seq],
                            "principal": parts.principal,
                            "interest": parts.interest,
                            "fee": parts.fee,
                            "penalty": parts.penalty,
                        }
                    )
        _insert(Transaction, rows)
        _insert(TransactionLine, lines)

    def write_nights(self, system) -> int:
        """The simulated nights as done runs, each marked as demo history."""
        runs, steps = [], []
        for day, counts in sorted(self.nights.items()):
            started = _at(day + timedelta(days=1), 0, 30)
            seconds = Decimal("0.5") + Decimal(counts.candidates) / 400
            per_step = {
                "apply_credit": _jsonable(
                    {"credit_applications": 0, "credit_applied": ZERO, **counts.apply_credit}
                ),
                "flag_overdue": _jsonable(dict(counts.flag_overdue)),
                "accrue_penalty": _jsonable(
                    {
                        "accruals_posted": 0,
                        "accrual_total": ZERO,
                        "loans_capped": 0,
                        **counts.accrue_penalty,
                    }
                ),
            }
            merged = Counter()
            for values in (counts.apply_credit, counts.flag_overdue, counts.accrue_penalty):
                merged.update(values)
            runs.append(
                BusinessDayRun(
                    business_date=day,
                    status=RunStatus.DONE,
                    started_at=started,
                    finished_at=started + timedelta(seconds=float(seconds)),
                    seconds=seconds.quantize(Decimal("0.001")),
                    chunks_total=1 if counts.candidates else 0,
                    chunks_done=1 if counts.candidates else 0,
                    loans_examined=merged["loans_examined"],
                    installments_newly_overdue=merged["installments_newly_overdue"],
                    loans_newly_overdue=merged["loans_newly_overdue"],
                    loans_cured=merged["loans_cured"],
                    bucket_moves=merged["bucket_moves"],
                    accruals_posted=merged["accruals_posted"],
                    accrual_total=quantize_money(merged["accrual_total"] or ZERO),
                    loans_capped=merged["loans_capped"],
                    started_by=stored_user(system),
                )
            )
            steps.append(per_step)
        run_id = _next_id(BusinessDayRun)
        for run in runs:
            run.pk = run_id
            run_id += 1
        _insert(BusinessDayRun, [_model_row(run) for run in runs])
        rows = []
        for run, per_step in zip(runs, steps, strict=True):
            marker = {"counts": {"written_by_load_demo": 1}}
            for position, (name, step) in enumerate(
                [(DEMO_HISTORY_STEP, marker), *((n, {"counts": c}) for n, c in per_step.items())]
            ):
                rows.append(
                    {
                        "run_id": run.pk,
                        "name": name,
                        "position": position,
                        "status": RunStatus.DONE,
                        "counts": step["counts"],
                        "seconds": Decimal("0.000"),
                        "error": "",
                    }
                )
        _insert(BusinessDayStep, rows)
        _reset_sequences([BusinessDayRun])
        return len(runs)


def _next_id(model) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _model_row(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _insert(model, rows: list[dict]) -> None:
    """INSERT the rows (attname → value; a missing field takes its default) in batches of one
    statement each: what bulk_create writes, without building a model instance per row."""
    if not rows:
        return
    keys = set(rows[0])
    fields = [f for f in model._meta.concrete_fields if f.attname in keys or not f.primary_key]
    now = timezone.now()
    stamped = {
        f.attname
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    defaults = {f.attname: now if f.attname in stamped else f.get_default() for f in fields}
    # Values the database driver cannot take as they are (aware datetimes, JSON) go through
    # the field, as the ORM would send them.
    prepared = {f.attname for f in fields if isinstance(f, (DateTimeField, JSONField))}
    qn = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        qn(model._meta.db_table),
        ", ".join(qn(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    columns = []  # (name, the default as sent, the field to prepare a value with)
    for f in fields:
        field = f if f.attname in prepared else None
        default = defaults[f.attname]
        columns.append(
            (f.attname, f.get_db_prep_save(default, connection) if field else default, field)
        )
    values = []
    for row in rows:
        out = []
        for name, default, field in columns:
            value = row.get(name)
            if value is None:
                # Unset, or None where the field stamps the time (an unsaved model's created_at).
                out.append(default if name not in row or name in stamped else None)
            elif field is not None:
                out.append(field.get_db_prep_save(value, connection))
            else:
                out.append(value)
        values.append(out)
    with connection.cursor() as cursor:
        for start in range(0, len(values), BATCH):
            cursor.executemany(sql, values[start : start + BATCH])


def _reset_sequences(models) -> None:
    """Ids were given here: the database's own counters move past them (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _jsonable(counts: dict) -> dict:
    """As the runner stores step counts: money with its two places."""
    return {
        k: money_str(quantize_money(v)) if isinstance(v, Decimal) else v for k, v in counts.items()
    }
