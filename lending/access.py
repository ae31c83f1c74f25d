"""Who may do what, decided in the services (DESIGN §10).

Every service that decides takes `acting_user` and calls `require(acting_user, PERMISSION)`
before it changes anything. The admin, the API, imports and commands only pass the user on, so
each door obeys the same rules. Work the platform does on its own — the nightly close, demo
loaders, migrations — acts as `SYSTEM`, never as `None`: a door that lost its user is refused,
not waved through.
"""

from enum import StrEnum

from django.utils.translation import gettext as _

from lending.errors import LendingError, LendingErrorCode


class Perm(StrEnum):
    """Permissions per operation (`app_label.codename`), declared in the models' Meta."""

    # lending
    ADD_BORROWER = "lending.add_borrower"
    CHANGE_BORROWER = "lending.change_borrower"
    VIEW_PII = "lending.view_pii"
    CHANGE_PRODUCT = "lending.change_loanproduct"
    ADD_PRODUCT = "lending.add_loanproduct"
    APPROVE_LOAN = "lending.approve_loan"
    MIGRATE_LOAN = "lending.migrate_loan"
    CANCEL_LOAN = "lending.cancel_loan"
    DISBURSE_LOAN = "lending.disburse_loan"
    WRITE_OFF_LOAN = "lending.write_off_loan"
    POST_REPAYMENT = "lending.post_repayment"
    REVERSE_TRANSACTION = "lending.reverse_transaction"
    REFUND_CREDIT = "lending.refund_credit"
    WAIVE_CHARGES = "lending.waive_charges"
    SETTLE_LOAN = "lending.settle_loan"
    POST_RECOVERY = "lending.post_recovery"
    RUN_CLOSE_OF_BUSINESS = "lending.run_close_of_business"
    # risk
    EDIT_RISK_PROFILE = "risk.change_riskprofile"
    SUBMIT_APPLICATION = "risk.add_loanapplication"
    DECIDE_APPLICATION = "risk.decide_application"
    EDIT_POLICY = "risk.change_creditpolicy"
    ADD_POLICY = "risk.add_creditpolicy"
    ACTIVATE_POLICY = "risk.activate_policy"
    PROPOSE_LIMIT_INCREASE = "risk.add_limitincreaseproposal"
    APPROVE_LIMIT_PROPOSAL = "risk.approve_limitincreaseproposal"


class _System:
    """The platform acting on its own (the nightly run, loaders, migrations)."""

    pk = None
    username = "system"
    is_authenticated = True
    is_active = True

    def has_perm(self, perm: str) -> bool:
        return True

    def __repr__(self) -> str:
        return "SYSTEM"

    def __str__(self) -> str:
        return "system"


SYSTEM = _System()


def may(acting_user, perm: Perm | str) -> bool:
    """Whether `acting_user` holds `perm` (an inactive or anonymous user holds nothing)."""
    if acting_user is SYSTEM:
        return True
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        return False
    if not getattr(acting_user, "is_active", False):
        return False
    return acting_user.has_perm(str(perm))


def require(acting_user, perm: Perm | str, *, to: str) -> None:
    """Refuse (code `permission_denied`) unless `acting_user` holds `perm`; `to` says what was
    attempted, in words already translated: `to=_("approve loans")`."""
    if not may(acting_user, perm):
        raise LendingError(
            LendingErrorCode.PERMISSION_DENIED,
            _("you do not have permission to %(action)s") % {"action": to},
        )


def stored_user(acting_user):
    """The user row to record as maker, checker or poster (None for SYSTEM)."""
    return acting_user if getattr(acting_user, "pk", None) else None


def is_other_person(maker, user) -> bool:
    """Whether `user` may check what `maker` (a user id or None) did: the four-eyes rule that
    require_other_person enforces, for pages that offer the check only to whom it is open."""
    return maker is None or maker != getattr(user, "pk", None)


def require_other_person(maker, acting_user, *, what: str, checker: str, field: str) -> None:
    """Four eyes: the checker is never the maker (`maker` a user id or None). `what` says what
    the maker did, `checker` who must act instead: `_("another credit officer must review it")`
    (both translated by the caller)."""
    if not is_other_person(maker, acting_user):
        raise LendingError(
            LendingErrorCode.SAME_PERSON,
            _("you %(what)s; %(checker)s") % {"what": what, "checker": checker},
            field=field,
        )
