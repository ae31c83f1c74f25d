"""Lending's own steps: spend credit on what fell due, flag overdue loans, accrue penalty.

On PostgreSQL, flagging and accrual are set-based SQL per chunk (`set_based`). Elsewhere (SQLite
for `make run`, whose numbers are not exact decimals in SQL) they read each table once per chunk
and do the arithmetic with the pure modules on the fetched rows, then write in bulk: never a
query per loan either way.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Min, Q, Sum

from lending.access import SYSTEM
from lending.close_of_business import set_based
from lending.close_of_business.bulk import bulk_set
from lending.delinquency import bucket_for, days_past_due
from lending.models import (
    BucketChange,
    Installment,
    Loan,
    LoanStatus,
    LprRate,
    Transaction,
    TransactionKind,
    TransactionLine,
)
from lending.models.loans import INSTALLMENT_OUTSTANDING
from lending.models.transactions import Effect
from lending.money import ZERO
from lending.penalty import BaseChange, OverdueInstallment, accrue_loan, counted_from
from lending.services.delinquency import bucket_move, bucket_table
from lending.services.repayments import loan_credit_apply


def apply_credit(*, business_date: date, loan_ids: list[int]) -> dict:
    """Overpaid money pays the installments that have fallen due. Few loans hold credit, so
    this calls the repayment service for each of those only."""
    # Only conditions no index serves besides the primary key: the query then reads just the
    # chunk's rows, not every loan due by the date (the due date is checked on the few holders).
    holders = [
        pk
        for pk, next_due in Loan.objects.filter(
            pk__in=loan_ids, status=LoanStatus.ACTIVE, credit_balance__gt=0
        ).values_list("pk", "next_due_date")
        if next_due is not None and next_due <= business_date
    ]
    applied = [
        loan_credit_apply(loan_id=pk, as_of=business_date, acting_user=SYSTEM) for pk in holders
    ]
    posted = [t for t in applied if t is not None]
    return {
        "credit_applications": len(posted),
        "credit_applied": sum((-t.credit for t in posted), ZERO),
    }


def set_based_sql() -> bool:
    """PostgreSQL computes in exact decimals, so the night's arithmetic can run in SQL there."""
    return connection.vendor == "postgresql"


def flag_overdue(*, business_date: date, loan_ids: list[int]) -> dict:
    """dpd and bucket for every loan of the chunk as of the business date; record bucket moves."""
    if set_based_sql():
        return set_based.flag_overdue(
            business_date=business_date, loan_ids=loan_ids, buckets=bucket_table()
        )
    return flag_overdue_by_rows(business_date=business_date, loan_ids=loan_ids)


def flag_overdue_by_rows(*, business_date: date, loan_ids: list[int]) -> dict:
    """The portable flagging: one read per table, the pure rules per fetched row."""
    buckets = bucket_table()
    loans = list(
        Loan.objects.filter(pk__in=loan_ids, status=LoanStatus.ACTIVE)
        .order_by("pk")
        .select_for_update(of=("self",))
        .only("pk", "dpd", "bucket", "dpd_as_of", "arrears_tolerance")
    )
    late = {
        row["loan_id"]: row
        for row in Installment.objects.filter(
            loan_id__in=loan_ids, due_date__lt=business_date, settled_on__isnull=True
        )
        .values("loan_id")
        .annotate(
            oldest=Min("due_date"),
            amount=Sum(INSTALLMENT_OUTSTANDING),
            newly=Count("pk", filter=Q(due_date=business_date - timedelta(days=1))),
        )
    }
    counts = defaultdict(int)
    changes = []
    for loan in loans:
        row = late.get(loan.pk, {})
        amount = row.get("amount") or ZERO
        dpd = days_past_due(
            oldest_unpaid_due=row.get("oldest"),
            overdue_amount=amount,
            tolerance=loan.arrears_tolerance,
            as_of=business_date,
        )
        bucket = bucket_for(dpd, buckets)
        counts["loans_examined"] += 1
        if dpd and not loan.dpd:
            counts["loans_newly_overdue"] += 1
        if loan.dpd and not dpd:
            counts["loans_cured"] += 1
        if dpd:
            counts["installments_newly_overdue"] += row.get("newly") or 0
        if bucket != loan.bucket:
            changes.append(bucket_move(loan, business_date, bucket, dpd, amount))
        loan.dpd, loan.bucket, loan.dpd_as_of = dpd, bucket, business_date
    bulk_set(
        Loan,
        [(loan.pk, loan.dpd, loan.bucket, business_date) for loan in loans],
        ["dpd", "bucket", "dpd_as_of"],
    )
    BucketChange.objects.bulk_create(changes, batch_size=1000)
    counts["bucket_moves"] = len(changes)
    return dict(counts)


def lpr_on(rates: list[tuple[date, Decimal]], contract_date: date) -> Decimal:
    """The one-year LPR in force on a date (rates sorted newest first)."""
    for effective, rate in rates:
        if effective <= contract_date:
            return rate
    raise LookupError(f"no LPR in force on {contract_date}; add it in the admin")


def accrue_penalty(*, business_date: date, loan_ids: list[int]) -> dict:
    """Penalty for the business date on every overdue installment, within each loan's cap."""
    if set_based_sql():
        return set_based.accrue_penalty(business_date=business_date, loan_ids=loan_ids)
    return accrue_penalty_by_rows(business_date=business_date, loan_ids=loan_ids)


def accrue_penalty_by_rows(*, business_date: date, loan_ids: list[int]) -> dict:
    """The portable accrual: the pure `accrue_loan` on each overdue loan's fetched rows."""
    _mark_within_tolerance(business_date, loan_ids)
    loans = {
        loan.pk: loan
        for loan in Loan.objects.filter(
            pk__in=loan_ids, status=LoanStatus.ACTIVE, dpd__gt=0
        ).order_by("pk")
    }
    if not loans:
        return {"accruals_posted": 0, "accrual_total": ZERO, "loans_capped": 0}
    overdue = defaultdict(list)
    for installment in Installment.objects.filter(
        loan_id__in=loans, due_date__lt=business_date, settled_on__isnull=True
    ).order_by("loan_id", "due_date", "seq"):
        overdue[installment.loan_id].append(installment)
    costs = {
        row["loan_id"]: row["interest"] + row["fee"] + row["penalty"]
        for row in Installment.objects.filter(loan_id__in=loans)
        .values("loan_id")
        .annotate(interest=Sum("interest_due"), fee=Sum("fee_due"), penalty=Sum("penalty_due"))
    }
    rates = list(
        LprRate.objects.order_by("-effective_date").values_list("effective_date", "one_year_rate")
    )
    postings: list[tuple[Loan, dict[int, Decimal]]] = []
    touched: list[Installment] = []
    capped = 0
    changes = base_changes_after(
        [i for rows in overdue.values() for i in rows], business_date, loans
    )
    for loan_id, installments in overdue.items():
        loan = loans[loan_id]
        accrual = accrue_loan(
            [overdue_state(i, changes.get(i.pk, ())) for i in installments],
            loan.penalty_terms(),
            business_date,
            loan.cost_cap(lpr_on(rates, loan.start_date)).headroom(
                business_date, costs[loan_id] + loan.upfront_fee
            ),
            loan.currency,
        )
        capped += accrual.capped
        for installment in installments:
            if installment.pk in accrual.new_accrued:
                installment.penalty_accrued = accrual.new_accrued[installment.pk]
                installment.penalty_due += accrual.posted.get(installment.pk, ZERO)
                installment.penalty_accrued_through = business_date
                touched.append(installment)
        if accrual.posted:
            postings.append((loan, accrual.posted))
    _post_accruals(business_date, postings)
    bulk_set(
        Installment,
        [(i.pk, i.penalty_accrued, i.penalty_due, i.penalty_accrued_through) for i in touched],
        ["penalty_accrued", "penalty_due", "penalty_accrued_through"],
    )
    total = sum((sum(posted.values(), ZERO) for _, posted in postings), ZERO)
    return {"accruals_posted": len(postings), "accrual_total": total, "loans_capped": capped}


def _mark_within_tolerance(business_date: date, loan_ids: list[int]) -> None:
    """Past grace but within the arrears tolerance the loan is not overdue (dpd 0): those nights
    owe no penalty, so they count as accrued — a later catch-up starts after them."""
    rows = Installment.objects.filter(
        loan_id__in=loan_ids,
        loan__status=LoanStatus.ACTIVE,
        loan__dpd=0,
        due_date__lt=business_date,
        settled_on__isnull=True,
    ).filter(Q(penalty_accrued_through__isnull=True) | Q(penalty_accrued_through__lt=business_date))
    past_grace = [
        pk
        for pk, due, grace in rows.values_list("pk", "due_date", "loan__grace_days")
        if (business_date - due).days > grace
    ]
    Installment.objects.filter(pk__in=past_grace).update(penalty_accrued_through=business_date)


def _post_accruals(business_date: date, postings) -> None:
    """One penalty_accrual transaction per loan (unique per loan and day) with its lines."""
    transactions = Transaction.objects.bulk_create(
        [
            Transaction(
                loan=loan,
                kind=TransactionKind.PENALTY_ACCRUAL,
                effect=Effect.CHARGE,
                value_date=business_date,
                penalty=sum(posted.values(), ZERO),
                note="nightly penalty accrual",
            )
            for loan, posted in postings
        ],
        batch_size=1000,
    )
    TransactionLine.objects.bulk_create(
        [
            TransactionLine(transaction=txn, installment_id=installment_id, penalty=amount)
            for txn, (_, posted) in zip(transactions, postings, strict=True)
            for installment_id, amount in posted.items()
        ],
        batch_size=2000,
    )
    for loan, posted in postings:
        loan.penalty_outstanding += sum(posted.values(), ZERO)
    bulk_set(
        Loan, [(loan.pk, loan.penalty_outstanding) for loan, _ in postings], ["penalty_outstanding"]
    )


def base_changes_after(
    installments: list[Installment], business_date: date, loans: dict[int, Loan]
) -> dict[int, tuple[BaseChange, ...]]:
    """Per installment, the postings that changed its principal or interest on a value date
    inside the days the date accrues (one query for the chunk; older ones are left out)."""
    if not installments:
        return {}
    earliest = min(
        counted_from(i.due_date, i.penalty_accrued_through, loans[i.loan_id].penalty_terms())
        for i in installments
    )
    found = defaultdict(list)
    for installment_id, effect, value_date, principal, interest in (
        TransactionLine.objects.filter(
            installment__in=installments, transaction__value_date__gt=earliest
        )
        .exclude(transaction__kind=TransactionKind.PENALTY_ACCRUAL)
        .values_list(
            "installment_id",
            "transaction__effect",
            "transaction__value_date",
            "principal",
            "interest",
        )
    ):
        sign = 1 if effect == Effect.CHARGE else -1
        found[installment_id].append(BaseChange(value_date, sign * principal, sign * interest))
    return {pk: tuple(rows) for pk, rows in found.items()}


def overdue_state(installment: Installment, changes=()) -> OverdueInstallment:
    return OverdueInstallment(
        installment_id=installment.pk,
        due_date=installment.due_date,
        principal_outstanding=installment.outstanding_of("principal"),
        interest_outstanding=installment.outstanding_of("interest"),
        penalty_accrued=installment.penalty_accrued,
        accrued_through=installment.penalty_accrued_through,
        base_changes=changes,
    )
