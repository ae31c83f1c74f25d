"""A recovery whose money never came (a bounced transfer) is reversed: what is left to recover
grows back, the reports leave it out, and only those who may reverse can — through the
service, the loan's admin page and the API alike."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from debt_collection.models import Recovery
from lending import roles
from lending.access import SYSTEM
from lending.errors import LendingError
from lending.models import AuditEvent, Loan, LoanStatus, Transaction, TransactionKind
from lending.services.concessions import (
    recovered_amount,
    recovery_post,
    recovery_reverse,
    transaction_reverse,
    written_off_amount,
)
from lending.services.loans import loan_write_off
from lending.services.repayments import repayment_post
from tests.api.books import book_state
from tests.api.conftest import API, assert_problem
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import assert_reconciles

pytestmark = pytest.mark.django_db

WRITTEN_OFF_ON, RECEIVED_ON = date(2026, 3, 1), date(2026, 4, 2)


@pytest.fixture
def recovery():
    loan = active_loan()
    loan_write_off(loan_id=loan.pk, reason="fraud", value_date=WRITTEN_OFF_ON, acting_user=SYSTEM)
    return recovery_post(
        loan_id=loan.pk,
        amount="700.00",
        value_date=RECEIVED_ON,
        idempotency_key="BANK-7",
        acting_user=SYSTEM,
    )


def test_a_reversed_recovery_is_left_to_recover_again_and_out_of_the_reports(
    recovery, finance_user
):
    loan = recovery.loan
    left_before = written_off_amount(loan) - recovered_amount(loan)
    reversal = transaction_reverse(
        transaction_id=recovery.pk, reason="transfer recalled", acting_user=finance_user
    )
    assert (reversal.kind, reversal.reverses, reversal.amount) == (
        TransactionKind.REVERSAL,
        recovery,
        Decimal("700.00"),
    )
    assert reversal.value_date == RECEIVED_ON and not reversal.lines.exists()
    assert recovered_amount(loan) == 0
    assert written_off_amount(loan) - recovered_amount(loan) == left_before + Decimal("700.00")
    assert not Recovery.objects.filter(loan=loan).exists()  # the list and the KPIs read these
    loan.refresh_from_db()
    assert (loan.status, loan.total_outstanding) == (LoanStatus.WRITTEN_OFF, 0)
    event = AuditEvent.objects.get(action="recovery.reverse")
    assert event.actor == finance_user and event.data["reason"] == "transfer recalled"
    assert_reconciles()
    # The money arrives after all: posted again under a new key, it counts again.
    recovery_post(loan_id=loan.pk, amount="700.00", value_date=RECEIVED_ON, acting_user=SYSTEM)
    assert recovered_amount(loan) == Decimal("700.00")
    # Never twice.
    with pytest.raises(LendingError) as exc:
        recovery_reverse(transaction_id=recovery.pk, reason="again", acting_user=finance_user)
    assert exc.value.code == "already_reversed"


def test_bad_input_and_other_kinds_are_refused_and_change_nothing(recovery):
    write_off = Transaction.objects.get(loan=recovery.loan, kind=TransactionKind.WRITE_OFF)
    for transaction_id, reason, field, code in (
        (recovery.pk, "", "reason", "required"),
        (recovery.pk, "   ", "reason", "required"),
        (recovery.pk, "x" * 256, "reason", "invalid"),
        (recovery.pk, "bad\x00byte", "reason", "invalid"),
        (write_off.pk, "r", "transaction", "not_reversible"),
        (10**15, "r", "transaction", "not_found"),
        (-1, "r", "transaction", "not_found"),
    ):
        with pytest.raises(LendingError) as exc:
            transaction_reverse(transaction_id=transaction_id, reason=reason, acting_user=SYSTEM)
        assert (exc.value.field, exc.value.code) == (field, code), (transaction_id, reason)
    with pytest.raises(LendingError) as exc:
        transaction_reverse(transaction_id=write_off.pk, reason="r", acting_user=SYSTEM)
    assert "only repayments and recoveries" in str(exc.value)
    assert recovered_amount(recovery.loan) == Decimal("700.00")
    assert not Transaction.objects.filter(kind=TransactionKind.REVERSAL).exists()


REVERSERS = {roles.FINANCE, roles.ADMINISTRATOR}


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_at_each_door(recovery, role_user, client_for, client, role):
    """The service, the loan page's form and the API, each on a recovery of its own (postings
    are immutable): the permission decides, nothing else."""
    loan = recovery.loan
    by_admin, by_api = (
        recovery_post(loan_id=loan.pk, amount="10.00", value_date=RECEIVED_ON, acting_user=SYSTEM)
        for _ in range(2)
    )
    may = role in REVERSERS
    user = role_user(role, username=f"at-the-door-{role}")
    before = book_state(loan)
    try:
        recovery_reverse(transaction_id=recovery.pk, reason="forged", acting_user=user)
    except LendingError as exc:
        assert not may and exc.code == "permission_denied"
    else:
        assert may
    assert _reversed(recovery) == may

    client.force_login(user)
    page = client.post(
        reverse("admin:lending_loan_reverse", args=[loan.pk, by_admin.pk]), {"reason": "forged"}
    )
    # Refused: 403, or the login page for those without the admin.
    assert page.status_code == 302 if may else page.status_code in (302, 403)
    assert _reversed(by_admin) == may

    api = client_for(role, username=f"api-{role}")
    answer = api.post(
        API + f"loans/{loan.reference}/transactions/{by_api.pk}/reverse/",
        {"reason": "forged"},
        format="json",
    )
    if may:
        assert answer.status_code == 201, answer.json()
        assert answer.json()["reverses"] == by_api.pk
        assert recovered_amount(loan) == 0
    else:
        assert_problem(answer, 403, "permission_denied")
        assert book_state(loan) == before
    assert AuditEvent.objects.filter(action="recovery.reverse").count() == (3 if may else 0)


def _reversed(txn) -> bool:
    return Transaction.objects.filter(reverses=txn).exists()


def test_the_loan_page_offers_the_reversal_of_a_recovery_to_finance_only(role_user, client):
    loan = active_loan()
    paid = repayment_post(
        loan_id=loan.pk, amount="100.00", value_date=date(2026, 2, 1), acting_user=SYSTEM
    ).transaction
    loan_write_off(loan_id=loan.pk, reason="fraud", value_date=WRITTEN_OFF_ON, acting_user=SYSTEM)
    recovery = recovery_post(
        loan_id=loan.pk, amount="700.00", value_date=RECEIVED_ON, acting_user=SYSTEM
    )
    url = reverse("admin:lending_loan_reverse", args=[loan.pk, recovery.pk])
    client.force_login(role_user(roles.FINANCE, username="cashier"))
    page = client.get(reverse("admin:lending_loan_change", args=[loan.pk])).text
    assert url in page
    # A repayment on a written-off loan is not reversible (the service refuses): not offered.
    assert reverse("admin:lending_loan_reverse", args=[loan.pk, paid.pk]) not in page
    done = client.post(url, {"reason": "transfer recalled"}, follow=True)
    assert "Recovery reversed" in done.text
    # Reversed: no second link, and an empty reason is refused on its field.
    assert url not in client.get(reverse("admin:lending_loan_change", args=[loan.pk])).text
    client.force_login(role_user(roles.AUDITOR, username="auditor"))
    assert url not in client.get(reverse("admin:lending_loan_change", args=[loan.pk])).text
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.WRITTEN_OFF


def test_an_empty_reason_on_the_form_names_the_field_and_writes_nothing(
    recovery, role_user, client
):
    client.force_login(role_user(roles.FINANCE, username="cashier"))
    url = reverse("admin:lending_loan_reverse", args=[recovery.loan_id, recovery.pk])
    for reason in ("", " " * 3, "x" * 100_000):
        page = client.post(url, {"reason": reason})
        assert page.status_code == 200 and "reason" in page.context["form"].errors, reason
    assert not Transaction.objects.filter(reverses=recovery).exists()
