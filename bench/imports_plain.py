"""django-import-export's plain row-by-row configuration for the repayment file: the baseline
the import benchmark compares the project's import with.

What "plain" means here (written down in bench/README.md): the import a developer gets by
following the library's documentation for this file — a `resources.ModelResource` over lending's
`Transaction`, every option at the library's default (one savepoint per row, each row's
instance looked up by its import id, the diff computed and rendered as HTML, the result kept
for every row), the columns mapped with the library's own widgets (the loan by its reference
through a `ForeignKeyWidget`). The only thing written by hand is what the library cannot do
and the rules demand: a row is saved by `repayment_post` (the same service the project's import
calls, with the same user), never by `Transaction.save()` — a plain save would write a bare
row with no allocation, no ledger lines and no balances, a different (and wrong) result. So the
two imports write the same rows and differ only in the machinery around the service.

The one departure from the bare defaults is fair to the library: the instance is looked up
among repayments (`get_queryset`), so the lookup uses the (kind, idempotency key) index instead
of scanning every transaction for each row.
"""

from import_export import fields, resources, widgets

from bench.imports_book import HEADERS
from lending.models import Loan, Transaction, TransactionKind
from lending.services.repayments import repayment_post

REFERENCE, AMOUNT, VALUE_DATE, CHANNEL, EXTERNAL_ID = HEADERS


class PlainRepaymentResource(resources.ModelResource):
    loan = fields.Field(
        attribute="loan",
        column_name=REFERENCE,
        widget=widgets.ForeignKeyWidget(Loan, field="reference"),
    )
    amount = fields.Field(attribute="amount", column_name=AMOUNT, widget=widgets.DecimalWidget())
    value_date = fields.Field(
        attribute="value_date", column_name=VALUE_DATE, widget=widgets.DateWidget("%Y-%m-%d")
    )
    channel = fields.Field(attribute="channel", column_name=CHANNEL)
    idempotency_key = fields.Field(attribute="idempotency_key", column_name=EXTERNAL_ID)

    class Meta:
        model = Transaction
        fields = ("loan", "amount", "value_date", "channel", "idempotency_key")
        import_id_fields = ("idempotency_key",)

    def __init__(self, acting_user):
        super().__init__()
        self.acting_user = acting_user

    def get_queryset(self):
        return Transaction.objects.filter(kind=TransactionKind.REPAYMENT)

    def save_instance(self, instance, is_create, row, **kwargs):
        if kwargs.get("dry_run"):
            return
        result = repayment_post(
            loan_id=instance.loan.pk,
            amount=instance.amount,
            value_date=instance.value_date,
            acting_user=self.acting_user,
            idempotency_key=instance.idempotency_key,
            external_reference=instance.idempotency_key,
            channel=instance.channel or "",
        )
        instance.pk = result.transaction.pk


def plain_import(data: bytes, acting_user):
    """The file through the library's default import (tablib reads the CSV)."""
    import tablib

    dataset = tablib.Dataset().load(data.decode("utf-8-sig"), format="csv")
    return PlainRepaymentResource(acting_user).import_data(dataset, dry_run=False)
