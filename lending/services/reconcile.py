"""Rebuild the balance caches from the transactions and report every difference (DESIGN §5).

Runs chunk by chunk of loan ids with grouped sums, so it reads the book in a bounded memory.
With `repair=True` it writes the rebuilt values (and an audit event per loan it fixed).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Q, Sum

from lending.allocation import COMPONENTS
from lending.models import Installment, Loan, Transaction, TransactionLine
from lending.models.transactions import Effect
from lending.money import ZERO, quantize_money
from lending.services.audit import audit_log
from lending.validation import check_count


@dataclass(frozen=True)
class Difference:
    loan_reference: str
    record: str  # "loan" or "installment #n"
    field: str
    cached: object
    rebuilt: object

    def __str__(self) -> str:
        return (
            f"{self.loan_reference} {self.record}: {self.field} is {self.cached}, "
            f"transactions say {self.rebuilt}"
        )


@dataclass
class ReconcileReport:
    loans: int = 0
    installments: int = 0
    differences: list[Difference] = field(default_factory=list)
    repaired: bool = False

    @property
    def clean(self) -> bool:
        return not self.differences


def _line_sums(filter_q: Q, group_by: str) -> dict[int, dict[str, Decimal]]:
    sums = {}
    aggregates = {}
    for effect in (Effect.CHARGE, Effect.SETTLE):
        for c in COMPONENTS:
            aggregates[f"{c}_{effect}"] = Sum(c, filter=Q(transaction__effect=effect))
    rows = (
        TransactionLine.objects.filter(filter_q)
        .values(group_by)
        .annotate(
            **aggregates,
            last_settle=Max("transaction__value_date", filter=Q(transaction__effect="settle")),
        )
    )
    for row in rows:
        sums[row[group_by]] = row
    return sums


def _expected_installment(sums: dict | None) -> dict[str, Decimal]:
    sums = sums or {}
    expected = {}
    for c in COMPONENTS:
        # Quantized: SQLite's SUM drops trailing zeros (138.5 for 138.50).
        expected[f"{c}_due"] = quantize_money(sums.get(f"{c}_{Effect.CHARGE}") or ZERO)
        expected[f"{c}_settled"] = quantize_money(sums.get(f"{c}_{Effect.SETTLE}") or ZERO)
    return expected


def reconcile_chunk(loan_ids: list[int], *, repair: bool, acting_user, report: ReconcileReport):
    loans = {loan.pk: loan for loan in Loan.objects.filter(pk__in=loan_ids)}
    per_installment = _line_sums(Q(transaction__loan_id__in=loan_ids), "installment_id")
    credit_by_loan = dict(
        Transaction.objects.filter(loan_id__in=loan_ids)
        .values_list("loan_id")
        .annotate(total=Sum("credit"))
    )
    installments_by_loan = defaultdict(list)
    for installment in Installment.objects.filter(loan_id__in=loan_ids).order_by("loan_id", "seq"):
        installments_by_loan[installment.loan_id].append(installment)
    for loan_id, loan in loans.items():
        report.loans += 1
        found: list[Difference] = []
        dirty_installments = []
        totals = dict.fromkeys(COMPONENTS, ZERO)
        unsettled_dates = []
        for installment in installments_by_loan[loan_id]:
            report.installments += 1
            sums = per_installment.get(installment.pk)
            expected = _expected_installment(sums)
            outstanding = sum(expected[f"{c}_due"] - expected[f"{c}_settled"] for c in COMPONENTS)
            expected["settled_on"] = (
                None
                if outstanding > 0
                else installment.settled_on or (sums or {}).get("last_settle")
            )
            if outstanding > 0:
                unsettled_dates.append(installment.due_date)
            for c in COMPONENTS:
                totals[c] += expected[f"{c}_due"] - expected[f"{c}_settled"]
            changed = False
            for name, value in expected.items():
                if getattr(installment, name) != value:
                    found.append(
                        Difference(
                            loan.reference,
                            f"installment #{installment.seq}",
                            name,
                            getattr(installment, name),
                            value,
                        )
                    )
                    setattr(installment, name, value)
                    changed = True
            if changed:
                dirty_installments.append(installment)
        expected_loan = {f"{c}_outstanding": totals[c] for c in COMPONENTS}
        expected_loan["credit_balance"] = quantize_money(credit_by_loan.get(loan_id) or ZERO)
        expected_loan["next_due_date"] = min(unsettled_dates) if unsettled_dates else None
        for name, value in expected_loan.items():
            if getattr(loan, name) != value:
                found.append(Difference(loan.reference, "loan", name, getattr(loan, name), value))
                setattr(loan, name, value)
        report.differences.extend(found)
        if repair and found:
            _write_repair(loan, dirty_installments, expected_loan, found, acting_user)


@transaction.atomic
def _write_repair(loan, installments, expected_loan, found, acting_user) -> None:
    Installment.objects.bulk_update(
        installments, [*(f"{c}_{s}" for c in COMPONENTS for s in ("due", "settled")), "settled_on"]
    )
    Loan.objects.filter(pk=loan.pk).update(**expected_loan)
    audit_log(
        actor=acting_user,
        action="loan.reconcile_repair",
        obj=loan,
        summary=f"rebuilt {len(found)} cached value(s) from transactions",
        data={"differences": [str(d) for d in found]},
    )


def reconcile_loans(
    *,
    acting_user,
    repair: bool = False,
    loan_ids: list[int] | None = None,
    chunk_size: int = 2000,
    progress=None,
) -> ReconcileReport:
    """Compare every loan's caches with its transactions; optionally write the rebuilt values."""
    # A chunk size below 1 would compare nothing and report a clean book.
    check_count(chunk_size, field="chunk_size")
    report = ReconcileReport(repaired=repair)
    ids = Loan.objects.order_by("pk").values_list("pk", flat=True)
    if loan_ids is not None:
        ids = ids.filter(pk__in=loan_ids)
    ids = list(ids)
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        reconcile_chunk(chunk, repair=repair, acting_user=acting_user, report=report)
        if progress:
            progress(len(chunk))
    return report
