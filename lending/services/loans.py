"""Loan lifecycle: book approved, reject, cancel, disburse, write off (DESIGN §5, §10)."""

import re
from collections.abc import Callable
from datetime import date
from uuid import uuid4

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lending.access import Perm, require, stored_user
from lending.allocation import COMPONENTS, Parts
from lending.errors import LendingError, LendingErrorCode, translated
from lending.models import Borrower, Installment, Loan, LoanProduct, LoanStatus, TransactionKind
from lending.models.borrowers import KycStatus
from lending.models.loans import LoanOrigin
from lending.models.products import CONTRACT_TERMS
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
from lending.services.hooks import money_moved
from lending.services.ledger import (
    apply_credit,
    loan_installments,
    lock_loan,
    payoff_for,
    post_transaction,
)
from lending.validation import (
    check_first_due_date,
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
    LoanStatus.APPROVED: gettext_lazy("approved"),
    LoanStatus.ACTIVE: gettext_lazy("disbursed"),
    LoanStatus.CLOSED: gettext_lazy("closed"),
    LoanStatus.REJECTED: gettext_lazy("rejected"),
    LoanStatus.CANCELLED: gettext_lazy("cancelled"),
    LoanStatus.WRITTEN_OFF: gettext_lazy("written off"),
}


# Checks other apps register (in AppConfig.ready) to run under the borrower lock before a loan
# is paid out; each raises LendingError to refuse. Risk registers the credit-limit check.
DISBURSEMENT_CHECKS: list[Callable[[Loan], None]] = []


def register_disbursement_check(check: Callable[[Loan], None]) -> None:
    if check not in DISBURSEMENT_CHECKS:
        DISBURSEMENT_CHECKS.append(check)


def transition(loan: Loan, to: LoanStatus) -> None:
    """Move the loan's status, refusing anything the state machine does not allow."""
    current = LoanStatus(loan.status)
    if to not in ALLOWED_TRANSITIONS[current]:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _("loan %(loan)s is %(status)s; it cannot be %(verb)s")
            % {"loan": loan.reference, "status": str(current.label).lower(), "verb": VERB[to]},
            field="status",
        )
    loan.status = to


# A migrated loan keeps the reference it had in the book it comes from; the book's own numbers
# (LN + 8 digits, from the primary key) and the placeholder prefix stay reserved.
_GIVEN_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]*")
_RESERVED_REFERENCE = re.compile(r"(LN\d{8}|TMP.*)", re.IGNORECASE)


def _given_reference(reference: str, origin: LoanOrigin) -> str:
    reference = clean_text(reference, field="reference", max_length=20)
    if not reference:
        return ""
    if origin != LoanOrigin.MIGRATED:
        raise LendingError(
            LendingErrorCode.INVALID,
            "only a migrated loan keeps a reference of its own; the book numbers the others",
            field="reference",
        )
    if not _GIVEN_REFERENCE.fullmatch(reference) or _RESERVED_REFERENCE.fullmatch(reference):
        raise LendingError(
            LendingErrorCode.INVALID,
            f"{reference!r} cannot be a loan reference: letters, digits and _ . / - only, "
            "and not LN followed by 8 digits (the book's own numbers)",
            field="reference",
        )
    if Loan.objects.filter(reference=reference).exists():
        raise LendingError(
            LendingErrorCode.DUPLICATE,
            f"a loan with reference {reference} already exists",
            field="reference",
        )
    return reference


def _book_pending(
    *,
    borrower: Borrower,
    product: LoanProduct,
    principal,
    annual_rate,
    term_months: int,
    purpose: str,
    origin: LoanOrigin,
    acting_user,
    reference: str = "",
) -> Loan:
    """The loan record on the product's terms, refusing anything outside its ranges."""
    reference = _given_reference(reference, origin)
    principal = parse_amount(principal, field="amount", currency=product.currency)
    annual_rate = parse_rate(annual_rate, field="rate")
    if borrower.is_blacklisted:
        raise LendingError(
            LendingErrorCode.BLACKLISTED,
            _("borrower is blacklisted (%(reason)s)") % {"reason": borrower.blacklist_reason},
            field="borrower",
        )
    if not product.is_active:
        raise LendingError(
            LendingErrorCode.PRODUCT_NOT_ACTIVE,
            _("product %(product)s is not active") % {"product": product.code},
            field="product",
        )
    check_loan_terms(
        product=product, principal=principal, annual_rate=annual_rate, term_months=term_months
    )
    loan = Loan.objects.create(
        reference=f"TMP{uuid4().hex[:16]}",  # replaced by the pk-based number below
        borrower=borrower,
        product=product,
        purpose=purpose,
        origin=origin,
        **booked_terms(
            product, principal=principal, annual_rate=annual_rate, term_months=term_months
        ),
        created_by=stored_user(acting_user),
    )
    loan.reference = reference or f"LN{loan.pk:08d}"
    try:
        with transaction.atomic():
            loan.save(update_fields=["reference"])
    except IntegrityError:  # the same reference migrated at the same moment
        raise LendingError(
            LendingErrorCode.DUPLICATE,
            f"a loan with reference {reference} already exists",
            field="reference",
        ) from None
    audit_log(
        actor=acting_user,
        action="loan.create",
        obj=loan,
        summary=f"booked {loan.reference}: {principal} at {annual_rate} for {term_months} months",
        data={
            "principal": str(principal),
            "rate": str(annual_rate),
            "term": term_months,
            "origin": str(origin),
        },
    )
    return loan


def _approve(loan: Loan, acting_user) -> None:
    if loan.borrower.kyc_status != KycStatus.VERIFIED:
        raise LendingError(
            LendingErrorCode.KYC_NOT_VERIFIED,
            _("the borrower's KYC is not verified; verify it before approving"),
            field="borrower",
        )
    transition(loan, LoanStatus.APPROVED)
    loan.approved_at = timezone.now()
    loan.approved_by = stored_user(acting_user)
    loan.save(update_fields=["status", "approved_at", "approved_by", "updated_at"])
    audit_log(actor=acting_user, action="loan.approve", obj=loan, summary="approved")


@transaction.atomic
def loan_book_approved(
    *,
    borrower: Borrower,
    product: LoanProduct,
    principal,
    annual_rate,
    term_months: int,
    acting_user,
    purpose: str = "",
    origin: LoanOrigin = LoanOrigin.APPLICATION,
    reference: str = "",
) -> Loan:
    """Book an approved loan. There is one route to an approved loan (DESIGN §10): risk's
    underwriting calls this for an application the active policy approved within the limit, or a
    second officer approved on review. Book migration (`origin=migrated`, its own permission)
    brings loans contracted elsewhere, keeping their `reference` when one is given. No door
    approves a loan by itself."""
    if origin == LoanOrigin.MIGRATED:
        require(acting_user, Perm.MIGRATE_LOAN, to=_("migrate loans onto the book"))
    else:
        require(acting_user, Perm.APPROVE_LOAN, to=_("approve loans"))
    loan = _book_pending(
        borrower=borrower,
        product=product,
        principal=principal,
        annual_rate=annual_rate,
        term_months=term_months,
        purpose=purpose,
        origin=LoanOrigin(origin),
        acting_user=acting_user,
        reference=reference,
    )
    _approve(loan, acting_user)
    return loan


@transaction.atomic
def loan_reject(*, loan_id: int, reason: str, acting_user) -> Loan:
    """Reject a loan still pending (loans booked before applications were the only route)."""
    require(acting_user, Perm.CANCEL_LOAN, to=_("reject or cancel loans"))
    return _close_application(loan_id, LoanStatus.REJECTED, reason, acting_user)


@transaction.atomic
def loan_cancel(*, loan_id: int, reason: str, acting_user) -> Loan:
    """Cancel a loan before disbursement (the borrower withdrew, the terms changed)."""
    require(acting_user, Perm.CANCEL_LOAN, to=_("reject or cancel loans"))
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
        raise LendingError(LendingErrorCode.INVALID, translated(exc), field=exc.field) from None


@transaction.atomic
def loan_disburse(
    *, loan_id: int, disbursement_date: date, first_due_date: date | None = None, acting_user
) -> Loan:
    """Pay the loan out: fix the schedule as installments and post the disbursement. The
    borrower is locked first (the order underwriting takes), then the loan's state and the
    registered checks (risk: the credit limit) are read again under that lock."""
    require(acting_user, Perm.DISBURSE_LOAN, to=_("disburse loans"))
    check_not_future(disbursement_date, field="disbursement_date")
    borrower_id = Loan.objects.filter(pk=loan_id).values_list("borrower_id", flat=True).first()
    if borrower_id is None:
        raise LendingError(LendingErrorCode.NOT_FOUND, _("no such loan"), field="loan")
    Borrower.objects.select_for_update().filter(pk=borrower_id).first()
    loan = lock_loan(loan_id)
    transition(loan, LoanStatus.ACTIVE)
    if loan.borrower.is_blacklisted:
        raise LendingError(
            LendingErrorCode.BLACKLISTED, _("borrower is blacklisted"), field="borrower"
        )
    for check in DISBURSEMENT_CHECKS:
        check(loan)
    check_first_due_date(
        first_due_date,
        start_date=disbursement_date,
        term_months=loan.term_months,
        method=loan.repayment_method,
        max_first_period_days=loan.product.max_first_period_days,
    )
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


def booked_terms(product, *, principal, annual_rate, term_months) -> dict:
    """What a loan takes from its product when it is booked, fixed for its life (the demo's
    bulk book uses the same)."""
    return dict(
        currency=product.currency,
        principal=principal,
        annual_rate=annual_rate,
        term_months=term_months,
        repayment_method=product.repayment_method,
        day_count=product.day_count,
        origination_fee=product.origination_fee_for(principal),
        fee_collection=product.fee_collection,
        **{name: getattr(product, name) for name in CONTRACT_TERMS},
    )


def cancel_unearned_interest(loan, installments, as_of: date, acting_user):
    """Post the interest adjustment that leaves interest owed only up to `as_of` (or None)."""
    posting = unearned_interest_posting(loan, installments, as_of, acting_user)
    return post_transaction(**posting) if posting else None


def unearned_interest_posting(loan, installments, as_of: date, acting_user) -> dict | None:
    """What cancel_unearned_interest posts, for post_transaction or stage_transaction."""
    quote = payoff_for(loan, installments, as_of)
    if not quote.unearned_interest:
        return None
    return dict(
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
    require(acting_user, Perm.WRITE_OFF_LOAN, to=_("write off loans"))
    reason = clean_text(reason, field="reason", max_length=255, required=True)
    check_not_future(value_date, field="value_date")
    loan = lock_loan(loan_id)
    transition(loan, LoanStatus.WRITTEN_OFF)
    if value_date < loan.start_date:
        # Before the money went out there was nothing to write off; such a date would also
        # cancel interest already due as "unearned".
        raise LendingError(
            LendingErrorCode.OUT_OF_RANGE,
            _("%(date)s is before the loan was disbursed (%(start)s)")
            % {"date": value_date, "start": loan.start_date},
            field="value_date",
        )
    installments = loan_installments(loan)
    cancel_unearned_interest(loan, installments, value_date, acting_user)
    # Money the borrower already paid in reduces what is lost.
    apply_credit(loan, installments, value_date, acting_user, whole_loan=True)
    remaining = {i.seq: Parts(*(i.outstanding_of(c) for c in COMPONENTS)) for i in installments}
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
    money_moved(loan, acting_user=acting_user)
    return loan
