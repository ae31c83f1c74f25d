"""Loan lifecycle: book, approve, reject, cancel, disburse, write off (DESIGN §5)."""

from datetime import date
from uuid import uuid4

from django.db import transaction
from django.utils import timezone

from lending.allocation import COMPONENTS, Parts
from lending.errors import LendingError, LendingErrorCode
from lending.models import Borrower, Installment, Loan, LoanProduct, LoanStatus, TransactionKind
from lending.models.borrowers import KycStatus
from lending.money import ZERO
from lending.schedules import (
    DayCount,
    FeeCollection,
    RepaymentMethod,
    ScheduleError,
    ScheduleTerms,
    build_schedule,
)
from lending.services.audit import audit_log
from lending.services.ledger import (
    apply_credit,
    loan_installments,
    lock_loan,
    payoff_for,
    post_transaction,
)
from lending.validation import (
    check_loan_terms,
    check_not_future,
    clean_text,
    parse_amount,
    parse_rate,
)

ALLOWED_TRANSITIONS = {
    LoanStatus.PENDING: {LoanStatus.APPROVED, LoanStatus.REJECTED, LoanStatus.CANCELLED},
    LoanStatus.APPROVED: {LoanStatus.ACTIVE, LoanStatus.CANCELLED},
    LoanStatus.ACTIVE: {LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF},
    # A reversed payoff reopens a closed loan.
    LoanStatus.CLOSED: {LoanStatus.ACTIVE},
    LoanStatus.REJECTED: set(),
    LoanStatus.CANCELLED: set(),
    LoanStatus.WRITTEN_OFF: set(),
}

VERB = {
    LoanStatus.APPROVED: "approved",
    LoanStatus.ACTIVE: "disbursed",
    LoanStatus.CLOSED: "closed",
    LoanStatus.REJECTED: "rejected",
    LoanStatus.CANCELLED: "cancelled",
    LoanStatus.WRITTEN_OFF: "written off",
}


def transition(loan: Loan, to: LoanStatus) -> None:
    """Move the loan's status, refusing anything the state machine does not allow."""
    current = LoanStatus(loan.status)
    if to not in ALLOWED_TRANSITIONS[current]:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            f"loan {loan.reference} is {current.label.lower()}; it cannot be {VERB[to]}",
            field="status",
        )
    loan.status = to


@transaction.atomic
def loan_create(
    *,
    borrower: Borrower,
    product: LoanProduct,
    principal,
    annual_rate,
    term_months: int,
    purpose: str = "",
    acting_user,
) -> Loan:
    """Book a pending loan on the product's terms, refusing anything outside its ranges."""
    principal = parse_amount(principal, field="amount", currency=product.currency)
    annual_rate = parse_rate(annual_rate, field="rate")
    if borrower.is_blacklisted:
        raise LendingError(
            LendingErrorCode.BLACKLISTED,
            f"borrower is blacklisted ({borrower.blacklist_reason})",
            field="borrower",
        )
    if not product.is_active:
        raise LendingError(
            LendingErrorCode.INVALID, f"product {product.code} is not active", field="product"
        )
    check_loan_terms(
        product=product, principal=principal, annual_rate=annual_rate, term_months=term_months
    )
    loan = Loan.objects.create(
        reference=f"TMP{uuid4().hex[:16]}",  # replaced by the pk-based number below
        borrower=borrower,
        product=product,
        purpose=purpose,
        currency=product.currency,
        principal=principal,
        annual_rate=annual_rate,
        term_months=term_months,
        repayment_method=product.repayment_method,
        day_count=product.day_count,
        origination_fee=product.origination_fee_for(principal),
        fee_collection=product.fee_collection,
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    loan.reference = f"LN{loan.pk:08d}"
    loan.save(update_fields=["reference"])
    audit_log(
        actor=acting_user,
        action="loan.create",
        obj=loan,
        summary=f"booked {loan.reference}: {principal} at {annual_rate} for {term_months} months",
        data={"principal": str(principal), "rate": str(annual_rate), "term": term_months},
    )
    return loan


@transaction.atomic
def loan_approve(*, loan_id: int, acting_user) -> Loan:
    loan = lock_loan(loan_id)
    if loan.borrower.kyc_status != KycStatus.VERIFIED:
        raise LendingError(
            LendingErrorCode.INVALID,
            "the borrower's KYC is not verified; verify it before approving",
            field="borrower",
        )
    if loan.borrower.is_blacklisted:
        raise LendingError(
            LendingErrorCode.BLACKLISTED, "borrower is blacklisted", field="borrower"
        )
    transition(loan, LoanStatus.APPROVED)
    loan.approved_at = timezone.now()
    loan.approved_by = acting_user if getattr(acting_user, "pk", None) else None
    loan.save(update_fields=["status", "approved_at", "approved_by", "updated_at"])
    audit_log(actor=acting_user, action="loan.approve", obj=loan, summary="approved")
    return loan


@transaction.atomic
def loan_reject(*, loan_id: int, reason: str, acting_user) -> Loan:
    return _close_application(loan_id, LoanStatus.REJECTED, reason, acting_user)


@transaction.atomic
def loan_cancel(*, loan_id: int, reason: str, acting_user) -> Loan:
    return _close_application(loan_id, LoanStatus.CANCELLED, reason, acting_user)


def _close_application(loan_id: int, to: LoanStatus, reason: str, acting_user) -> Loan:
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    loan = lock_loan(loan_id)
    transition(loan, to)
    loan.status_reason = reason
    loan.save(update_fields=["status", "status_reason", "updated_at"])
    audit_log(actor=acting_user, action=f"loan.{to.value}", obj=loan, summary=reason)
    return loan


def schedule_terms_for(loan: Loan, start_date: date, first_due_date: date | None) -> ScheduleTerms:
    try:
        return ScheduleTerms(
            principal=loan.principal,
            annual_rate=loan.annual_rate,
            term_months=loan.term_months,
            start_date=start_date,
            method=RepaymentMethod(loan.repayment_method),
            day_count=DayCount(loan.day_count),
            origination_fee=loan.origination_fee,
            fee_collection=FeeCollection(loan.fee_collection),
            first_due_date=first_due_date,
            currency=loan.currency,
        )
    except ScheduleError as exc:
        raise LendingError(LendingErrorCode.INVALID, exc.message, field=exc.field) from None


@transaction.atomic
def loan_disburse(
    *, loan_id: int, disbursement_date: date, first_due_date: date | None = None, acting_user
) -> Loan:
    """Pay the loan out: fix the schedule as installments and post the disbursement."""
    loan = lock_loan(loan_id)
    transition(loan, LoanStatus.ACTIVE)
    check_not_future(disbursement_date, field="disbursement_date")
    rows = build_schedule(schedule_terms_for(loan, disbursement_date, first_due_date))
    installments = Installment.objects.bulk_create(
        Installment(loan=loan, seq=row.seq, period_start=row.period_start, due_date=row.due_date)
        for row in rows
    )
    upfront = loan.origination_fee if loan.fee_collection == FeeCollection.UPFRONT else ZERO
    loan.start_date = disbursement_date
    loan.first_due_date = rows[0].due_date
    loan.maturity_date = rows[-1].due_date
    loan.disbursed_at = timezone.now()
    loan.save(
        update_fields=["status", "start_date", "first_due_date", "maturity_date", "disbursed_at"]
    )
    post_transaction(
        loan=loan,
        kind=TransactionKind.DISBURSEMENT,
        value_date=disbursement_date,
        lines={
            row.seq: Parts(principal=row.principal, interest=row.interest, fee=row.fee)
            for row in rows
        },
        installments=installments,
        amount=loan.principal - upfront,
        acting_user=acting_user,
        note=f"origination fee {upfront} deducted" if upfront else "",
    )
    audit_log(
        actor=acting_user,
        action="loan.disburse",
        obj=loan,
        summary=f"disbursed {loan.principal - upfront} on {disbursement_date}",
    )
    return loan


def cancel_unearned_interest(loan, installments, as_of: date, acting_user):
    """Post the interest adjustment that leaves interest owed only up to `as_of` (or None)."""
    quote = payoff_for(loan, installments, as_of)
    if not quote.unearned_interest:
        return None
    return post_transaction(
        loan=loan,
        kind=TransactionKind.INTEREST_ADJUSTMENT,
        value_date=as_of,
        lines={seq: Parts(interest=-amount) for seq, amount in quote.unearned_interest.items()},
        installments=installments,
        acting_user=acting_user,
        note=f"interest after {as_of} is not earned",
    )


@transaction.atomic
def loan_write_off(*, loan_id: int, reason: str, value_date: date, acting_user) -> Loan:
    """Remove the outstanding balance from the book: interest only to the write-off date."""
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    check_not_future(value_date, field="value_date")
    loan = lock_loan(loan_id)
    transition(loan, LoanStatus.WRITTEN_OFF)
    installments = loan_installments(loan)
    cancel_unearned_interest(loan, installments, value_date, acting_user)
    # Money the borrower already paid in reduces what is lost.
    apply_credit(loan, installments, value_date, acting_user, whole_loan=True)
    remaining = {
        i.seq: Parts(*(getattr(i, f"{c}_due") - getattr(i, f"{c}_settled") for c in COMPONENTS))
        for i in installments
    }
    write_off = post_transaction(
        loan=loan,
        kind=TransactionKind.WRITE_OFF,
        value_date=value_date,
        lines=remaining,
        installments=installments,
        acting_user=acting_user,
        note=reason,
    )
    loan.status_reason = reason
    loan.closed_at = timezone.now()
    loan.save(update_fields=["status", "status_reason", "closed_at", "updated_at"])
    audit_log(
        actor=acting_user,
        action="loan.write_off",
        obj=loan,
        summary=f"wrote off {Parts.sum(remaining.values()).total}: {reason}",
        data={"transaction": write_off.pk},
    )
    return loan
