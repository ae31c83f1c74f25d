"""Two requests posting one recovery with one key at once (PostgreSQL, real threads, committed
data): one posting; the other waits on the loan's lock and replays it."""

import threading
from datetime import date

import pytest
from django.db import connection

from lending import roles
from lending.access import SYSTEM
from lending.models import Transaction, TransactionKind
from lending.services.loans import loan_write_off
from tests.api.collections_world import COLLECTIONS
from tests.lending.loan_helpers import active_loan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_recoveries_with_one_key_post_once(postgres, client_for):
    finance = client_for(roles.FINANCE)
    loan = active_loan(start=date(2026, 8, 15))
    loan_write_off(loan_id=loan.pk, reason="t", value_date=date(2026, 10, 1), acting_user=SYSTEM)
    body = {"loan": loan.reference, "amount": "300.00", "value_date": "2026-11-02"}
    barrier = threading.Barrier(2)
    answers = [None, None]

    def worker(index):
        try:
            barrier.wait(timeout=30)
            answers[index] = finance.post(
                COLLECTIONS + "recoveries/", body, format="json", HTTP_IDEMPOTENCY_KEY="AGY-race"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [a.status_code for a in answers] == [201, 201], [a.content for a in answers]
    assert answers[0].json() == answers[1].json()
    replayed = [a for a in answers if a.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == 1
    assert Transaction.objects.filter(loan=loan, kind=TransactionKind.RECOVERY).count() == 1
