"""The nightly behavioural review of credit limits (DESIGN §6, §7): freeze, cut, restore, increase
proposals, their approval by a risk analyst (four eyes) and the admin page.

A 10,000.00 loan at 18 % over 12 months has installments of 916.80 (766.80 principal + 150.00
interest first) on the 15th of each month after disbursement; every borrower starts with a
limit of 10,000.00 set by hand. The default rules apply unless a test activates a policy with a
`behaviour` section: freeze at 1 dpd, cut at 30 dpd to 50 %, restore after 3 on-time
installments, propose +20 % after 6.
"""

import copy
import importlib
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from lending import roles
from lending.access import SYSTEM
from lending.close_of_business.lending_steps import flag_overdue
from lending.close_of_business.registry import registered_steps
from lending.close_of_business.runner import close_business_days, last_closed_date
from lending.errors import LendingError, LendingErrorCode
from lending.models import AuditEvent, BusinessDayRun, Installment, RunStatus
from lending.services.loans import loan_write_off
from lending.services.repayments import repayment_post
from risk.models import (
    CreditLimit,
    CreditLimitChange,
    CreditPolicy,
    LimitIncreaseProposal,
    LimitStatus,
    PolicyStatus,
    ProposalStatus,
    ReviewHold,
)
from risk.policy import DEFAULT_POLICY
from risk.reason_texts import stored_reason
from risk.services.behaviour import WITHDRAWN, limit_review
from risk.services.limits import (
    credit_limit_change,
    limit_increase_approve,
    limit_increase_propose,
    limit_increase_reject,
)
from risk.services.policies import policy_activate, policy_create
from tests.factories import BorrowerFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

D = Decimal
START = D("10000.00")


def oct_(day: int) -> date:
    return date(2026, 10, day)


def nov(day: int) -> date:
    return date(2026, 11, day)


def borrower_with_limit(amount=START):
    borrower = BorrowerFactory()
    credit_limit_change(
        borrower=borrower,
        kind="set",
        amount=amount,
        status=LimitStatus.ACTIVE,
        reason="starter limit",
        acting_user=SYSTEM,
    )
    return borrower


def limit_of(borrower) -> CreditLimit:
    return CreditLimit.objects.get(borrower=borrower)


def review_history(borrower) -> list[tuple]:
    return list(
        CreditLimitChange.objects.filter(credit_limit__borrower=borrower)
        .exclude(kind="set")
        .order_by("id")
        .values_list("kind", "from_amount", "to_amount", "from_status", "to_status")
    )


def late_on(loan, business_date: date) -> None:
    """The night's overdue flagging for one loan, then the review (as the close runs them)."""
    flag_overdue(business_date=business_date, loan_ids=[loan.pk])
    limit_review(business_date=business_date)


def pay_each_on_its_due_date(loan, count: int) -> None:
    for installment in Installment.objects.filter(loan=loan).order_by("seq")[:count]:
        repayment_post(
            loan_id=loan.pk,
            amount=installment.total_due,
            value_date=installment.due_date,
            acting_user=SYSTEM,
        )


def close(business_date: date) -> BusinessDayRun:
    """Close every date up to `business_date`, one night at a time; its run."""
    runs = close_business_days(until=business_date, acting_user=SYSTEM)
    assert [r.status for r in runs] == [RunStatus.DONE] * len(runs), runs[-1].error
    assert runs[-1].business_date == business_date
    return runs[-1]


def close_paying(until: date, *loans) -> None:
    """Close every night up to `until`; each installment of `loans` falling due meanwhile is
    paid in full on its due date, before that night's close."""
    due = Installment.objects.filter(
        loan__in=loans, due_date__gt=last_closed_date() or date.min, due_date__lte=until
    ).order_by("due_date", "pk")
    for installment in due:
        eve = installment.due_date - timedelta(days=1)
        if eve > (last_closed_date() or date.min):
            close(eve)
        repayment_post(
            loan_id=installment.loan_id,
            amount=installment.outstanding,
            value_date=installment.due_date,
            acting_user=SYSTEM,
        )
    if until > (last_closed_date() or date.min):
        close(until)


def limit_now(borrower) -> tuple:
    limit = limit_of(borrower)
    return (limit.amount, limit.status, limit.review_hold)


def activate_behaviour(**section) -> CreditPolicy:
    definition = copy.deepcopy(DEFAULT_POLICY)
    definition["behaviour"] = section
    policy = policy_create(name="behaviour test", definition=definition, acting_user=SYSTEM)
    return policy_activate(policy_id=policy.pk, acting_user=SYSTEM)


def nothing_new_when_run_again(business_date: date) -> None:
    before = (
        CreditLimitChange.objects.count(),
        LimitIncreaseProposal.objects.count(),
        AuditEvent.objects.count(),
        list(CreditLimit.objects.order_by("pk").values_list("amount", "status", "review_hold")),
    )
    counts = limit_review(business_date=business_date)
    assert counts["limits_frozen"] == counts["limits_cut"] == counts["limits_restored"] == 0
    assert counts["increases_proposed"] == 0
    assert before == (
        CreditLimitChange.objects.count(),
        LimitIncreaseProposal.objects.count(),
        AuditEvent.objects.count(),
        list(CreditLimit.objects.order_by("pk").values_list("amount", "status", "review_hold")),
    )


@pytest.fixture
def analysts(django_user_model):
    group = Group.objects.get(name=roles.RISK_ANALYST)
    people = []
    for name in ("analyst-a", "analyst-b"):
        user = django_user_model.objects.create_user(username=name, password="pw", is_staff=True)
        user.groups.add(group)
        people.append(user)
    return people


# --------------------------------------------------------------------------- the nightly step


def test_the_review_is_a_book_level_step_after_overdue_flagging():
    steps = {step.name: step for step in registered_steps()}
    review = steps["limit_review"]
    assert review.position >= 100 > steps["flag_overdue"].position
    assert review.chunked is False


def test_the_night_freezes_a_late_borrower_and_restores_after_cure_and_on_time_payment():
    policy = activate_behaviour(restore_after_on_time=1)
    borrower = borrower_with_limit()
    loan = active_loan(borrower=borrower, start=date(2026, 9, 15))  # due Oct 15, Nov 15, …

    close(oct_(15))  # due today is not late yet
    assert limit_of(borrower).status == LimitStatus.ACTIVE

    run = close(oct_(16))
    limit = limit_of(borrower)
    assert (limit.amount, limit.status, limit.review_hold) == (START, "frozen", ReviewHold.FROZEN)
    [freeze] = CreditLimitChange.objects.filter(kind="behaviour_freeze")
    assert freeze.reason == (
        f"current delinquency: loan {loan.reference} is 1 day past due (freeze at 1)"
    )
    assert freeze.adverse_action is False
    assert (freeze.policy, freeze.changed_by) == (policy, None)
    assert run.steps.get(name="limit_review").counts["limits_frozen"] == 1

    close(oct_(19))
    # The borrower pays the October installment with its penalty on Oct 20: cured, but that
    # installment was late, so no on-time installment yet and the limit stays frozen.
    owed = Installment.objects.get(loan=loan, seq=1).outstanding
    repayment_post(loan_id=loan.pk, amount=owed, value_date=oct_(20), acting_user=SYSTEM)
    close(oct_(20))
    assert limit_of(borrower).status == LimitStatus.FROZEN

    # November's installment is paid early, on Nov 10: its loan is neither due nor overdue on
    # any night after, yet the close of Nov 15 (its due date) counts it and restores.
    repayment_post(loan_id=loan.pk, amount="916.80", value_date=nov(10), acting_user=SYSTEM)
    close(nov(14))
    assert limit_of(borrower).status == LimitStatus.FROZEN
    run = close(nov(15))
    limit = limit_of(borrower)
    assert (limit.amount, limit.status, limit.review_hold) == (START, "active", "")
    restore = CreditLimitChange.objects.get(kind="behaviour_restore")
    assert restore.reason == (
        "cured on 2026-10-20, and 1 installment due since then paid on time (restore after 1)"
    )
    assert run.steps.get(name="limit_review").counts["limits_restored"] == 1
    assert review_history(borrower) == [
        ("behaviour_freeze", START, START, "active", "frozen"),
        ("behaviour_restore", START, START, "frozen", "active"),
    ]


def test_installments_paid_on_time_while_another_loan_is_late_do_not_restore_on_the_cure():
    """Loan A (1,000.00 for one month) falls due Jun 1 and is paid only on Aug 10; loan B
    (10,000.00, due on the 5th) is paid on the day every month. B's Jun 5, Jul 5 and Aug 5 were
    paid while A was late: they do not count, so the night of the cure restores nothing; Sep 5,
    Oct 5 and Nov 5 fall due after the cure and restore the limit on Nov 5 (K = 3)."""
    borrower = borrower_with_limit()
    a = active_loan(borrower=borrower, principal="1000.00", term=1, start=date(2026, 5, 1))
    b = active_loan(borrower=borrower, start=date(2026, 5, 5))

    close_paying(date(2026, 6, 2), b)  # A 1 dpd: frozen
    close_paying(date(2026, 7, 1), b)  # A 30 dpd (Jun 1 → Jul 1): 10,000.00 × 0.5
    assert limit_now(borrower) == (D("5000.00"), "frozen", ReviewHold.CUT)

    close_paying(date(2026, 8, 9), b)
    owed = Installment.objects.get(loan=a).outstanding  # 1,015.00 and the penalty since Jun 1
    repayment_post(loan_id=a.pk, amount=owed, value_date=date(2026, 8, 10), acting_user=SYSTEM)
    close(date(2026, 8, 10))
    assert limit_now(borrower) == (D("5000.00"), "frozen", ReviewHold.CUT)
    close_paying(date(2026, 10, 5), b)  # Sep 5 and Oct 5: 2 of 3
    assert limit_now(borrower) == (D("5000.00"), "frozen", ReviewHold.CUT)

    close_paying(date(2026, 11, 5), b)
    assert limit_now(borrower) == (D("5000.00"), "active", "")  # the cut amount stays
    restore = CreditLimitChange.objects.get(kind="behaviour_restore")
    assert restore.reason == (
        "cured on 2026-08-10, and 3 installments due since then paid on time (restore after 3)"
    )
    assert [kind for kind, *_ in review_history(borrower)] == [
        "behaviour_freeze",
        "behaviour_cut",
        "behaviour_restore",
    ]


def borrower_late_then_written_off(*others):
    """Loan A (1,000.00 for one month, due Jun 15) is never paid: frozen Jun 16, cut to
    5,000.00 on Jul 15 (30 dpd), written off on Jul 20. Loans of the same borrower starting on
    the dates `others` are paid on the day throughout."""
    borrower = borrower_with_limit()
    a = active_loan(borrower=borrower, principal="1000.00", term=1, start=date(2026, 5, 15))
    loans = [active_loan(borrower=borrower, start=start) for start in others]
    close_paying(date(2026, 6, 16), *loans)
    assert limit_now(borrower) == (START, "frozen", ReviewHold.FROZEN)
    close_paying(date(2026, 7, 19), *loans)
    assert limit_now(borrower) == (D("5000.00"), "frozen", ReviewHold.CUT)
    loan_write_off(
        loan_id=a.pk, reason="uncollectable", value_date=date(2026, 7, 20), acting_user=SYSTEM
    )
    return borrower, loans


def test_a_write_off_does_not_restore_the_limit_when_restoring_needs_no_installment():
    activate_behaviour(restore_after_on_time=0)
    borrower, _ = borrower_late_then_written_off()
    close(date(2026, 7, 20))  # A no longer active, nothing past due: yet not cured
    assert limit_now(borrower) == (D("5000.00"), "frozen", ReviewHold.CUT)
    close(date(2026, 8, 20))  # past the idle review 30 days on
    assert limit_now(borrower) == (D("5000.00"), "frozen", ReviewHold.CUT)
    assert [kind for kind, *_ in review_history(borrower)] == ["behaviour_freeze", "behaviour_cut"]


def test_a_write_off_keeps_the_limit_frozen_and_earns_no_increase_after_on_time_payment():
    activate_behaviour(increase_after_on_time=3)
    borrower, [b] = borrower_late_then_written_off(date(2026, 5, 5))
    close_paying(date(2026, 11, 5), b)  # Aug 5 – Nov 5: 4 on time after the write-off
    assert limit_now(borrower) == (D("5000.00"), "frozen", ReviewHold.CUT)
    assert not LimitIncreaseProposal.objects.exists()

    # A person lifts the freeze: the review lets go of its hold but proposes no increase.
    credit_limit_change(
        borrower=borrower,
        kind="unfreeze",
        status=LimitStatus.ACTIVE,
        reason="settled with collections",
        acting_user=SYSTEM,
    )
    close(date(2026, 11, 6))
    assert limit_now(borrower) == (D("5000.00"), "active", "")
    assert not LimitIncreaseProposal.objects.exists()
    assert [kind for kind, *_ in review_history(borrower)] == [
        "behaviour_freeze",
        "behaviour_cut",
        "unfreeze",
    ]


def test_thirty_days_past_due_cuts_the_limit_to_half_once():
    borrower = borrower_with_limit()
    loan = active_loan(borrower=borrower, start=date(2026, 9, 15))

    late_on(loan, oct_(16))  # 1 dpd: frozen
    late_on(loan, nov(13))  # 29 dpd: nothing more
    assert review_history(borrower) == [("behaviour_freeze", START, START, "active", "frozen")]

    late_on(loan, nov(14))  # 30 dpd (Oct 15 → Nov 14): 10,000.00 × 0.5 = 5,000.00
    cut = CreditLimitChange.objects.get(kind="behaviour_cut")
    assert (cut.from_amount, cut.to_amount, cut.to_status) == (START, D("5000.00"), "frozen")
    assert cut.adverse_action is False
    assert cut.reason == (
        f"current delinquency: loan {loan.reference} is 30 days past due (cut at 30); "
        "limit cut to 50%, 10,000.00 → 5,000.00"
    )
    assert cut.policy == CreditPolicy.objects.get(status=PolicyStatus.ACTIVE)
    assert limit_of(borrower).review_hold == ReviewHold.CUT

    nothing_new_when_run_again(nov(14))
    late_on(loan, nov(20))  # 36 dpd: cut once per delinquency
    assert [kind for kind, *_ in review_history(borrower)] == ["behaviour_freeze", "behaviour_cut"]
    assert limit_of(borrower).amount == D("5000.00")


def test_a_limit_a_person_froze_is_neither_cut_nor_restored_by_the_review():
    borrower = borrower_with_limit()
    credit_limit_change(
        borrower=borrower,
        kind="freeze",
        status=LimitStatus.FROZEN,
        reason="fraud investigation",
        acting_user=SYSTEM,
    )
    loan = active_loan(borrower=borrower, start=date(2026, 1, 15))
    late_on(loan, date(2026, 3, 20))  # Feb 15 unpaid: 33 dpd
    assert review_history(borrower) == [("freeze", START, START, "active", "frozen")]

    # Paid up, then every installment on time: still the person's freeze.
    owed = sum(i.outstanding for i in Installment.objects.filter(loan=loan, seq__lte=2))
    repayment_post(loan_id=loan.pk, amount=owed, value_date=date(2026, 3, 21), acting_user=SYSTEM)
    for seq in range(3, 10):
        installment = Installment.objects.get(loan=loan, seq=seq)
        repayment_post(
            loan_id=loan.pk,
            amount=installment.outstanding,
            value_date=installment.due_date,
            acting_user=SYSTEM,
        )
    late_on(loan, date(2026, 10, 15))
    assert limit_of(borrower).status == LimitStatus.FROZEN
    assert len(review_history(borrower)) == 1


def test_without_an_active_policy_the_default_rules_still_freeze():
    CreditPolicy.objects.update(status=PolicyStatus.RETIRED)
    borrower = borrower_with_limit()
    loan = active_loan(borrower=borrower, start=date(2026, 9, 15))
    late_on(loan, oct_(16))
    freeze = CreditLimitChange.objects.get(kind="behaviour_freeze")
    assert (freeze.to_status, freeze.policy) == ("frozen", None)


def test_the_number_of_queries_does_not_grow_with_the_limits_reviewed():
    def borrowers_late(count: int) -> None:
        for _ in range(count):
            loan = active_loan(borrower=borrower_with_limit(), start=date(2026, 9, 15))
            flag_overdue(business_date=oct_(16), loan_ids=[loan.pk])

    borrowers_late(2)
    with CaptureQueriesContext(connection) as few:
        assert limit_review(business_date=oct_(16))["limits_frozen"] == 2
    borrowers_late(12)
    with CaptureQueriesContext(connection) as many:
        assert limit_review(business_date=oct_(16))["limits_frozen"] == 12
    assert len(many) == len(few) <= 13  # the bucket codes that mark a loan as late: one read


# --------------------------------------------------------------------------- increases


@pytest.fixture
def six_on_time():
    """A borrower who paid Apr 15 – Sep 15 on their due dates (disbursed Mar 15)."""
    borrower = borrower_with_limit()
    loan = active_loan(borrower=borrower, start=date(2026, 3, 15))
    pay_each_on_its_due_date(loan, 6)
    return borrower


def test_six_on_time_installments_propose_an_increase_an_analyst_approves(six_on_time, analysts):
    assert limit_review(business_date=date(2026, 8, 15))["increases_proposed"] == 0  # 5 of 6
    assert limit_review(business_date=date(2026, 9, 15))["increases_proposed"] == 1
    proposal = LimitIncreaseProposal.objects.get()
    # 10,000.00 × 1.2 = 12,000.00.
    assert (proposal.current_amount, proposal.proposed_amount) == (START, D("12000.00"))
    assert (proposal.status, proposal.on_time_installments) == (ProposalStatus.PROPOSED, 6)
    assert proposal.as_of == date(2026, 9, 15) and proposal.proposed_by is None
    assert limit_of(six_on_time).amount == START  # only a proposal until approved
    nothing_new_when_run_again(date(2026, 9, 15))

    analyst = analysts[0]
    limit_increase_approve(proposal_id=proposal.pk, acting_user=analyst, note="good payer")
    limit = limit_of(six_on_time)
    assert (limit.amount, limit.status) == (D("12000.00"), LimitStatus.ACTIVE)
    change = CreditLimitChange.objects.get(kind="increase")
    assert (change.from_amount, change.to_amount, change.changed_by) == (
        START,
        D("12000.00"),
        analyst,
    )
    assert change.policy == proposal.policy == CreditPolicy.objects.get(status="active")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.decision_note) == (
        ProposalStatus.APPROVED,
        analyst,
        "good payer",
    )
    # The next proposal needs six more on-time installments after Sep 15.
    assert limit_review(business_date=date(2026, 10, 15))["increases_proposed"] == 0


def test_a_rejected_proposal_keeps_the_limit(six_on_time, analysts):
    limit_review(business_date=date(2026, 9, 15))
    proposal = LimitIncreaseProposal.objects.get()
    limit_increase_reject(proposal_id=proposal.pk, acting_user=analysts[0], note="income fell")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (ProposalStatus.REJECTED, analysts[0])
    assert limit_of(six_on_time).amount == START
    with pytest.raises(LendingError) as refused:
        limit_increase_approve(proposal_id=proposal.pk, acting_user=analysts[1])
    assert refused.value.code == LendingErrorCode.ILLEGAL_TRANSITION
    assert "rejected, not awaiting approval" in refused.value.message


def test_an_analyst_cannot_approve_their_own_proposal(analysts):
    borrower = borrower_with_limit()
    first, second = analysts
    proposal = limit_increase_propose(
        borrower=borrower, amount="15000.00", reason="salary rise verified", acting_user=first
    )
    with pytest.raises(LendingError) as refused:
        limit_increase_approve(proposal_id=proposal.pk, acting_user=first)
    assert (refused.value.code, refused.value.field) == (LendingErrorCode.SAME_PERSON, "approver")
    assert refused.value.message == (
        "you proposed this increase; another risk analyst must approve it"
    )
    assert limit_of(borrower).amount == START

    limit_increase_approve(proposal_id=proposal.pk, acting_user=second)
    assert limit_of(borrower).amount == D("15000.00")


@pytest.mark.parametrize(
    ("amount", "field", "words"),
    [
        ("10000.00", "proposed_amount", "above the current limit of 10,000.00"),
        ("200000.01", "proposed_amount", "household cap of 200000"),
        ("-5", "proposed_amount", "greater than zero"),
    ],
)
def test_a_proposal_below_the_limit_or_above_the_cap_is_refused(analysts, amount, field, words):
    borrower = borrower_with_limit()
    with pytest.raises(LendingError) as refused:
        limit_increase_propose(
            borrower=borrower, amount=amount, reason="why not", acting_user=analysts[0]
        )
    assert (refused.value.field, words in refused.value.message) == (field, True)
    assert not LimitIncreaseProposal.objects.exists()


def test_one_open_proposal_per_limit(analysts):
    borrower = borrower_with_limit()
    first = limit_increase_propose(
        borrower=borrower, amount="12000.00", reason="first", acting_user=analysts[0]
    )
    with pytest.raises(LendingError) as refused:
        limit_increase_propose(
            borrower=borrower, amount="13000.00", reason="second", acting_user=analysts[1]
        )
    assert refused.value.code == LendingErrorCode.DUPLICATE
    with pytest.raises(IntegrityError), transaction.atomic():
        LimitIncreaseProposal.objects.create(
            credit_limit=first.credit_limit,
            as_of=first.as_of,
            current_amount=START,
            proposed_amount=D("14000.00"),
            reason="straight into the table",
        )


def test_a_freeze_withdraws_the_open_proposal(six_on_time, analysts):
    limit_review(business_date=date(2026, 9, 15))
    proposal = LimitIncreaseProposal.objects.get()
    loan = six_on_time.loans.get()
    late_on(loan, oct_(16))  # October's installment unpaid: 1 dpd
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision_note) == (ProposalStatus.REJECTED, WITHDRAWN)
    with pytest.raises(LendingError):
        limit_increase_approve(proposal_id=proposal.pk, acting_user=analysts[0])
    assert (limit_of(six_on_time).amount, limit_of(six_on_time).status) == (START, "frozen")


# --------------------------------------------------------------------------- the admin page


def test_a_risk_analyst_approves_in_the_admin_and_a_credit_officer_cannot(
    client, six_on_time, analysts, django_user_model
):
    limit_review(business_date=date(2026, 9, 15))
    proposal = LimitIncreaseProposal.objects.get()
    url = reverse("admin:risk_limitincreaseproposal_changelist")
    post = {"action": "approve", "_selected_action": [proposal.pk]}

    officer = django_user_model.objects.create_user("officer-c", password="pw", is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.CREDIT_OFFICER))
    client.force_login(officer)
    page = client.get(url)
    assert page.status_code == 200
    assert b'value="approve"' not in page.content
    client.post(url, post)
    assert limit_of(six_on_time).amount == START

    client.force_login(analysts[0])
    assert b'value="approve"' in client.get(url).content
    response = client.post(url, post, follow=True)
    assert f"Limit of {six_on_time} raised." in response.content.decode()
    assert limit_of(six_on_time).amount == D("12000.00")
    proposal.refresh_from_db()
    assert proposal.decided_by == analysts[0]


def test_an_analyst_proposes_by_hand_in_the_admin_and_a_bad_amount_is_refused(client, analysts):
    borrower = borrower_with_limit()
    limit = limit_of(borrower)
    url = reverse("admin:risk_limitincreaseproposal_add")
    client.force_login(analysts[0])

    form = {"credit_limit": limit.pk, "proposed_amount": "9000.00", "reason": "pay rise"}
    page = client.post(url, form)
    assert page.status_code == 200  # the form again, with the error on the amount
    assert "must be above the current limit of 10,000.00" in page.content.decode()
    assert not LimitIncreaseProposal.objects.exists()

    client.post(url, {**form, "proposed_amount": "14000.00"})
    proposal = LimitIncreaseProposal.objects.get()
    assert (proposal.proposed_amount, proposal.proposed_by) == (D("14000.00"), analysts[0])
    assert proposal.status == ProposalStatus.PROPOSED


# --------------------------------------------------------------------------- reasons in words

# The review's reasons are stored as message keys with their figures (risk.reasons) beside the
# English, and read in the reader's language (risk.reason_texts.stored_reason); a person's
# words are shown as written.


def test_the_reviews_freeze_and_cut_read_in_the_readers_language():
    borrower = borrower_with_limit()
    loan = active_loan(borrower=borrower, start=date(2026, 9, 15))
    late_on(loan, oct_(16))
    late_on(loan, nov(14))
    freeze = CreditLimitChange.objects.get(kind="behaviour_freeze")
    cut = CreditLimitChange.objects.get(kind="behaviour_cut")
    starter = CreditLimitChange.objects.get(kind="set")
    assert (freeze.reason_message, freeze.reason_params) == (
        "review.freeze.one",
        {"loan": loan.reference, "dpd": 1, "freeze_dpd": 1},
    )
    ref = loan.reference
    with translation.override("zh-hans"):
        assert stored_reason(freeze) == f"当前逾期：贷款 {ref} 已逾期 1 天（逾期 1 天即冻结）"
        assert stored_reason(cut) == (
            f"当前逾期：贷款 {ref} 已逾期 30 天（逾期 30 天即降额）；额度降至 50%，"
            "10,000.00 → 5,000.00"
        )
        assert stored_reason(starter) == "starter limit"  # a person's words, as written
    with translation.override("en"):
        assert (
            stored_reason(freeze)
            == freeze.reason
            == (f"current delinquency: loan {ref} is 1 day past due (freeze at 1)")
        )
        assert stored_reason(cut) == cut.reason


def test_the_reviews_proposal_and_its_approval_read_in_the_readers_language(
    client, six_on_time, analysts
):
    limit_review(business_date=date(2026, 9, 15))
    proposal = LimitIncreaseProposal.objects.get()
    english = "6 installments paid on time in a row (propose after 6): 10,000.00 + 20% → 12,000.00"
    chinese = "连续 6 期按时还款（连续 6 期即建议提额）：10,000.00 + 20% → 12,000.00"
    assert (proposal.reason, proposal.reason_message) == (english, "review.propose")
    limit_increase_approve(proposal_id=proposal.pk, acting_user=analysts[1])
    change = CreditLimitChange.objects.get(kind="increase")
    assert change.reason == f"increase proposal {proposal.pk} approved: {english}"
    with translation.override("zh-hans"):
        assert stored_reason(proposal) == chinese
        assert stored_reason(change) == f"提额建议 {proposal.pk} 已批准：{chinese}"

    client.force_login(analysts[0])
    limit = limit_of(six_on_time)
    for url in (
        reverse("admin:risk_creditlimit_change", args=[limit.pk]),
        reverse("admin:risk_limitincreaseproposal_change", args=[proposal.pk]),
    ):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert chinese in page and english not in page, url
        assert english in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    history = f"/api/v1/credit-limits/{limit.pk}/history/"
    zh = client.get(history, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    en = client.get(history, HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert zh[0]["reason"] == f"提额建议 {proposal.pk} 已批准：{chinese}"
    assert en[0]["reason"] == change.reason
    assert zh[-1]["reason"] == en[-1]["reason"] == "starter limit"
    detail = f"/api/v1/limit-increase-proposals/{proposal.pk}/"
    assert client.get(detail, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["reason"] == chinese
    assert client.get(detail, HTTP_ACCEPT_LANGUAGE="en").json()["reason"] == english


def test_an_approved_proposal_quotes_the_analysts_words_as_written(analysts):
    borrower = borrower_with_limit()
    proposal = limit_increase_propose(
        borrower=borrower, amount="15000.00", reason="工资上涨已核实", acting_user=analysts[0]
    )
    assert proposal.reason_message == ""
    limit_increase_approve(proposal_id=proposal.pk, acting_user=analysts[1])
    change = CreditLimitChange.objects.get(kind="increase")
    assert change.reason == f"increase proposal {proposal.pk} approved: 工资上涨已核实"
    with translation.override("zh-hans"):
        assert stored_reason(change) == f"提额建议 {proposal.pk} 已批准：工资上涨已核实"


# --------------------------------------------------------------------------- the data migration

backfill = importlib.import_module("risk.migrations.0009_limit_reason_keys_backfill")


def test_the_migration_gives_the_platforms_old_reasons_their_keys():
    borrower = borrower_with_limit()
    limit = limit_of(borrower)
    review = "6 installments paid on time in a row (propose after 6): 10,000.00 + 20% → 12,000.00"
    old = [
        "current delinquency: loan L0042 is 1 day past due (freeze at 1)",
        "current delinquency: loan L0042 is 30 days past due (cut at 30); limit cut to 50%, "
        "10,000.00 → 5,000.00",
        "cured on 2026-10-20, and 3 installments due since then paid on time (restore after 3)",
        "first limit from policy version 3",
        f"increase proposal 12 approved: {review}",
        "increase proposal 13 approved: salary rise verified",
    ]
    kept = [
        "fraud investigation",  # a person's words
        "current delinquency: loan L0042 is 1 day late",  # an older wording
        "cured on 2026-10-20, and 3 installments due since then paid on time (restore",  # cut
    ]
    for reason in old + kept:
        CreditLimitChange.objects.create(
            credit_limit=limit,
            kind="freeze",
            from_amount=START,
            to_amount=START,
            to_status="frozen",
            reason=reason,
        )
    backfill._backfill(CreditLimitChange, backfill._Reader())
    rows = {row.reason: row for row in CreditLimitChange.objects.exclude(reason="starter limit")}
    assert {reason for reason, row in rows.items() if row.reason_message} == set(old)
    for reason in old:
        with translation.override("en"):
            assert stored_reason(rows[reason]) == reason
        if "salary" not in reason:  # the analyst's words stay as they were typed
            with translation.override("zh-hans"):
                assert not re.search(r"[a-z]{3,}", stored_reason(rows[reason])), reason
    approved = rows[f"increase proposal 12 approved: {review}"]
    assert approved.reason_params["reason"]["message"] == "review.propose"
    assert rows["increase proposal 13 approved: salary rise verified"].reason_params == {
        "proposal": 13,
        "reason": "salary rise verified",
    }
    with translation.override("zh-hans"):
        assert stored_reason(rows["first limit from policy version 3"]) == (
            "依据授信政策版本 3 设定的首个额度"
        )
        assert [stored_reason(rows[reason]) for reason in kept] == kept
