"""Loan applications: evaluate with the active policy, then approve within the available limit,
refer to a credit officer (four eyes), or decline with the reasons (DESIGN §7)."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lending.access import Perm, require, require_other_person, stored_user
from lending.errors import LendingError, LendingErrorCode
from lending.models import Borrower, Loan, LoanProduct
from lending.models.loans import LoanOrigin
from lending.money import money_str, quantize_money
from lending.selectors import product_quote
from lending.services.audit import audit_log
from lending.services.loans import loan_book_approved
from lending.validation import clean_text, parse_amount
from risk.models import (
    ApplicationStatus,
    CreditLimit,
    CreditPolicy,
    Decision,
    LimitStatus,
    LoanApplication,
    Outcome,
)
from risk.policy import Decision as PolicyDecision
from risk.policy import LoanRequest, evaluate
from risk.reason_texts import reason_text
from risk.reasons import Message, render
from risk.selectors import active_policy, exposure, profile_for, profile_snapshot
from risk.services.limits import credit_limit_change, lock_limit

LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
LIMIT_FROZEN = "LIMIT_FROZEN"


def limit_check_at_disbursement(loan: Loan) -> None:
    """Registered with lending's disbursement (RiskConfig.ready): under the borrower lock, the
    limit must still be active and cover everything owed or approved, this loan included.
    Between approval and payout a limit can be frozen by the nightly review or cut."""
    if loan.origin != LoanOrigin.APPLICATION:
        return  # contracted elsewhere and migrated: no limit of ours approved it
    limit = CreditLimit.objects.select_for_update().filter(borrower_id=loan.borrower_id).first()
    if limit is None or limit.status != LimitStatus.ACTIVE:
        state = limit.get_status_display().lower() if limit else _("not set")
        raise LendingError(
            LendingErrorCode.LIMIT_NOT_ACTIVE,
            _("the borrower's credit limit is %(status)s; %(loan)s cannot be disbursed")
            % {"status": state, "loan": loan.reference},
            field="borrower",
        )
    used = exposure(loan.borrower_id)
    if used > limit.amount:
        raise LendingError(
            LendingErrorCode.LIMIT_EXCEEDED,
            _(
                "%(used)s owed or approved, this loan included, exceeds the limit of "
                "%(limit)s; %(loan)s cannot be disbursed"
            )
            % {
                "used": money_str(quantize_money(used)),
                "limit": money_str(limit.amount),
                "loan": loan.reference,
            },
            field="borrower",
        )


def _record(borrower, record: CreditPolicy, decision: PolicyDecision, profile) -> Decision:
    data = decision.as_dict()
    return Decision.objects.create(
        borrower=borrower,
        policy=record,
        outcome=decision.outcome,
        score=decision.score,
        grade=decision.grade,
        limit=decision.limit,
        reasons=data["reasons"],
        trace=data["trace"],
        profile=profile_snapshot(profile),
    )


def _limit_refusal(
    borrower: Borrower, amount: Decimal, record: CreditPolicy, decided_limit, acting_user
) -> dict | None:
    """Set the first limit from the decision, then check outstanding + requested ≤ limit.
    The limit row is locked: concurrent applications of one borrower queue here. A refusal is
    a reason as stored with a decision (code, English text, message key and parameters)."""
    limit = lock_limit(borrower)
    if not limit.history.exists() and decided_limit > 0:
        limit = credit_limit_change(
            borrower=borrower,
            kind="set",
            amount=decided_limit,
            status=LimitStatus.ACTIVE,
            reason=Message.of("limit.first", version=record.version),
            policy=record,
            acting_user=acting_user,
        )
    if limit.status != LimitStatus.ACTIVE:
        return _refusal(LIMIT_FROZEN, "limit.not_active", status=limit.status)
    used = exposure(borrower.pk)
    if used + amount > limit.amount:
        return _refusal(
            LIMIT_EXCEEDED,
            "limit.exceeded",
            owed=money_str(quantize_money(used)),
            requested=str(amount),
            credit_limit=str(limit.amount),
            left=money_str(quantize_money(max(limit.amount - used, 0))),
        )
    return None


def _refusal(code: str, message: str, **params) -> dict:
    return {
        "code": code,
        "text": render(message, params),
        "weight": None,
        "attribute": None,
        "message": message,
        "params": params,
    }


def _book(application: LoanApplication, annual_rate: Decimal, acting_user) -> None:
    loan = loan_book_approved(
        borrower=application.borrower,
        product=application.product,
        principal=application.amount,
        annual_rate=annual_rate,
        term_months=application.term_months,
        purpose=application.purpose,
        acting_user=acting_user,
    )
    application.loan = loan
    application.status = ApplicationStatus.APPROVED


@transaction.atomic
def application_submit(
    *,
    borrower_id: int,
    product: LoanProduct,
    amount,
    term_months: int,
    acting_user,
    purpose: str = "",
    annual_rate: Decimal | None = None,
    as_of: date | None = None,
) -> LoanApplication:
    """Underwrite an application with the active policy and act on the outcome."""
    require(acting_user, Perm.SUBMIT_APPLICATION, to=_("submit applications"))
    borrower = Borrower.objects.select_for_update().filter(pk=borrower_id).first()
    if borrower is None:
        raise LendingError(LendingErrorCode.NOT_FOUND, _("no such borrower"), field="borrower")
    amount = parse_amount(amount, field="amount", currency=product.currency)
    purpose = clean_text(purpose, field="purpose", max_length=200)
    annual_rate = product.max_rate if annual_rate is None else annual_rate
    as_of = as_of or timezone.localdate()
    schedule = product_quote(
        product=product,
        amount=amount,
        annual_rate=annual_rate,
        term_months=term_months,
        start_date=as_of,
    )
    payment = max(row.total for row in schedule.installments)
    record, policy = active_policy()
    profile = profile_for(borrower, as_of)
    decision = evaluate(profile, policy, LoanRequest(amount=amount, new_monthly_payment=payment))
    stored = _record(borrower, record, decision, profile)
    application = LoanApplication(
        borrower=borrower,
        product=product,
        amount=amount,
        term_months=term_months,
        annual_rate=annual_rate,
        purpose=purpose,
        decision=stored,
        submitted_by=stored_user(acting_user),
    )
    if decision.outcome == Outcome.APPROVE:
        refusal = _limit_refusal(borrower, amount, record, decision.limit, acting_user)
        if refusal:
            application.status = ApplicationStatus.DECLINED
            # A note in the submitter's language; the decision's reasons render in the reader's.
            application.review_note = reason_text(refusal)[:255]
            stored.reasons = [refusal, *stored.reasons]
            stored.save(update_fields=["reasons"])
        else:
            _book(application, annual_rate, acting_user)
    elif decision.outcome == Outcome.REFER:
        application.status = ApplicationStatus.REFERRED
    else:
        application.status = ApplicationStatus.DECLINED
    application.save()
    audit_log(
        actor=acting_user,
        action="application.submit",
        obj=application,
        summary=f"{application.status}: {amount} over {term_months} months",
        data={"decision": stored.pk, "policy_version": record.version, "loan": application.loan_id},
    )
    return application


@transaction.atomic
def application_review(
    *, application_id: int, approve: bool, note: str, acting_user
) -> LoanApplication:
    """A credit officer decides a referred application; never their own (four eyes)."""
    require(acting_user, Perm.DECIDE_APPLICATION, to=_("decide applications"))
    note = clean_text(note, field="note", max_length=255, required=True)
    application = (
        # of=("self",): lock the application only (the decision join is an outer join).
        LoanApplication.objects.select_for_update(of=("self",))
        .select_related("decision__policy")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise LendingError(
            LendingErrorCode.NOT_FOUND, _("no such application"), field="application"
        )
    if application.status != ApplicationStatus.REFERRED:
        raise LendingError(
            LendingErrorCode.ILLEGAL_TRANSITION,
            _("application %(id)s is %(status)s, not awaiting review")
            % {"id": application.pk, "status": application.get_status_display().lower()},
            field="status",
        )
    require_other_person(
        application.submitted_by_id,
        acting_user,
        what=_("submitted this application"),
        checker=_("another credit officer must review it"),
        field="reviewer",
    )
    Borrower.objects.select_for_update().get(pk=application.borrower_id)
    if approve:
        refusal = _limit_refusal(
            application.borrower,
            application.amount,
            application.decision.policy,
            application.decision.limit,
            acting_user,
        )
        if refusal:
            code = (
                LendingErrorCode.LIMIT_EXCEEDED
                if refusal["code"] == LIMIT_EXCEEDED
                else LendingErrorCode.LIMIT_NOT_ACTIVE
            )
            raise LendingError(code, reason_text(refusal), field="amount")
        _book(application, application.annual_rate, acting_user)
    else:
        application.status = ApplicationStatus.DECLINED
    application.reviewed_by = stored_user(acting_user)
    application.reviewed_at = timezone.now()
    application.review_note = note
    application.save()
    audit_log(
        actor=acting_user,
        action="application.approve" if approve else "application.decline",
        obj=application,
        summary=note,
        data={"loan": application.loan_id},
    )
    return application
