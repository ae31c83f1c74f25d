"""The Idempotency-Key store on the state-changing POSTs other than repayments: the same key
and body replay the first answer (`Idempotent-Replayed: true`) and run nothing again; the same
key for another request is a 422; undecided answers free the key; keys expire after 24 hours."""

import threading
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apikeys.models import IdempotencyKey
from debt_collection.models import ComplianceRefusal, ContactAttempt, PromiseToPay
from lending import roles
from lending.models import LoanStatus, Transaction, TransactionKind
from tests.api.books import approved_loan, book_state
from tests.api.collections_world import case_url, contact, make_world
from tests.api.conftest import API, assert_problem
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db
TODAY = "2026-06-15"


def post(client, url, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, body, format="json", **headers)


@pytest.fixture
def world(client_for):
    return make_world(client_for)


# --- collections ---------------------------------------------------------------------------


def test_a_contact_replayed_is_logged_once(world):
    url = case_url(world.case, "contacts/")
    first = post(world.collector, url, contact(), key="call-1")
    assert first.status_code == 201, first.json()
    assert "Idempotent-Replayed" not in first
    again = post(world.collector, url, contact(), key="call-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert ContactAttempt.objects.count() == 1


def test_the_same_key_with_another_body_or_case_is_a_422(world):
    url = case_url(world.case, "contacts/")
    post(world.collector, url, contact(), key="call-2")
    other_body = post(world.collector, url, contact(connected=True), key="call-2")
    body = assert_problem(other_body, 422, "idempotency_conflict", "idempotency_key")
    assert "another request" in body["detail"]
    # Another case (the manager's view of collector2's case), same key: another request.
    post(world.manager, url, contact(), key="call-3")
    elsewhere = post(world.manager, case_url(world.other, "contacts/"), contact(), key="call-3")
    assert_problem(elsewhere, 422, "idempotency_conflict")
    assert ContactAttempt.objects.count() == 2
    assert ContactAttempt.objects.filter(case=world.other).count() == 0


def test_a_guard_refusal_is_replayed_and_counted_once(world):
    url = case_url(world.case, "contacts/")
    late = contact(contacted_at="2026-11-10T22:00:00+08:00")
    first = post(world.collector, url, late, key="late-1")
    assert_problem(first, 409, "contact_outside_hours", "contacted_at")
    again = post(world.collector, url, late, key="late-1")
    assert_problem(again, 409, "contact_outside_hours", "contacted_at")
    assert again["Idempotent-Replayed"] == "true"
    assert ComplianceRefusal.objects.count() == 1


def test_bad_input_frees_the_key_for_the_corrected_request(world):
    url = case_url(world.case, "contacts/")
    bad = post(world.collector, url, contact(channel="fax"), key="fix-1")
    assert_problem(bad, 400, "invalid", "channel")
    fixed = post(world.collector, url, contact(), key="fix-1")
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed
    # A refusal of who is asking frees it as well.
    assert_problem(post(world.collector2, url, contact(), key="fix-2"), 404, "not_found")
    assert not IdempotencyKey.objects.filter(key="fix-2").exists()


def test_keys_belong_to_their_user(world):
    url = case_url(world.case, "contacts/")
    post(world.collector, url, contact(), key="shared")
    other = post(
        world.manager, url, contact(contacted_at="2026-11-10T11:00:00+08:00"), key="shared"
    )
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert ContactAttempt.objects.count() == 2


def test_promises_and_reassignments_replay(world):
    promise = {"amount": "300.00", "promised_for": "2026-12-20"}
    url = case_url(world.case, "promises/")
    first = post(world.collector, url, promise, key="p-1")
    again = post(world.collector, url, promise, key="p-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert PromiseToPay.objects.count() == 1
    move = {"cases": [world.case.pk], "collector": world.collector2.user.pk, "reason": "cover"}
    first = post(world.manager, "/api/v1/collections/cases/reassign/", move, key="r-1")
    assert first.status_code == 200, first.json()
    again = post(world.manager, "/api/v1/collections/cases/reassign/", move, key="r-1")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert world.case.assignments.filter(reason="cover").count() == 1


def test_a_key_expires_after_24_hours(world):
    url = case_url(world.case, "contacts/")
    post(world.collector, url, contact(), key="old")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=24, seconds=1)
    )
    # Expired: the key is new again (another body is no conflict; it runs).
    again = post(world.collector, url, contact(connected=True), key="old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert ContactAttempt.objects.count() == 2


# --- lending's operations ------------------------------------------------------------------


def test_a_replayed_disbursement_answers_as_the_first_one(finance):
    loan = approved_loan()
    url = API + f"loans/{loan.reference}/disburse/"
    body = {"disbursement_date": "2026-01-15"}
    first = post(finance, url, body, key="pay-out-1")
    assert first.status_code == 200, first.json()
    before = book_state(loan)
    again = post(finance, url, body, key="pay-out-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert book_state(loan) == before
    # Without the key a second disbursement is refused by state, as before.
    assert_problem(post(finance, url, body), 409, "illegal_transition")
    assert_problem(
        post(finance, url, {"disbursement_date": "2026-01-16"}, key="pay-out-1"),
        422,
        "idempotency_conflict",
    )


@pytest.mark.parametrize(
    ("role", "name", "body"),
    [
        (roles.CREDIT_OFFICER, "cancel", {"reason": "withdrawn"}),
        (roles.FINANCE, "write-off", {"reason": "fraud", "value_date": TODAY}),
    ],
)
def test_cancel_and_write_off_replay(client_for, role, name, body):
    client = client_for(role)
    loan = approved_loan() if name == "cancel" else active_loan(start=date(2026, 1, 15))
    url = API + f"loans/{loan.reference}/{name}/"
    first = post(client, url, body, key=f"{name}-1")
    assert first.status_code == 200, first.json()
    before = book_state(loan)
    again = post(client, url, body, key=f"{name}-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert book_state(loan) == before


def test_a_refund_replayed_refunds_once(finance):
    loan = active_loan(start=date(2026, 1, 15), max_overpayment="20000.00")
    payoff = finance.get(API + f"loans/{loan.reference}/payoff/", {"as_of": TODAY}).json()
    over = f"{float(payoff['amount']) + 100:.2f}"
    paid = post(
        finance, API + f"loans/{loan.reference}/repayments/", {"amount": over, "value_date": TODAY}
    )
    assert paid.status_code == 201
    url = API + f"loans/{loan.reference}/credit/refund/"
    first = post(finance, url, {"amount": "40.00"}, key="refund-1")
    again = post(finance, url, {"amount": "40.00"}, key="refund-1")
    assert first.status_code == 201 and again.json() == first.json()
    assert Transaction.objects.filter(loan=loan, kind=TransactionKind.REFUND).count() == 1


@pytest.mark.parametrize("key", ["k" * 101, "bad\nkey"])
def test_a_bad_key_is_a_400(finance, key):
    loan = approved_loan()
    url = API + f"loans/{loan.reference}/cancel/"
    response = post(finance, url, {"reason": "x"}, key=key)
    assert_problem(response, 400, "invalid", "idempotency_key")
    assert not IdempotencyKey.objects.exists()


def test_the_purge_command_deletes_expired_keys(finance):
    loan = approved_loan()
    url = API + f"loans/{loan.reference}/disburse/"
    post(finance, url, {"disbursement_date": "2026-01-15"}, key="keep")
    IdempotencyKey.objects.create(
        user=finance.user,
        key="stale",
        method="POST",
        path="/x/",
        fingerprint="0" * 64,
        status_code=200,
        body={},
        created_at=timezone.now() - timedelta(hours=25),
    )
    call_command("purge_idempotency_keys")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["keep"]


# --- two requests with one key at once (PostgreSQL, real threads) ----------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_disburse_once(postgres, client_for):
    finance = client_for(roles.FINANCE)
    loan = approved_loan()
    url = API + f"loans/{loan.reference}/disburse/"
    barrier = threading.Barrier(2)
    answers = [None, None]

    def worker(index):
        try:
            barrier.wait(timeout=30)
            answers[index] = post(finance, url, {"disbursement_date": "2026-01-15"}, key="race")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = sorted(a.status_code for a in answers)
    # One disburses; the other waited on the key and replays it (or, had it read the key
    # before the first answered, is told it is in progress).
    assert statuses in ([200, 200], [200, 409]), [a.content for a in answers]
    replayed = [a for a in answers if a.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == (1 if statuses == [200, 200] else 0)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert Transaction.objects.filter(loan=loan, kind=TransactionKind.DISBURSEMENT).count() == 1
