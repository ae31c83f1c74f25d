"""A settled agreement whose money bounces: the discount it earned is taken back with the
payment. The loan then owes exactly what a twin loan owes that had the same payments without
the bounced one and was never settled; the agreement settles it again if what stands still
meets it, and lapses if not."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from debt_collection.models import Case, CaseStatus, ProposalState, Queue
from debt_collection.services.cases import case_reassign
from debt_collection.services.concessions import settlement_decide, settlement_propose
from lending import roles
from lending.access import SYSTEM
from lending.allocation import COMPONENTS
from lending.errors import LendingError
from lending.models import AuditEvent, Loan, LoanStatus, Transaction, TransactionKind
from lending.services.repayments import repayment_post, repayment_reverse
from tests.collections.helpers import open_case, overdue_loans
from tests.collections.test_concessions import LATE_THROUGH, nights_until
from tests.lending.test_close_of_business import assert_reconciles

pytestmark = pytest.mark.django_db

AGREED_ON, DUE_BY = date(2026, 9, 26), date(2026, 10, 5)


def _case_and_twin(collector):
    """Two loans alike, late through LATE_THROUGH; the first one's case is the collector's."""
    loan, twin = overdue_loans(n=2)
    case = open_case(loan)
    Queue.objects.get(name="M1 early reminders").members.add(collector)
    case_reassign(case_ids=[case.pk], collector_id=collector.pk, reason="t", acting_user=SYSTEM)
    nights_until(LATE_THROUGH)
    return open_case(loan), twin


def _settled(case, collector, manager, clock, *, amount, payments):
    """An agreement for `amount`, paid by `payments` (value date → amount) and settled by the
    night of its date; the repayments posted, in order."""
    clock(AGREED_ON)
    proposal = settlement_propose(
        case_id=case.pk, amount=amount, due_by=DUE_BY, reason="lump sum", acting_user=collector
    )
    settlement_decide(proposal_id=proposal.pk, approve=True, acting_user=manager)
    clock(date(2026, 10, 8))
    posted = [
        repayment_post(loan_id=case.loan_id, amount=paid, value_date=day, acting_user=SYSTEM)
        for day, paid in payments
    ]
    nights_until(DUE_BY)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.SETTLED
    return proposal, [p.transaction for p in posted]


def _ledger(loan_id):
    """What a borrower is told they owe: the loan's balances and each installment's parts."""
    loan = Loan.objects.get(pk=loan_id)
    parts = [
        tuple(getattr(i, f"{c}_{side}") for c in COMPONENTS for side in ("due", "settled"))
        for i in loan.installments.order_by("seq")
    ]
    return loan.total_outstanding, loan.credit_balance, loan.dpd, parts


def _reversed(txn) -> bool:
    return Transaction.objects.filter(reverses=txn).exists()


def test_a_bounced_payment_that_leaves_the_agreement_short_breaks_it(
    collector, manager, finance_user, clock
):
    case, twin = _case_and_twin(collector)
    proposal, (_first, second) = _settled(
        case,
        collector,
        manager,
        clock,
        amount="800.00",
        payments=[(date(2026, 9, 26), "300.00"), (date(2026, 10, 5), "500.00")],
    )
    repayment_post(
        loan_id=twin.pk, amount="300.00", value_date=date(2026, 9, 26), acting_user=SYSTEM
    )
    discount = proposal.transaction

    repayment_reverse(transaction_id=second.pk, reason="bounced", acting_user=finance_user)

    proposal.refresh_from_db()
    assert proposal.state == ProposalState.LAPSED and proposal.paid == Decimal("300.00")
    assert proposal.resolved_on == date(2026, 10, 8)
    assert _reversed(discount)
    loan = Loan.objects.get(pk=case.loan_id)
    assert (loan.status, loan.status_reason, loan.closed_at) == (LoanStatus.ACTIVE, "", None)
    # Owed as if the 500 had never come and nothing had been forgiven — the nights after the
    # settlement's penalty included, to the cent.
    assert _ledger(loan.pk) == _ledger(twin.pk)
    assert loan.total_outstanding > Decimal("500.00")
    assert_reconciles()
    lapsed = AuditEvent.objects.get(action="settlement.lapsed", object_id=str(proposal.pk))
    assert lapsed.actor == finance_user and lapsed.data["reversed_discount"] == discount.pk
    # The settled case stays closed as history; the next night opens the loan's new case.
    case.refresh_from_db()
    assert (case.status, case.close_reason) == (CaseStatus.CLOSED, "settled")
    nights_until(date(2026, 10, 6))
    assert Case.objects.filter(loan=loan, status=CaseStatus.OPEN).exclude(pk=case.pk).exists()


def test_what_still_stands_meets_the_agreement_so_it_settles_again(
    collector, manager, finance_user, clock
):
    case, _twin = _case_and_twin(collector)
    proposal, (first, _second, third) = _settled(
        case,
        collector,
        manager,
        clock,
        amount="800.00",
        payments=[
            (date(2026, 9, 26), "100.00"),
            (date(2026, 9, 30), "300.00"),
            (date(2026, 10, 5), "500.00"),
        ],
    )
    old = proposal.transaction
    assert proposal.paid == Decimal("900.00")

    repayment_reverse(transaction_id=first.pk, reason="bounced", acting_user=finance_user)

    proposal.refresh_from_db()
    assert proposal.state == ProposalState.SETTLED and proposal.paid == Decimal("800.00")
    assert _reversed(old) and proposal.transaction != old
    assert proposal.transaction.kind == TransactionKind.SETTLEMENT_DISCOUNT
    loan = Loan.objects.get(pk=case.loan_id)
    assert (loan.status, loan.status_reason) == (LoanStatus.CLOSED, "settled")
    assert loan.total_outstanding == 0
    # The new discount forgives 100 more than the old one did: the 100 that bounced.
    forgiven = {t.pk: sum(getattr(t, c) for c in COMPONENTS) for t in (old, proposal.transaction)}
    assert forgiven[proposal.transaction.pk] - forgiven[old.pk] >= Decimal("100.00")
    assert_reconciles()
    # The borrower's later payments in the window were never touched.
    assert not _reversed(third)


def test_money_from_before_the_agreement_bouncing_leaves_it_settled(
    collector, manager, finance_user, clock
):
    case, _twin = _case_and_twin(collector)
    clock(LATE_THROUGH)
    earlier = repayment_post(
        loan_id=case.loan_id, amount="50.00", value_date=LATE_THROUGH, acting_user=SYSTEM
    ).transaction
    proposal, _ = _settled(
        case, collector, manager, clock, amount="800.00", payments=[(DUE_BY, "800.00")]
    )
    discount = proposal.transaction

    repayment_reverse(transaction_id=earlier.pk, reason="bounced", acting_user=finance_user)

    proposal.refresh_from_db()
    assert proposal.state == ProposalState.SETTLED and proposal.transaction == discount
    assert not _reversed(discount)
    loan = Loan.objects.get(pk=case.loan_id)
    # The agreement covered what was owed when it was made; the 50 that bounced is owed again.
    assert loan.status == LoanStatus.ACTIVE
    assert loan.principal_outstanding + loan.interest_outstanding + loan.fee_outstanding <= Decimal(
        "50.00"
    )
    assert_reconciles()


def test_the_discount_goes_with_the_payment_whose_credit_it_used(
    collector, manager, finance_user, clock
):
    """A payment above what was due left credit, and the discount used it: without the payment
    the discount could not stand as posted, so both leave the history in one re-living."""
    case, twin = _case_and_twin(collector)
    due = case.loan.total_outstanding - case.loan.principal_outstanding  # well below the payoff
    big = (due + Decimal("2000.00")).quantize(Decimal("0.01"))
    proposal, (paid,) = _settled(
        case, collector, manager, clock, amount=str(big), payments=[(DUE_BY, str(big))]
    )
    assert paid.credit > 0 and proposal.transaction.credit < 0  # credit left, then used
    discount = proposal.transaction

    reversal = repayment_reverse(
        transaction_id=paid.pk, reason="recalled", acting_user=finance_user
    )

    assert reversal.reverses == paid and _reversed(discount)
    proposal.refresh_from_db()
    assert (proposal.state, proposal.paid) == (ProposalState.LAPSED, Decimal("0.00"))
    loan = Loan.objects.get(pk=case.loan_id)
    assert loan.status == LoanStatus.ACTIVE and loan.credit_balance == 0
    assert _ledger(loan.pk) == _ledger(twin.pk)
    event = AuditEvent.objects.get(action="repayment.reverse")
    assert event.data["with"] == [discount.pk]
    assert_reconciles()


@pytest.mark.parametrize("role", roles.ROLES)
def test_only_those_who_may_reverse_can_break_a_settlement(
    collector, manager, role_user, clock, role
):
    case, _twin = _case_and_twin(collector)
    proposal, (payment,) = _settled(
        case, collector, manager, clock, amount="800.00", payments=[(DUE_BY, "800.00")]
    )
    user = role_user(role, username=f"forger-{role}")
    if user.has_perm("lending.reverse_transaction"):
        repayment_reverse(transaction_id=payment.pk, reason="bounced", acting_user=user)
        proposal.refresh_from_db()
        assert proposal.state == ProposalState.LAPSED
        return
    with pytest.raises(LendingError) as exc:
        repayment_reverse(transaction_id=payment.pk, reason="bounced", acting_user=user)
    assert exc.value.code == "permission_denied"
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.SETTLED and not _reversed(proposal.transaction)
    assert Loan.objects.get(pk=case.loan_id).status == LoanStatus.CLOSED


class _Undo(Exception):
    pass


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
# Settled on the first night by the first cent; the second, valued the next day, bounces.
@example(cents=[1, 1], bounced=1, agreed_share=1)
@example(cents=[1, 1], bounced=0, agreed_share=1)
@given(
    cents=st.lists(st.integers(1, 60_000), min_size=2, max_size=3),
    bounced=st.integers(0, 2),
    agreed_share=st.integers(1, 100),
)
def test_any_bounced_payment_leaves_the_loan_as_its_twin_or_settled(
    collector, manager, finance_user, clock, cents, bounced, agreed_share
):
    bounced %= len(cents)
    amounts = [Decimal(c) / 100 for c in cents]
    amount = (sum(amounts) * agreed_share / 100).quantize(Decimal("0.01")) or Decimal("0.01")
    days = [date(2026, 9, 26 + n) for n in range(len(amounts))]
    try:
        with transaction.atomic():  # each example from the same start
            case, twin = _case_and_twin(collector)
            proposal, posted = _settled(
                case,
                collector,
                manager,
                clock,
                amount=amount,
                payments=list(zip(days, amounts, strict=True)),
            )
            for n, (day, paid) in enumerate(zip(days, amounts, strict=True)):
                if n != bounced:
                    repayment_post(loan_id=twin.pk, amount=paid, value_date=day, acting_user=SYSTEM)
            repayment_reverse(
                transaction_id=posted[bounced].pk, reason="bounced", acting_user=finance_user
            )
            proposal.refresh_from_db()
            standing = sum(amounts) - amounts[bounced]
            loan = Loan.objects.get(pk=case.loan_id)
            if standing >= amount:
                assert proposal.state == ProposalState.SETTLED
                assert (loan.status, loan.total_outstanding) == (LoanStatus.CLOSED, 0)
            else:
                assert proposal.state == ProposalState.LAPSED
                assert _ledger(loan.pk) == _ledger(twin.pk)
            assert proposal.paid == standing
            assert_reconciles()
            raise _Undo
    except _Undo:
        pass
