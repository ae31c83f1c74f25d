"""new_instance, the fast constructor every posting builds its rows with: the instance it
builds is the one the model's own constructor builds — values, links, defaults, refusals."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db.models import signals

from lending.close_of_business.bulk import bulk_insert, new_instance
from lending.models import AuditEvent, BucketChange, Installment, Loan, Transaction, TransactionLine
from lending.models.transactions import Effect
from tests.lending.loan_helpers import active_loan


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def _cached(instance) -> dict:
    return dict(instance._state.fields_cache)


def _both(model, **values):
    return model(**values), new_instance(model, **values)


@pytest.mark.parametrize(
    "model, values",
    [
        (
            Transaction,
            dict(
                loan=Loan(pk=7),
                kind="repayment",
                effect=Effect.SETTLE,
                value_date=date(2026, 3, 1),
                amount=D("120.50"),
                principal=D("100.00"),
                interest=D("20.50"),
                idempotency_key="bank-1",
                posted_by=None,
            ),
        ),
        (Transaction, dict(loan_id=7, kind="repayment", value_date=date(2026, 3, 1))),
        (
            TransactionLine,
            dict(transaction=Transaction(), installment=Installment(pk=3), principal=D("1.01")),
        ),
        (AuditEvent, dict(actor=None, action="repayment.post", object_type="lending.loan")),
        (BucketChange, dict(loan=Loan(pk=9), from_bucket="current", to_bucket="M1", dpd=1)),
    ],
    ids=["transaction", "by attname", "line to an unsaved transaction", "audit", "bucket"],
)
def test_built_as_the_models_constructor_builds_it(model, values):
    ordinary, fast = _both(model, **values)
    assert _fields(fast) == _fields(ordinary)
    assert _cached(fast) == _cached(ordinary)
    assert fast._state.adding and fast.pk is None


def test_a_related_instance_is_linked_and_cached_as_the_orm_does():
    loan = Loan(pk=41)
    txn = new_instance(Transaction, loan=loan, kind="repayment")
    assert txn.loan_id == 41
    assert txn.loan is loan  # the cached instance, no query


def test_a_callable_default_is_called_for_each_instance():
    first = new_instance(AuditEvent, action="a")
    second = new_instance(AuditEvent, action="b")
    assert first.data == {} and second.data == {}
    first.data["x"] = 1
    assert second.data == {}  # not one shared dict


def test_an_unknown_field_is_refused_as_the_constructor_refuses_it():
    with pytest.raises(TypeError, match="unexpected keyword arguments: 'amonut'"):
        new_instance(Transaction, kind="repayment", amonut=D("1"))
    with pytest.raises(TypeError):
        Transaction(kind="repayment", amonut=D("1"))


def test_an_instance_of_the_wrong_model_is_refused_by_the_descriptor():
    for build in (Transaction, lambda **v: new_instance(Transaction, **v)):
        with pytest.raises(ValueError, match='must be a "Loan" instance'):
            build(loan=Installment(pk=1), kind="repayment")


def test_a_one_to_one_link_goes_through_its_descriptor():
    reversed_one = Transaction(pk=5)
    ordinary, fast = _both(Transaction, loan_id=1, kind="reversal", reverses=reversed_one)
    assert fast.reverses_id == ordinary.reverses_id == 5
    assert fast.reverses is reversed_one


def test_a_model_with_init_receivers_is_built_the_ordinary_way():
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.action)

    signals.post_init.connect(receiver, sender=AuditEvent)
    try:
        new_instance(AuditEvent, action="watched")
    finally:
        signals.post_init.disconnect(receiver, sender=AuditEvent)
    assert seen == ["watched"]


@pytest.mark.django_db
def test_built_rows_save_and_read_back_like_the_constructors():
    loan = active_loan()
    built = [
        new_instance(AuditEvent, actor=None, action="x.fast", object_type="l", object_id="1"),
        AuditEvent(actor=None, action="x.ordinary", object_type="l", object_id="1"),
    ]
    bulk_insert(built)
    new_instance(
        Transaction, loan=loan, kind="repayment", value_date=loan.start_date, posted_by=None
    ).save()
    stored = {e.action: e for e in AuditEvent.objects.filter(action__startswith="x.")}
    assert _fields(stored["x.fast"]).keys() == _fields(stored["x.ordinary"]).keys()
    assert stored["x.fast"].occurred_at is not None and stored["x.fast"].data == {}
    assert Transaction.objects.filter(loan=loan, kind="repayment").count() == 1
