"""Many repayments at once (a bank statement's import): repayment_post's rules, a few
statements per batch instead of some fifteen per payment.

Each payment meets the same refusals in the same order (`postable`, the key's reuse) and is
allocated by the same waterfall (`allocate` over what is due, or over everything for a
payoff), staged in memory by the ledger's own halves (`stage_transaction`,
`unearned_interest_posting`, `closed_if_paid`, `delinquency_update`) and written with the
batch's others in one INSERT or UPDATE per table. That covers the payment straight onto the
loan: valued after everything the loan already holds, on a loan holding no credit. Every other
payment — a loan holding credit (applied first), a payment valued before nights already closed
or money already posted (the history re-lived), a payoff after payments staged for the same
loan — is posted by `repayment_post` itself, after what was staged for that loan is written;
the rest of that loan's payments in the batch follow it there.

An answer per payment, in order: its RepaymentResult, or the LendingError refusing it (which
wrote nothing). The batch is one transaction; a key taken meanwhile by a concurrent posting
(the unique index) undoes the batch's fast part and the payments go through repayment_post one
by one, which answers that conflict per payment.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Min, Q, Window
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from lending.access import Perm, require
from lending.close_of_business.bulk import (
    WriteBehind,
    bulk_insert,
    bulk_save,
    fetch_instances,
    pipelined,
    take_ids,
)
from lending.errors import LendingError
from lending.models import (
    BucketChange,
    BusinessDayRun,
    Installment,
    Loan,
    LoanStatus,
    Transaction,
    TransactionKind,
)
from lending.models.transactions import Effect
from lending.services.audit import audit_event
from lending.services.delinquency import DELINQUENCY_FIELDS, bucket_table, delinquency_update
from lending.services.hooks import money_moved_many
from lending.services.ledger import (
    LOAN_BALANCE_FIELDS,
    Staged,
    cash_in_fields,
    check_same_posting,
    installment_fields,
    lock_loans,
    no_such_loan,
    stage_transaction,
)
from lending.services.loans import unearned_interest_posting
from lending.services.repayments import (
    CLOSING_FIELDS,
    RepaymentResult,
    closed_if_paid,
    postable,
    repayment_audit,
    repayment_post,
    waterfall,
)
from lending.services.reprocess import MONEY_KINDS, needs_reprocess
from lending.validation import parse_amount

CHUNK = 500  # payments read, worked out and written together


@dataclass(frozen=True)
class Payment:
    """One payment as repayment_post takes it."""

    loan_id: int
    amount: object  # as received: parsed (and refused) as repayment_post parses it
    value_date: date
    idempotency_key: str = ""
    external_reference: str = ""
    channel: str = ""
    note: str = ""

    def post_alone(self, acting_user) -> RepaymentResult | LendingError:
        try:
            return repayment_post(
                loan_id=self.loan_id,
                amount=self.amount,
                value_date=self.value_date,
                idempotency_key=self.idempotency_key,
                external_reference=self.external_reference,
                channel=self.channel,
                note=self.note,
                acting_user=acting_user,
            )
        except LendingError as exc:
            return exc


@transaction.atomic
def repayments_post_many(
    *, payments: Sequence[Payment], acting_user
) -> list[RepaymentResult | LendingError]:
    """repayment_post for each payment, in order (see the module's docstring)."""
    require(acting_user, Perm.POST_REPAYMENT, to=_("post repayments"))
    try:
        with transaction.atomic():
            return _Batch(payments, acting_user).run()
    except IntegrityError:
        return [payment.post_alone(acting_user) for payment in payments]


def posted_repayments(keys: set[str]) -> dict[str, Transaction]:
    """The repayments already posted under these keys, by key. On PostgreSQL each key is
    probed through the unique index (kind, key) — a LATERAL subquery with LIMIT is never
    flattened into a join: given the keys as an IN list or a join, the planner, whose
    statistics may say the index is near empty (a first import of keyed payments, its rows
    added in the same transaction), scans every repayment's entry instead."""
    if not keys:
        return {}
    found = Transaction.objects.filter(kind=TransactionKind.REPAYMENT, idempotency_key__in=keys)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT t.id FROM unnest(%s::varchar[]) AS k(key) CROSS JOIN LATERAL "
                f'(SELECT id FROM "{Transaction._meta.db_table}" WHERE kind = %s '
                f"AND idempotency_key = k.key AND NOT idempotency_key = '' LIMIT 1) t",
                [sorted(keys), TransactionKind.REPAYMENT.value],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
        if not ids:
            return {}
        found = Transaction.objects.filter(pk__in=ids)
    return {t.idempotency_key: t for t in found.select_related("loan").order_by()}


def installments_from_first_unsettled(loan_ids: list[int]):
    """The loans' installments from each one's first unsettled installment on (all of them
    when none is), in order, each annotated with the latest night accrued on any of its loan's
    installments (`loan_accrued_through`), which the batch reads once, not every installment
    of a bank file's loans. What is left out is settled before the first unsettled one: it
    owes nothing, so the balances, the floor, the payoff quote (its running balance is the
    principal due from an installment on), the waterfall and the dpd are those of every
    installment; what a settled one still tells — the last night that ran on it — is in the
    annotation. `penalty_accrued` is left to the nights (read if ever touched)."""
    loan = F("loan_id")
    first_unsettled = Window(Min("seq", filter=Q(settled_on__isnull=True)), partition_by=loan)
    return (
        Installment.objects.filter(loan_id__in_array=loan_ids)
        .annotate(loan_accrued_through=Window(Max("penalty_accrued_through"), partition_by=loan))
        .filter(seq__gte=Coalesce(first_unsettled, 0))
        .defer("penalty_accrued")
        .order_by("loan_id", "seq")
    )


class _Batch:
    def __init__(self, payments: Sequence[Payment], acting_user):
        self.payments, self.acting_user = payments, acting_user
        # Each payment staged with the credit it added and whether it closed the loan.
        self.staged: list[tuple[Staged, object, bool]] = []
        self.companions: list[Staged] = []  # payoffs' unearned interest cancelled
        self.closed: set[int] = set()
        self.changes: list[BucketChange] = []
        self.delinquent: set[int] = set()  # loans whose dpd fields moved
        self.alone: set[int] = set()  # loans posted by repayment_post: the rest follow
        self.staged_loans: set[int] = set()  # loans with postings staged, not yet written
        self.keyed: dict[str, Transaction] = {}  # keys staged by this batch
        self.writer: WriteBehind | None = None  # the chunk before, still being written
        self._overlap = connection.vendor == "postgresql"

    def run(self) -> list[RepaymentResult | LendingError]:
        self.loans: dict[int, Loan] = {}
        self.posted: dict[str, Transaction] = {}
        self.installments: dict[int, list[Installment]] = defaultdict(list)
        self.accrued_through: dict[int, date | None] = {}
        self.latest_money: dict[int, date] = {}
        self.last_closed = BusinessDayRun.objects.last_closed_date()
        self.buckets = bucket_table(checked=False)
        # One "today" for the batch's future-date refusals: a batch running over midnight
        # refuses a payment valued on the new day, as it would have a second earlier.
        self.today = timezone.localdate()
        chunks = [self.payments[i : i + CHUNK] for i in range(0, len(self.payments), CHUNK)]
        answers: list[RepaymentResult | LendingError] = []
        try:
            if chunks:
                self._read(chunks[0])
            payments_left = Counter(payment.loan_id for payment in self.payments)
            for n, chunk in enumerate(chunks):
                answers += [self._one(payment) for payment in chunk]
                payments_left.subtract(payment.loan_id for payment in chunk)
                self._forget({p.loan_id for p in chunk if not payments_left[p.loan_id]})
                following = chunks[n + 1] if n + 1 < len(chunks) else []
                self._join()  # the chunk before: its writes are done
                if following and self._overlap and not self._shares_loans(following):
                    # The next chunk's loans are none of this one's, so its reads (first)
                    # cannot see this chunk's writes, which PostgreSQL does while Python
                    # works out the next chunk (write-behind).
                    self._read(following)
                    self._write(behind=True)
                else:
                    self._write()
                    if following:
                        self._read(following)
        finally:
            self._join()
        return answers

    def _read(self, chunk: Sequence[Payment]) -> None:
        """The chunk's loans not read before (a loan read by an earlier chunk is held as its
        postings left it), locked, with their installments, keys and latest money."""
        new = [p.loan_id for p in chunk if p.loan_id not in self.loans]
        loans = lock_loans(new) if new else {}
        self.loans.update(loans)
        keys = {p.idempotency_key.strip() for p in chunk} - {""}
        self.posted.update(posted_repayments(keys - set(self.keyed) - set(self.posted)))
        if not loans:
            return
        for installment in fetch_instances(installments_from_first_unsettled(list(loans))):
            self.installments[installment.loan_id].append(installment)
            self.accrued_through[installment.loan_id] = installment.loan_accrued_through
        self.latest_money.update(
            Transaction.objects.filter(loan_id__in_array=list(loans), kind__in=MONEY_KINDS)
            .values("loan_id")
            .annotate(latest=Max("value_date"))
            .values_list("loan_id", "latest")
        )

    def _forget(self, loan_ids: set[int]) -> None:
        """Loans no later payment of the batch names: what was read for them is let go (what
        is staged keeps what it needs), so a long batch holds a chunk's loans, not all."""
        for loan_id in loan_ids:
            self.loans.pop(loan_id, None)
            self.installments.pop(loan_id, None)
            self.accrued_through.pop(loan_id, None)
            self.latest_money.pop(loan_id, None)

    def _shares_loans(self, chunk: Sequence[Payment]) -> bool:
        return any(p.loan_id in self.staged_loans for p in chunk)

    def _one(self, payment: Payment) -> RepaymentResult | LendingError:
        loan = self.loans.get(payment.loan_id)
        if loan is None:
            return no_such_loan(payment.loan_id)
        if loan.pk in self.alone:
            return self._alone(payment)
        try:
            amount = parse_amount(payment.amount, field="amount", currency=loan.currency)
            fields = cash_in_fields(
                idempotency_key=payment.idempotency_key,
                external_reference=payment.external_reference,
                channel=payment.channel,
                note=payment.note,
            )
            key = fields["idempotency_key"]
            existing = self.keyed.get(key) or self.posted.get(key) if key else None
            if existing is not None:
                check_same_posting(existing, key=key, loan=loan, amount=amount)
                return RepaymentResult(
                    existing, duplicate=True, closed=loan.status == LoanStatus.CLOSED
                )
            installments = self.installments[loan.pk]
            payoff = postable(loan, installments, amount, payment.value_date, today=self.today)
        except LendingError as exc:
            return exc
        if (
            (payoff and loan.pk in self.staged_loans)  # its companion would precede them
            or loan.credit_balance > 0
            or needs_reprocess(
                loan,
                installments,
                payment.value_date,
                last_closed=self.last_closed,
                latest_money=self.latest_money.get(loan.pk),
                accrued_through=self.accrued_through.get(loan.pk),
            )
        ):
            return self._alone(payment)
        return self._stage(loan, installments, amount, payment.value_date, fields, payoff)

    def _alone(self, payment: Payment) -> RepaymentResult | LendingError:
        """repayment_post reads the loan afresh: what is staged for it goes to the database
        first (with the rest staged so far)."""
        self._join()
        staged_key = self.keyed.get(payment.idempotency_key.strip())
        if payment.loan_id in self.staged_loans or (staged_key and staged_key.pk is None):
            self._write()  # and its key, staged for another loan, answers as it would
        self.alone.add(payment.loan_id)
        answer = payment.post_alone(self.acting_user)
        if isinstance(answer, RepaymentResult) and answer.transaction.idempotency_key:
            self.keyed[answer.transaction.idempotency_key] = answer.transaction
        return answer

    def _stage(self, loan, installments, amount, value_date, fields, payoff) -> RepaymentResult:
        """_post_directly in memory: a payoff's unearned interest cancelled first (its
        companion, linked to the payment once both are written), then the waterfall."""
        cancel = None
        if payoff:
            cancel = unearned_interest_posting(loan, installments, value_date, self.acting_user)
            if cancel:
                self.companions.append(stage_transaction(**cancel))
        lines, left = waterfall(loan, installments, amount, value_date, payoff=payoff)
        staged = stage_transaction(
            loan=loan,
            kind=TransactionKind.REPAYMENT,
            value_date=value_date,
            lines=lines,
            installments=installments,
            amount=amount,
            credit=left,
            acting_user=self.acting_user,
            **fields,
        )
        if cancel:
            self.companions[-1].transaction.caused_by = staged.transaction
        closed = closed_if_paid(loan)
        if closed:
            self.closed.add(loan.pk)
        change, moved = delinquency_update(
            loan,
            installments,
            recorded_on=value_date,
            last_closed=self.last_closed,
            table=self.buckets,
        )
        if change is not None:
            self.changes.append(change)
        if moved:
            self.delinquent.add(loan.pk)
        self.staged.append((staged, left, closed))
        self.staged_loans.add(loan.pk)
        if fields["idempotency_key"]:
            self.keyed[fields["idempotency_key"]] = staged.transaction
        self.latest_money[loan.pk] = max(value_date, self.latest_money.get(loan.pk) or value_date)
        return RepaymentResult(staged.transaction, closed=closed)

    def _write(self, *, behind: bool = False) -> None:
        """What is staged, in one statement per table (see _Staged.write); with `behind`, in
        a thread of its own on this transaction's connection while the caller goes on — it
        must not use the database until `_join`."""
        if not self.staged:
            return
        staged = _Staged(self.staged, self.companions, self.changes, self.delinquent, self.closed)
        self.staged, self.companions, self.changes = [], [], []
        self.delinquent, self.closed, self.staged_loans = set(), set(), set()
        if behind:
            self.writer = WriteBehind(partial(staged.write, self.acting_user))
        else:
            staged.write(self.acting_user)

    def _join(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.join()


@dataclass
class _Staged:
    """A chunk's postings worked out in memory, to be written together."""

    payments: list[tuple[Staged, object, bool]]
    companions: list[Staged]
    changes: list[BucketChange]
    delinquent: set[int]
    closed: set[int]

    def _insert_then_link(self, payments: list[Transaction]) -> None:
        companions = [c.transaction for c in self.companions]
        links = [(companion, companion.caused_by) for companion in companions]
        for companion in companions:
            companion.caused_by = None
        bulk_insert(companions)
        bulk_insert(payments)
        for companion, payment in links:
            companion.caused_by = payment
        bulk_save(companions, ["caused_by"])

    def write(self, acting_user) -> None:
        """One statement per table. A payoff's companion comes just before its payment, as
        repayment_post posts them: numbered from the sequence in that order and inserted
        already linked; elsewhere than PostgreSQL, inserted first, then linked."""
        everything = [*self.companions, *(staged for staged, *_ in self.payments)]
        companion_of = {id(c.transaction.caused_by): c.transaction for c in self.companions}
        payments = [staged.transaction for staged, *_ in self.payments]
        transactions = []
        for payment in payments:
            if id(payment) in companion_of:
                transactions.append(companion_of[id(payment)])
            transactions.append(payment)
        lines = [line for s in everything for line in s.lines]
        # Numbered first, so nothing inserted inside the pipeline is waited for but the audit
        # events, last: built there (they name their transactions), while PostgreSQL inserts.
        numbered = take_ids(transactions, lines, self.changes)
        with pipelined():
            if numbered:
                bulk_insert(transactions)
            else:
                self._insert_then_link(payments)
            bulk_insert(lines)
            moved = {i.pk: i for s in everything for i in s.installments}
            settled = installment_fields(Effect.SETTLE)
            if self.companions:  # cancelled interest lowers what is due
                settled = [*installment_fields(Effect.CHARGE)[:-1], *settled]
            bulk_save(list(moved.values()), settled)
            loans = list({payment.loan_id: payment.loan for payment in payments}.values())
            now = timezone.now()
            for loan in loans:
                loan.updated_at = now  # a bulk write does not touch auto_now fields
            fields = LOAN_BALANCE_FIELDS
            if any(loan.pk in self.delinquent for loan in loans):
                fields = [*fields, *DELINQUENCY_FIELDS[:-1]]
            if any(loan.pk in self.closed for loan in loans):
                fields = [*fields, *CLOSING_FIELDS[:-1]]
            bulk_save(loans, fields)
            bulk_insert(self.changes)
            bulk_insert(
                [
                    audit_event(
                        **repayment_audit(
                            staged.transaction.loan,
                            staged.transaction,
                            left,
                            closed=closed,
                            acting_user=acting_user,
                        )
                    )
                    for staged, left, closed in self.payments
                ]
            )
        money_moved_many(loans, acting_user=acting_user)
