"""Data migrations that mend or convert rows written by earlier releases.

Each test books its loans through today's services, moves the lending app back to the schema the
migration under test found (MigrationExecutor: real schema changes, so the test's data is
committed — transaction=True), writes the old rows through the historical models, runs the
migration, and always ends with every app migrated forward again.
"""

import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from lending.models import Loan
from lending.models.products import CONTRACT_TERMS
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
grace_fix = importlib.import_module("lending.migrations.0007_penalty_accrued_through_in_grace")

BEFORE_CONTRACT_TERMS = ("lending", "0010_ledger_immutable")  # installments keep penalty_exact
LATEST = "latest"


def lending_leaf(executor: MigrationExecutor) -> tuple[str, str]:
    (leaf,) = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "lending"]
    return leaf


@pytest.fixture
def migrate():
    """`migrate(target)` moves the lending app to `target` (or LATEST) and returns the historical
    apps there; afterwards every app is migrated forward to its latest state again."""

    def to(target):
        executor = MigrationExecutor(connection)
        target = lending_leaf(executor) if target == LATEST else target
        executor.migrate([target])
        return MigrationExecutor(connection).loader.project_state(target).apps

    yield to
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_accrued_marks_left_inside_grace_are_cleared_and_nothing_else(migrate):
    # Grace 3 days; each loan's first installment falls due on 15 October.
    loans = [active_loan(start=date(2026, 9, 15), grace_days=3) for _ in range(5)]
    old = migrate(BEFORE_CONTRACT_TERMS)  # the schema 0007 ran on: penalty_exact, product grace
    Installment = old.get_model("lending", "Installment")
    first = [Installment.objects.get(loan_id=loan.pk, seq=1) for loan in loans]
    due = first[0].due_date
    marks = [
        (due + timedelta(days=2), Decimal("0")),  # inside grace, nothing accrued: the old rule
        (due + timedelta(days=3), Decimal("0")),  # last day of grace: still inside
        (due + timedelta(days=5), Decimal("0")),  # past grace (within tolerance): a real mark
        (due + timedelta(days=2), Decimal("1.5")),  # something accrued: not the old rule's mark
        (due + timedelta(days=2), Decimal("0")),  # settled: the mark no longer matters, kept
    ]
    Installment.objects.filter(pk=first[4].pk).update(settled_on=due)
    for installment, (through, exact) in zip(first, marks, strict=True):
        Installment.objects.filter(pk=installment.pk).update(
            penalty_accrued_through=through, penalty_exact=exact
        )

    grace_fix.unmark_grace_nights(old, None)

    after = [Installment.objects.get(pk=i.pk).penalty_accrued_through for i in first]
    assert after == [
        None,
        None,
        due + timedelta(days=5),
        due + timedelta(days=2),
        due + timedelta(days=2),
    ]


def test_0011_keeps_the_exact_penalty_times_the_basis_and_back(migrate):
    act_360 = active_loan(start=date(2026, 9, 15))  # the product's default day count
    act_365 = active_loan(start=date(2026, 9, 15), day_count="act365f")
    untouched = active_loan(start=date(2026, 9, 15))
    old = migrate(BEFORE_CONTRACT_TERMS)
    Installment = old.get_model("lending", "Installment")
    # Kept divided to 12 places, a half-cent tie had lost its last digit: 300.6 / 360 = 0.835
    # was stored as 0.834999999999 (and posted 0.83). One day of 10,000 × 0.27 on ACT/365F is
    # 2,700 / 365 = 7.397260273972…, stored as 7.397260273973.
    exact = {act_360.pk: D("0.834999999999"), act_365.pk: D("7.397260273973")}
    for loan_id, value in exact.items():
        Installment.objects.filter(loan_id=loan_id, seq=1).update(penalty_exact=value)

    new = migrate(LATEST)
    Installment = new.get_model("lending", "Installment")

    def accrued(loan):
        return dict(
            Installment.objects.filter(loan_id=loan.pk).values_list("seq", "penalty_accrued")
        )

    # × basis, rounded to 8 places: exact again. 0.834999999999 × 360 = 300.59999999964
    # → 300.60000000; 7.397260273973 × 365 = 2,700.000000000145 → 2,700.00000000.
    assert accrued(act_360)[1] == D("300.60000000")
    assert accrued(act_365)[1] == D("2700.00000000")
    assert set(accrued(act_360).values()) - {D("300.60000000")} == {D("0")}
    assert set(accrued(untouched).values()) == {D("0")}

    old = migrate(BEFORE_CONTRACT_TERMS)
    Installment = old.get_model("lending", "Installment")

    def penalty_exact(loan):
        return Installment.objects.get(loan_id=loan.pk, seq=1).penalty_exact

    # Back: ÷ basis, within the column's 12 places — the tie is now whole: 300.6 / 360 = 0.835.
    assert str(penalty_exact(act_360)) == "0.835000000000"
    assert str(penalty_exact(act_365)) == "7.397260273973"  # 2,700 / 365 to 12 places
    assert penalty_exact(untouched) == 0


def test_0011_freezes_each_loans_terms_from_its_product(migrate):
    first = active_loan(start=date(2026, 9, 15))
    second = active_loan(start=date(2026, 9, 15))
    third = active_loan(start=date(2026, 9, 15), product=second.product)
    old = migrate(BEFORE_CONTRACT_TERMS)
    LoanProduct = old.get_model("lending", "LoanProduct")
    # Before 0011 the night read the terms from the product: give the two products different
    # ones (neither is the default), as they stood when the release was installed.
    terms = {
        first.product_id: {
            "grace_days": 4,
            "arrears_tolerance": D("2.50"),
            "allocation_order": "interest,penalty,fee,principal",
            "penalty_base": "overdue_principal_interest",
            "penalty_rate_type": "absolute",
            "penalty_rate_value": D("0.300000"),
            "penalty_start": "grace_end",
            "cost_cap_type": "lpr_multiple",
            "cost_cap_value": D("4.000000"),
        },
        second.product_id: {
            "grace_days": 1,
            "arrears_tolerance": D("0.50"),
            "allocation_order": "penalty,interest,fee,principal",
            "penalty_base": "overdue_principal",
            "penalty_rate_type": "contract_multiple",
            "penalty_rate_value": D("1.250000"),
            "penalty_start": "due_date",
            "cost_cap_type": "fixed",
            "cost_cap_value": D("0.300000"),
        },
    }
    for product_id, values in terms.items():
        LoanProduct.objects.filter(pk=product_id).update(**values)

    migrate(LATEST)

    for loan in (first, second, third):
        frozen = Loan.objects.values(*CONTRACT_TERMS).get(pk=loan.pk)
        assert frozen == terms[loan.product_id], loan.reference
