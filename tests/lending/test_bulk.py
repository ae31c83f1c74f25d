"""The batch writers and reader under repayments_post_many: what they write and read is what
the ORM's own save and queryset would, on PostgreSQL (their fast paths) and SQLite alike."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, signals
from django.test.utils import CaptureQueriesContext

from lending.access import SYSTEM
from lending.close_of_business.bulk import (
    bulk_insert,
    bulk_save,
    fetch_instances,
    pipelined,
    take_ids,
)
from lending.models import (
    AuditEvent,
    Installment,
    Loan,
    Transaction,
    TransactionKind,
    TransactionLine,
)
from lending.models.transactions import Effect
from lending.services.audit import audit_event
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

FIELDS = [f.attname for f in Installment._meta.concrete_fields]


def test_fetched_installments_equal_the_orms_field_by_field():
    loan = active_loan()
    ordinary = list(Installment.objects.filter(loan=loan).order_by("seq"))
    fetched = fetch_instances(Installment.objects.filter(loan=loan).order_by("seq"))
    assert [[getattr(i, f) for f in FIELDS] for i in fetched] == [
        [getattr(i, f) for f in FIELDS] for i in ordinary
    ]
    assert all(not i._state.adding for i in fetched)
    # Saved like any loaded instance: an UPDATE of the row, not a second INSERT.
    fetched[0].interest_settled = D("1.23")
    fetched[0].save(update_fields=["interest_settled"])
    assert Installment.objects.filter(loan=loan).count() == len(ordinary)
    assert Installment.objects.get(pk=fetched[0].pk).interest_settled == D("1.23")


def test_a_model_with_init_receivers_is_built_the_ordinary_way():
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    loan = active_loan()
    signals.post_init.connect(receiver, sender=Installment)
    try:
        fetched = fetch_instances(Installment.objects.filter(loan=loan))
    finally:
        signals.post_init.disconnect(receiver, sender=Installment)
    assert sorted(seen) == sorted(i.pk for i in fetched)


def test_inserted_rows_read_back_as_written_with_their_ids_and_links():
    loan = active_loan()
    installment = Installment.objects.filter(loan=loan).order_by("seq").first()
    payment = Transaction(
        loan=loan,
        kind=TransactionKind.REPAYMENT,
        effect=Effect.SETTLE,
        value_date=date(2026, 2, 15),
        amount=D("100.00"),
        interest=D("100.00"),
        idempotency_key="bulk-1",
    )
    line = TransactionLine(transaction=payment, installment=installment, interest=D("100.00"))
    event = audit_event(
        actor=SYSTEM, action="repayment.posted", obj=loan, data={"amount": "100.00", "n": [1]}
    )
    bulk_insert([payment])  # the line was made before its transaction had an id
    bulk_insert([line])
    bulk_insert([event])
    stored = Transaction.objects.get(pk=payment.pk)
    assert (stored.amount, stored.interest, stored.idempotency_key) == (
        D("100.00"),
        D("100.00"),
        "bulk-1",
    )
    assert stored.posted_at is not None  # auto_now_add stamped as the ORM would
    assert list(stored.lines.values_list("installment_id", "interest")) == [
        (installment.pk, D("100.00"))
    ]
    stored_event = type(event).objects.get(pk=event.pk)
    assert stored_event.data == {"amount": "100.00", "n": [1]}
    assert stored_event.occurred_at is not None


def test_saved_values_of_every_kind_read_back_exactly():
    loan = active_loan()
    installments = fetch_instances(Installment.objects.filter(loan=loan).order_by("seq"))
    for n, installment in enumerate(installments):
        installment.principal_settled = D("0.01") * n
        installment.settled_on = date(2026, 3, 1) if n % 2 else None
    bulk_save(installments, ["principal_settled", "settled_on"])
    assert list(
        Installment.objects.filter(loan=loan)
        .order_by("seq")
        .values_list("principal_settled", "settled_on")
    ) == [(D("0.01") * n, date(2026, 3, 1) if n % 2 else None) for n in range(len(installments))]


def test_moments_aware_or_naive_are_stored_as_the_orm_stores_them():
    """An aware moment goes as it is; a naive one is read in the project's time zone, with
    Django's warning — the same instant either way."""
    import warnings
    from datetime import datetime
    from zoneinfo import ZoneInfo

    loan = active_loan()
    shanghai = datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    loan.updated_at = shanghai
    bulk_save([loan], ["updated_at"])
    assert Loan.objects.get(pk=loan.pk).updated_at == shanghai
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loan.updated_at = datetime(2026, 3, 1, 9, 30)  # naive: the project's zone
        bulk_save([loan], ["updated_at"])
    assert any("naive datetime" in str(w.message) for w in caught)
    assert Loan.objects.get(pk=loan.pk).updated_at == shanghai


def test_numbers_in_every_written_form_read_back_exactly():
    """Decimals and ids go to PostgreSQL as one array literal: exponent forms, negative zero,
    the largest amount and NULLs among them read back as the ORM would have written them."""
    loan = active_loan()
    installments = fetch_instances(Installment.objects.filter(loan=loan).order_by("seq"))[:4]
    amounts = [D("1E+2"), D("-0.00"), D("999999999999.99"), D("0E-10")]
    for installment, amount in zip(installments, amounts, strict=True):
        installment.penalty_due = installment.penalty_settled = amount
    bulk_save(installments, ["penalty_due", "penalty_settled"])
    stored = Installment.objects.filter(pk__in=[i.pk for i in installments]).order_by("seq")
    assert [i.penalty_settled for i in stored] == [D("100.00"), D("0.00"), amounts[2], D("0.00")]
    cause, linked, unlinked = (
        Transaction(
            loan=loan,
            kind=TransactionKind.REPAYMENT,
            effect=Effect.SETTLE,
            value_date=date(2026, 2, 15),
            amount=D("5.00"),
            idempotency_key=key,
        )
        for key in ("lit-1", "lit-2", "lit-3")
    )
    bulk_insert([cause])
    linked.caused_by = cause
    bulk_insert([linked, unlinked])  # an id and a NULL in one array
    assert dict(
        Transaction.objects.filter(pk__in=[linked.pk, unlinked.pk]).values_list("pk", "caused_by")
    ) == {linked.pk: cause.pk, unlinked.pk: None}


def test_numbered_rows_are_inserted_already_linked_in_the_order_numbered():
    """A payoff's companion points at its payment: numbered first, both go in one INSERT."""
    loan = active_loan()

    def posting(kind, effect, key=""):
        return Transaction(
            loan=loan, kind=kind, effect=effect, value_date=date(2026, 2, 15), idempotency_key=key
        )

    payment = posting(TransactionKind.REPAYMENT, Effect.SETTLE, "numbered-1")
    companion = posting(TransactionKind.INTEREST_ADJUSTMENT, Effect.CHARGE)
    companion.caused_by = payment
    if not take_ids([companion, payment]):
        assert connection.vendor != "postgresql"
        assert (companion.pk, payment.pk) == (None, None)  # left for the ordinary insert
        return
    assert companion.pk < payment.pk
    numbered = (companion.pk, payment.pk)
    bulk_insert([companion, payment])
    assert (companion.pk, payment.pk) == numbered
    stored = Transaction.objects.get(pk=companion.pk)
    assert stored.caused_by_id == payment.pk
    assert Transaction.objects.get(pk=payment.pk).idempotency_key == "numbered-1"
    assert not companion._state.adding and not payment._state.adding
    # The sequence moved past them: the next ordinary posting takes a fresh id.
    later = posting(TransactionKind.REPAYMENT, Effect.SETTLE, "numbered-2")
    later.save()
    assert later.pk > payment.pk


def test_several_models_are_numbered_in_one_statement_each_from_its_own_sequence():
    """A chunk's transactions and their lines numbered together: each list in its order, from
    its own table's sequence, and the sequences moved past them."""
    loan = active_loan()
    payments = [
        Transaction(
            loan=loan,
            kind=TransactionKind.REPAYMENT,
            effect=Effect.SETTLE,
            value_date=date(2026, 2, 15),
            idempotency_key=f"together-{n}",
        )
        for n in range(3)
    ]
    first, second = loan.installments.order_by("seq")[:2]
    lines = [
        TransactionLine(transaction=payment, installment=installment, principal=D("1.00"))
        for payment in payments
        for installment in (first, second)
    ]
    with CaptureQueriesContext(connection) as ctx:
        numbered = take_ids(payments, [], lines)
    if not numbered:
        assert connection.vendor != "postgresql"
        assert {obj.pk for obj in [*payments, *lines]} == {None}
        return
    assert len(ctx.captured_queries) == 1
    for group in (payments, lines):
        ids = [obj.pk for obj in group]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
    bulk_insert(payments)
    bulk_insert(lines)
    assert list(
        TransactionLine.objects.filter(pk__in=[line.pk for line in lines])
        .order_by("pk")
        .values_list("transaction__idempotency_key", flat=True)
    ) == [f"together-{n}" for n in range(3) for _ in range(2)]
    later = TransactionLine.objects.create(
        transaction=Transaction.objects.create(
            loan=loan, kind=TransactionKind.FEE, effect=Effect.CHARGE, value_date=date(2026, 2, 15)
        ),
        installment=first,
    )
    assert later.pk > lines[-1].pk


def test_a_refused_statement_in_a_pipeline_is_djangos_error_and_undoes_the_block():
    """Sent without waiting, a statement PostgreSQL refuses is still raised — at the block's
    end, as the IntegrityError a batch catches — and the savepoint undoes what went before."""
    loan = active_loan()
    installment = loan.installments.order_by("seq").first()
    event = audit_event(actor=SYSTEM, action="test.pipelined", obj=loan, summary="before")
    take_ids([event])
    installment.principal_settled = installment.principal_due + 1  # more than was due
    refused = pytest.raises(IntegrityError, match="installment_not_oversettled")
    with refused, transaction.atomic(), pipelined():
        bulk_insert([event])
        bulk_save([installment], ["principal_settled"])
    assert not AuditEvent.objects.filter(action="test.pipelined").exists()
    installment.refresh_from_db()
    assert installment.principal_settled == D("0.00")


def test_fetched_instances_leave_deferred_fields_to_first_use_and_carry_annotations():
    """As the ORM builds them: a deferred field is read when touched, an annotation is an
    attribute, the rest are loaded; only() (which would leave most fields unread) is refused."""
    loan = active_loan()
    queryset = (
        Installment.objects.filter(loan=loan)
        .annotate(twice_seq=F("seq") * 2)
        .defer("penalty_accrued", "due_date")
        .order_by("seq")
    )
    ordinary, fetched = list(queryset), fetch_instances(queryset)
    assert (
        [i.get_deferred_fields() for i in fetched]
        == [i.get_deferred_fields() for i in ordinary]
        == [{"penalty_accrued", "due_date"}] * len(ordinary)
    )
    assert [(i.seq, i.twice_seq, i.principal_due) for i in fetched] == [
        (i.seq, i.twice_seq, i.principal_due) for i in ordinary
    ]
    with CaptureQueriesContext(connection) as ctx:
        assert [i.due_date for i in fetched] == [i.due_date for i in ordinary]
    assert len(ctx.captured_queries) == 2 * len(ordinary)  # each deferred read on first use
    with pytest.raises(ValueError, match="only"):
        fetch_instances(Installment.objects.only("seq"))
