"""Who may do what (DESIGN §10): every deciding service refuses a user without its permission,
with the stable code `permission_denied`, and writes nothing; a loan is approved only through its
application; the limit is checked again when the money leaves; the maker is never the checker."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from lending import roles
from lending.access import SYSTEM, Perm, may
from lending.errors import LendingError, LendingErrorCode
from lending.identity import generate_national_id
from lending.models import AuditEvent, Loan, LoanStatus, Transaction
from lending.models.loans import LoanOrigin
from lending.services.borrowers import (
    borrower_create,
    borrower_reveal_pii,
    borrower_update,
    emergency_contact_add,
)
from lending.services.loans import (
    loan_book_approved,
    loan_cancel,
    loan_disburse,
    loan_write_off,
)
from lending.services.products import product_save
from lending.services.repayments import (
    loan_credit_refund,
    repayment_post,
    repayment_reverse,
)
from risk.models import CreditPolicy, LimitStatus, PolicyStatus
from risk.services.limits import credit_limit_change
from risk.services.policies import policy_activate, policy_create, policy_update
from risk.services.profiles import risk_profile_save
from risk.services.underwriting import application_review, application_submit
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

D = Decimal
START = date(2026, 1, 15)


@pytest.fixture
def user_in(django_user_model):
    """A staff user holding one role (or none)."""

    def make(role: str | None, username: str | None = None):
        user = django_user_model.objects.create_user(
            username=username or f"user-{(role or 'none').replace(' ', '-')}",
            password="pw-not-used-1",
            is_staff=True,
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return django_user_model.objects.get(pk=user.pk)  # fresh permission cache

    return make


def footprint() -> dict:
    return {
        "loans": list(Loan.objects.order_by("pk").values_list("pk", "status")),
        "transactions": Transaction.objects.count(),
        "audit": AuditEvent.objects.count(),
        "policies": list(CreditPolicy.objects.order_by("pk").values_list("pk", "status")),
    }


def refused(code, call, **kwargs) -> LendingError:
    before = footprint()
    with pytest.raises(LendingError) as excinfo:
        call(**kwargs)
    assert excinfo.value.code == code, excinfo.value
    assert footprint() == before, "a refused operation wrote something"
    return excinfo.value


# --- every deciding service refuses a user without its permission ------------------------------


def _calls(loan, borrower, product, payment):
    """(name, service, kwargs, the role that may do it) for each deciding service."""
    policy = CreditPolicy.objects.get(status=PolicyStatus.ACTIVE)
    return [
        (
            "borrower_create",
            borrower_create,
            {"full_name": "王五", "national_id": "11010519491231002X", "mobile": "13900000001"},
            roles.CREDIT_OFFICER,
        ),
        (
            "borrower_update",
            borrower_update,
            {"borrower_id": borrower.pk, "employer": "X"},
            roles.CREDIT_OFFICER,
        ),
        (
            "emergency_contact_add",
            emergency_contact_add,
            {"borrower": borrower, "name": "李四", "relation": "friend", "phone": "13900000002"},
            roles.CREDIT_OFFICER,
        ),
        (
            "borrower_reveal_pii",
            borrower_reveal_pii,
            {"borrower_id": borrower.pk},
            roles.CREDIT_OFFICER,
        ),
        ("product_save", product_save, {"product": product}, roles.FINANCE),
        (
            "loan_book_approved",
            loan_book_approved,
            {
                "borrower": borrower,
                "product": product,
                "principal": "1000.00",
                "annual_rate": "0.10",
                "term_months": 6,
            },
            roles.CREDIT_OFFICER,
        ),
        (
            "loan_book_approved(migrated)",
            loan_book_approved,
            {
                "borrower": borrower,
                "product": product,
                "principal": "1000.00",
                "annual_rate": "0.10",
                "term_months": 6,
                "origin": LoanOrigin.MIGRATED,
            },
            roles.ADMINISTRATOR,
        ),
        (
            "loan_disburse",
            loan_disburse,
            {"loan_id": loan.pk, "disbursement_date": START},
            roles.FINANCE,
        ),
        (
            "loan_cancel",
            loan_cancel,
            {"loan_id": loan.pk, "reason": "withdrawn"},
            roles.CREDIT_OFFICER,
        ),
        (
            "loan_write_off",
            loan_write_off,
            {"loan_id": loan.pk, "reason": "fraud", "value_date": START},
            roles.FINANCE,
        ),
        (
            "repayment_post",
            repayment_post,
            {"loan_id": loan.pk, "amount": "10.00", "value_date": START},
            roles.FINANCE,
        ),
        (
            "repayment_reverse",
            repayment_reverse,
            {"transaction_id": payment.pk, "reason": "bounced"},
            roles.FINANCE,
        ),
        ("loan_credit_refund", loan_credit_refund, {"loan_id": loan.pk}, roles.FINANCE),
        (
            "risk_profile_save",
            risk_profile_save,
            {"borrower_id": borrower.pk, "bureau_score": 700},
            roles.CREDIT_OFFICER,
        ),
        (
            "application_submit",
            application_submit,
            {"borrower_id": borrower.pk, "product": product, "amount": "1000", "term_months": 6},
            roles.CREDIT_OFFICER,
        ),
        (
            "application_review",
            application_review,
            {"application_id": 1, "approve": True, "note": "ok"},
            roles.CREDIT_OFFICER,
        ),
        (
            "policy_create",
            policy_create,
            {"name": "stricter", "definition": policy.definition},
            roles.RISK_ANALYST,
        ),
        (
            "policy_update",
            policy_update,
            {"policy_id": policy.pk, "notes": "x"},
            roles.RISK_ANALYST,
        ),
        (
            "policy_activate",
            policy_activate,
            {"policy_id": policy.pk},
            roles.RISK_ANALYST,
        ),
    ]


@pytest.fixture
def targets():
    loan = active_loan(start=START)
    payment = repayment_post(
        loan_id=loan.pk, amount="100.00", value_date=START, acting_user=SYSTEM
    ).transaction
    return loan, BorrowerFactory(), ProductFactory(), payment


@pytest.mark.parametrize("who", ["no role", "auditor", "anonymous", "inactive", "none"])
def test_every_deciding_service_refuses_a_user_without_the_permission(targets, user_in, who):
    if who == "anonymous":
        user = AnonymousUser()
    elif who == "none":
        user = None
    else:
        user = user_in(roles.AUDITOR if who == "auditor" else None)
        if who == "inactive":
            user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
            user.is_active = False
            user.save()
    for name, service, kwargs, _role in _calls(*targets):
        error = refused(LendingErrorCode.PERMISSION_DENIED, service, acting_user=user, **kwargs)
        assert error.message.startswith("you do not have permission to"), name


def test_the_role_the_table_names_passes_the_permission_check(targets, user_in):
    """The other side of the refusal: each service's role is let past the check (the call may
    still fail for its own reasons, but never with permission_denied)."""
    for name, service, kwargs, role in _calls(*targets):
        user = user_in(role, username=f"{name}-{role}".replace(" ", "-")[:150])
        try:
            service(acting_user=user, **kwargs)
        except LendingError as exc:
            assert exc.code != LendingErrorCode.PERMISSION_DENIED, (name, role, exc)


@pytest.mark.parametrize(
    "role, perm, allowed",
    [
        (roles.FINANCE, Perm.APPROVE_LOAN, False),
        (roles.FINANCE, Perm.DISBURSE_LOAN, True),
        (roles.RISK_ANALYST, Perm.DECIDE_APPLICATION, False),
        (roles.RISK_ANALYST, Perm.ACTIVATE_POLICY, True),
        (roles.CREDIT_OFFICER, Perm.DECIDE_APPLICATION, True),
        (roles.CREDIT_OFFICER, Perm.DISBURSE_LOAN, False),
        (roles.COLLECTOR, Perm.VIEW_PII, True),
        (roles.COLLECTIONS_MANAGER, Perm.WRITE_OFF_LOAN, False),
        (roles.AUDITOR, Perm.POST_REPAYMENT, False),
        (roles.AUDITOR, Perm.VIEW_PII, False),
        (roles.ADMINISTRATOR, Perm.MIGRATE_LOAN, True),
    ],
)
def test_least_privilege_in_the_role_table(user_in, role, perm, allowed):
    assert may(user_in(role), perm) is allowed


# --- one approval route -------------------------------------------------------------------------


_seq = iter(range(100))


def _borrower_with_profile():
    """A 36-year-old salaried borrower with a clean record: the policy approves small loans."""
    born = date(1990, 6, 15)
    borrower = BorrowerFactory(
        national_id=generate_national_id(date_of_birth=born, sex="M", sequence=next(_seq)),
        date_of_birth=born,
    )
    RiskProfileFactory(borrower=borrower)
    return borrower


def test_an_officer_alone_cannot_lend_beyond_a_frozen_limit(user_in):
    """The issue's story: 200,000.00 to a borrower whose limit is 9,700.00 and frozen. The
    application is the only route, and it refuses."""
    officer = user_in(roles.CREDIT_OFFICER)
    borrower = _borrower_with_profile()
    credit_limit_change(
        borrower=borrower,
        kind="set",
        amount=D("9700.00"),
        status=LimitStatus.FROZEN,
        reason="delinquent elsewhere",
        acting_user=SYSTEM,
    )
    application = application_submit(
        borrower_id=borrower.pk,
        product=ProductFactory(),
        amount="200000.00",
        term_months=12,
        acting_user=officer,
    )
    assert application.loan is None
    assert application.status != "approved"
    assert not Loan.objects.filter(borrower=borrower).exists()


def test_disbursement_rechecks_the_limit_frozen_after_approval(user_in):
    officer, finance = user_in(roles.CREDIT_OFFICER), user_in(roles.FINANCE)
    borrower = _borrower_with_profile()
    application = application_submit(
        borrower_id=borrower.pk,
        product=ProductFactory(),
        amount="5000.00",
        term_months=6,
        acting_user=officer,
    )
    assert application.status == "approved", application.decision.reasons
    loan = application.loan
    assert loan.origin == LoanOrigin.APPLICATION
    # The nightly review froze the limit between approval and payout.
    credit_limit_change(
        borrower=borrower,
        kind="freeze",
        status=LimitStatus.FROZEN,
        reason="another loan went 1 dpd",
        acting_user=SYSTEM,
    )
    error = refused(
        LendingErrorCode.LIMIT_NOT_ACTIVE,
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=date.today(),
        acting_user=finance,
    )
    assert error.field == "borrower"
    assert "frozen" in error.message
    # Unfrozen but cut below what is approved: still refused.
    credit_limit_change(
        borrower=borrower,
        kind="cut",
        amount=D("4000.00"),
        status=LimitStatus.ACTIVE,
        reason="cut",
        acting_user=SYSTEM,
    )
    refused(
        LendingErrorCode.LIMIT_EXCEEDED,
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=date.today(),
        acting_user=finance,
    )
    # Within the limit again: the money leaves.
    credit_limit_change(
        borrower=borrower, kind="set", amount=D("5000.00"), reason="restored", acting_user=SYSTEM
    )
    loan_disburse(loan_id=loan.pk, disbursement_date=date.today(), acting_user=finance)
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.ACTIVE


def test_disbursement_refuses_a_borrower_blacklisted_after_approval(user_in):
    officer, finance = user_in(roles.CREDIT_OFFICER), user_in(roles.FINANCE)
    borrower = _borrower_with_profile()
    loan = application_submit(
        borrower_id=borrower.pk,
        product=ProductFactory(),
        amount="3000.00",
        term_months=6,
        acting_user=officer,
    ).loan
    type(borrower).objects.filter(pk=borrower.pk).update(
        is_blacklisted=True, blacklist_reason="fraud ring"
    )
    refused(
        LendingErrorCode.BLACKLISTED,
        loan_disburse,
        loan_id=loan.pk,
        disbursement_date=date.today(),
        acting_user=finance,
    )


def test_the_loan_admin_has_no_booking_or_approval_page(client, user_in):
    from django.urls import NoReverseMatch, reverse

    admin = user_in(roles.ADMINISTRATOR)
    client.force_login(admin)
    assert client.get("/admin/lending/loan/add/").status_code == 403
    with pytest.raises(NoReverseMatch):
        reverse("admin:lending_loan_approve", args=[1])
    loan = active_loan()
    page = client.get(reverse("admin:lending_loan_change", args=[loan.pk])).content.decode()
    assert "/approve/" not in page


# --- four eyes on policy activation -------------------------------------------------------------


def test_policy_activation_needs_someone_who_neither_wrote_nor_edited_it(user_in):
    writer = user_in(roles.RISK_ANALYST, "writer")
    editor = user_in(roles.RISK_ANALYST, "editor")
    checker = user_in(roles.RISK_ANALYST, "checker")
    active = CreditPolicy.objects.get(status=PolicyStatus.ACTIVE)
    draft = policy_create(name="stricter", definition=active.definition, acting_user=writer)
    error = refused(
        LendingErrorCode.SAME_PERSON, policy_activate, policy_id=draft.pk, acting_user=writer
    )
    assert error.field == "activated_by"
    policy_update(policy_id=draft.pk, notes="tightened DTI", acting_user=editor)
    refused(LendingErrorCode.SAME_PERSON, policy_activate, policy_id=draft.pk, acting_user=editor)
    policy_activate(policy_id=draft.pk, acting_user=checker)
    draft.refresh_from_db()
    active.refresh_from_db()
    assert draft.status == PolicyStatus.ACTIVE
    assert draft.activated_by == checker
    assert active.status == PolicyStatus.RETIRED


def test_an_administrator_may_activate_an_analysts_version(user_in):
    writer, admin = user_in(roles.RISK_ANALYST, "writer"), user_in(roles.ADMINISTRATOR, "boss")
    active = CreditPolicy.objects.get(status=PolicyStatus.ACTIVE)
    draft = policy_create(name="v-next", definition=active.definition, acting_user=writer)
    policy_activate(policy_id=draft.pk, acting_user=admin)
    assert CreditPolicy.objects.get(status=PolicyStatus.ACTIVE) == draft
