"""The naive night: a per-loan Django ORM loop, the way the night is usually first written.

For each due-or-overdue loan, in its own transaction: load and lock the loan, load its
installments, compute dpd, bucket and penalty in Python with the project's own pure functions,
and save every changed row one by one (loan, bucket change, installments, the accrual
transaction and its lines). Same results as the set-based night; only the shape differs.
"""

import time
from datetime import date
from decimal import Decimal

from django.db import transaction

from lending.close_of_business.lending_steps import base_changes_after, lpr_on, overdue_state
from lending.delinquency import bucket_for, days_past_due
from lending.models import (
    BucketChange,
    Loan,
    LprRate,
    Transaction,
    TransactionKind,
    TransactionLine,
)
from lending.models.transactions import Effect
from lending.money import ZERO
from lending.penalty import accrue_loan
from lending.services.delinquency import bucket_table


def _outstanding(i) -> Decimal:
    return i.outstanding


def naive_loan(loan_id: int, business_date: date, buckets, rates) -> None:
    with transaction.atomic():
        loan = Loan.objects.select_for_update(of=("self",)).get(pk=loan_id)
        installments = list(loan.installments.order_by("seq"))
        late = [i for i in installments if i.due_date < business_date and i.settled_on is None]
        amount = sum((_outstanding(i) for i in late), ZERO)
        dpd = days_past_due(
            oldest_unpaid_due=min((i.due_date for i in late), default=None),
            overdue_amount=amount,
            tolerance=loan.arrears_tolerance,
            as_of=business_date,
        )
        bucket = bucket_for(dpd, buckets)
        if bucket != loan.bucket:
            BucketChange.objects.create(
                loan=loan,
                business_date=business_date,
                from_bucket=loan.bucket,
                to_bucket=bucket,
                dpd=dpd,
                overdue_amount=amount if dpd else ZERO,
            )
        loan.dpd, loan.bucket, loan.dpd_as_of = dpd, bucket, business_date
        loan.save(update_fields=["dpd", "bucket", "dpd_as_of"])
        if not dpd:
            return
        cost = sum((i.interest_due + i.fee_due + i.penalty_due for i in installments), ZERO)
        changes = base_changes_after(late, business_date, {loan.pk: loan})
        accrual = accrue_loan(
            [overdue_state(i, changes.get(i.pk, ())) for i in late],
            loan.penalty_terms(),
            business_date,
            loan.cost_cap(lpr_on(rates, loan.start_date)).headroom(
                business_date, cost + loan.upfront_fee
            ),
            loan.currency,
        )
        for i in late:
            if i.pk in accrual.new_accrued:
                i.penalty_accrued = accrual.new_accrued[i.pk]
                i.penalty_due += accrual.posted.get(i.pk, ZERO)
                i.penalty_accrued_through = business_date
                i.save(update_fields=["penalty_accrued", "penalty_due", "penalty_accrued_through"])
        if accrual.posted:
            txn = Transaction.objects.create(
                loan=loan,
                kind=TransactionKind.PENALTY_ACCRUAL,
                effect=Effect.CHARGE,
                value_date=business_date,
                penalty=accrual.total,
                note="nightly penalty accrual",
            )
            for installment_id, posted in accrual.posted.items():
                TransactionLine.objects.create(
                    transaction=txn, installment_id=installment_id, penalty=posted
                )
            loan.penalty_outstanding += accrual.total
            loan.save(update_fields=["penalty_outstanding"])


def naive_night(loan_ids: list[int], business_date: date) -> float:
    """Seconds the loop takes over `loan_ids`."""
    buckets = bucket_table()
    rates = list(
        LprRate.objects.order_by("-effective_date").values_list("effective_date", "one_year_rate")
    )
    started = time.monotonic()
    for loan_id in loan_ids:
        naive_loan(loan_id, business_date, buckets, rates)
    return time.monotonic() - started
