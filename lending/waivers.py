"""What a waiver may forgive and how it spreads over installments: pure, no Django (DESIGN §3.2).

Penalty is forgiven wherever it was charged; interest only where it has fallen due (interest
not yet due is not owed: a payoff cancels it anyway). Both oldest installment first, the order
a repayment pays them in, so a waiver forgives what the borrower has owed longest.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from lending.allocation import InstallmentState, Parts, allocate, due_installments
from lending.money import ZERO


def waivable(installments: Sequence[InstallmentState], as_of: date) -> Parts:
    """Penalty and interest a waiver on `as_of` may forgive (the other parts are zero)."""
    penalty = sum((max(ZERO, i.outstanding.penalty) for i in installments), ZERO)
    interest = sum(
        (max(ZERO, i.outstanding.interest) for i in due_installments(installments, as_of)), ZERO
    )
    return Parts(interest=interest, penalty=penalty)


def waiver_lines(
    installments: Sequence[InstallmentState],
    as_of: date,
    *,
    penalty: Decimal = ZERO,
    interest: Decimal = ZERO,
) -> dict[int, Parts]:
    """The lines settling `penalty` and `interest`, oldest installment first. Amounts above
    what `waivable` allows are refused (ValueError): a waiver never forgives more than owed."""
    owed = waivable(installments, as_of)
    if penalty < 0 or interest < 0 or penalty > owed.penalty or interest > owed.interest:
        raise ValueError("a waiver forgives between nothing and what is owed")
    lines: dict[int, Parts] = {}
    for amount, component, targets in (
        (penalty, "penalty", list(installments)),
        (interest, "interest", due_installments(installments, as_of)),
    ):
        if not amount:
            continue
        spread, _left = allocate(amount, targets, (component,))
        for seq, parts in spread.items():
            lines[seq] = lines.get(seq, Parts()) + parts
    return lines
