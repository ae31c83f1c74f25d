"""What other apps are told when money moves on a loan during the day.

Collections keeps its case current on every repayment, reversal and write-off; lending must not
import it (DESIGN §3.2), so collections registers a function here in its AppConfig.ready — the
same pattern as `register_disbursement_check` and the nightly steps' registry. A hook runs in
the posting's transaction after the loan's balances, dpd and bucket are current; if it raises,
the posting is undone with it.
"""

from collections.abc import Callable

from lending.models import Loan

MoneyMovedHook = Callable[..., None]  # hook(*, loan: Loan, acting_user) -> None

# hook_many(*, loans: list[Loan], acting_user) -> None: the same for many loans at once
# (a batch of repayments), in a few statements instead of a few per loan.
_hooks: dict[MoneyMovedHook, MoneyMovedHook | None] = {}


def register_money_moved(hook: MoneyMovedHook, *, many: MoneyMovedHook | None = None) -> None:
    _hooks[hook] = many


def money_moved(loan: Loan, *, acting_user) -> None:
    for hook in list(_hooks):
        hook(loan=loan, acting_user=acting_user)


def money_moved_many(loans: list[Loan], *, acting_user) -> None:
    for hook, many in list(_hooks.items()):
        if many is not None:
            many(loans=loans, acting_user=acting_user)
        else:
            for loan in loans:
                hook(loan=loan, acting_user=acting_user)


# companions(*, loan: Loan, repayment: Transaction) -> list of transaction ids: postings that
# stand only because of the repayment (a settlement's discount the payment earned), taken out
# of the history with it when it is reversed — in one re-living, since the history without the
# payment may not hold with them (the credit a discount used was the payment's).
ReversalCompanions = Callable[..., list]
_companions: list[ReversalCompanions] = []


def register_reversal_companions(find: ReversalCompanions) -> None:
    _companions.append(find)


def reversal_companions(loan: Loan, repayment) -> list[int]:
    return sorted({pk for find in _companions for pk in find(loan=loan, repayment=repayment)})
