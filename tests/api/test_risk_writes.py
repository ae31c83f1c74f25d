"""Risk writes through the API: policy versions written, edited and activated by someone who
did not write them (maker-checker), copies; limit increase proposals decided by another risk
analyst. Each role forging each write is refused, bad input is a 400 naming the field, and a
rule's refusal is a 409 with its code — nothing written in every case."""

import copy
from decimal import Decimal

import pytest

from lending import roles
from lending.access import SYSTEM
from lending.models import AuditEvent
from risk.behaviour import HOUSEHOLD_CAP
from risk.models import CreditLimit, CreditPolicy, LimitIncreaseProposal
from risk.policy import DEFAULT_POLICY
from risk.services.limits import credit_limit_change
from tests.api.conftest import API, assert_problem
from tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db
CODES = {"invalid", "required", "out_of_range", "unknown_field"}
WRITERS = {roles.RISK_ANALYST, roles.ADMINISTRATOR}


@pytest.fixture
def analyst(client_for):
    return client_for(roles.RISK_ANALYST)


@pytest.fixture
def analyst2(client_for):
    return client_for(roles.RISK_ANALYST, username="analyst-two")


def risk_state() -> tuple:
    """Everything these writes could change (equal before and after: nothing was)."""
    return (
        sorted(CreditPolicy.objects.values_list("pk", "name", "status", "notes")),
        sorted(LimitIncreaseProposal.objects.values_list("pk", "status", "proposed_amount")),
        sorted(CreditLimit.objects.values_list("pk", "amount", "status")),
        AuditEvent.objects.count(),
    )


def draft(client, **overrides):
    body = {"name": "2027 scorecard", "definition": DEFAULT_POLICY, **overrides}
    return client.post(API + "policies/", body, format="json")


# --- policies ------------------------------------------------------------------------------


def test_a_version_is_written_edited_and_activated_by_someone_else(analyst, analyst2):
    created = draft(analyst, notes="refit")
    body = created.json()
    assert created.status_code == 201, body
    assert (body["version"], body["status"], body["created_by"]) == (2, "draft", "risk-analyst")
    assert body["definition"] == DEFAULT_POLICY
    url = API + "policies/2/"
    edited = analyst.patch(url, {"notes": "cut-off raised"}, format="json")
    assert edited.status_code == 200 and edited.json()["notes"] == "cut-off raised"

    own = analyst.post(url + "activate/")
    assert_problem(own, 409, "same_person", "activated_by")
    assert CreditPolicy.objects.get(version=2).status == "draft"

    activated = analyst2.post(url + "activate/")
    assert activated.status_code == 200, activated.json()
    assert (activated.json()["status"], activated.json()["activated_by"]) == (
        "active",
        "analyst-two",
    )
    assert CreditPolicy.objects.get(version=1).status == "retired"
    # Active and retired versions are kept as they are.
    before = risk_state()
    assert_problem(analyst.patch(url, {"notes": "x"}, format="json"), 409, "illegal_transition")
    assert_problem(analyst.patch(API + "policies/1/", {"notes": "x"}, format="json"), 409,
                   "illegal_transition")  # fmt: skip
    assert_problem(analyst.post(url + "activate/"), 409, "illegal_transition")
    assert risk_state() == before


def test_whoever_edited_a_version_cannot_activate_it(analyst, analyst2, administrator):
    draft(analyst, status="candidate")
    assert CreditPolicy.objects.get(version=2).status == "candidate"
    analyst2.patch(API + "policies/2/", {"name": "2027 scorecard b"}, format="json")
    assert_problem(analyst2.post(API + "policies/2/activate/"), 409, "same_person")
    assert administrator.post(API + "policies/2/activate/").status_code == 200


def test_a_copy_is_a_new_draft(analyst):
    copied = analyst.post(API + "policies/1/copy/", {}, format="json")
    assert copied.status_code == 201, copied.json()
    body = copied.json()
    assert body["version"] == 2 and body["status"] == "draft"
    assert body["definition"] == CreditPolicy.objects.get(version=1).definition
    named = analyst.post(API + "policies/1/copy/", {"name": "back to v1"}, format="json")
    assert named.json()["name"] == "back to v1"
    assert_problem(analyst.post(API + "policies/99/copy/", {}, format="json"), 404, "not_found")


def broken_definition() -> dict:
    definition = copy.deepcopy(DEFAULT_POLICY)
    definition["hard_rules"]["min_age"] = -5
    return definition


POLICY_BAD = [
    ("name", ""),
    ("name", " "),
    ("name", None),
    ("name", "x" * 101),
    ("definition", {}),
    ("definition", "not an object"),
    ("definition", [1, 2]),
    ("definition", None),
    ("definition", broken_definition()),
    ("notes", "x" * 5001),
    ("status", "active"),
    ("status", "retired"),
    ("version", 7),
    ("created_by", 1),
    ("activated_at", "2026-01-01T00:00:00Z"),
]


def test_a_bad_policy_names_the_field_and_writes_nothing(analyst):
    before = risk_state()
    for field, value in POLICY_BAD:
        response = draft(analyst, **{field: value})
        assert_400(response, field)
        assert risk_state() == before, (field, value)
        if field in ("status",):
            continue
        edit = analyst.patch(API + "policies/1/", {field: value}, format="json")
        # v1 is active: a field nobody writes is named first, the state after.
        assert edit.status_code in (400, 409), (field, edit.json())
        assert risk_state() == before, (field, value)
    draft(analyst)
    before = risk_state()
    for field, value in POLICY_BAD:
        if field == "status":
            assert_400(analyst.patch(API + "policies/2/", {field: value}, format="json"), field)
            continue
        assert_400(analyst.patch(API + "policies/2/", {field: value}, format="json"), field)
        assert risk_state() == before, (field, value)
    assert_400(analyst.patch(API + "policies/2/", {}, format="json"), "non_field_errors")


# --- limit increase proposals --------------------------------------------------------------


@pytest.fixture
def limit():
    borrower = BorrowerFactory()
    return credit_limit_change(
        borrower=borrower, kind="set", amount=Decimal("5000.00"), reason="t", acting_user=SYSTEM
    )


def propose(client, limit, **overrides):
    body = {"borrower": limit.borrower_id, "amount": "8000.00", "reason": "paid on time",
            **overrides}  # fmt: skip
    return client.post(API + "limit-increase-proposals/", body, format="json")


def decide(client, proposal_id, approve=True):
    url = API + f"limit-increase-proposals/{proposal_id}/decide/"
    return client.post(url, {"approve": approve, "note": "checked"}, format="json")


def test_a_proposal_is_approved_by_another_analyst_and_the_limit_raised(analyst, analyst2, limit):
    proposed = propose(analyst, limit)
    body = proposed.json()
    assert proposed.status_code == 201, body
    assert (body["status"], body["current_amount"], body["proposed_amount"]) == (
        "proposed",
        "5000.00",
        "8000.00",
    )
    assert body["borrower"] == limit.borrower_id and body["proposed_by"] == "risk-analyst"
    listed = analyst2.get(API + "limit-increase-proposals/", {"status": "proposed"})
    assert [row["id"] for row in listed.json()["results"]] == [body["id"]]

    before = risk_state()
    assert_problem(decide(analyst, body["id"]), 409, "same_person", "approver")
    assert risk_state() == before
    approved = decide(analyst2, body["id"])
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "analyst-two"
    limit.refresh_from_db()
    assert limit.amount == Decimal("8000.00")
    assert limit.history.order_by("-id").first().kind == "increase"
    assert_problem(decide(analyst2, body["id"]), 409, "illegal_transition")


def test_a_rejection_keeps_the_limit_and_rules_refuse_with_their_codes(analyst, analyst2, limit):
    body = propose(analyst, limit).json()
    before = risk_state()
    assert_problem(propose(analyst2, limit, amount="9000.00"), 409, "duplicate", "credit_limit")
    assert risk_state() == before
    rejected = decide(analyst2, body["id"], approve=False)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    limit.refresh_from_db()
    assert limit.amount == Decimal("5000.00")
    credit_limit_change(
        borrower=limit.borrower, kind="freeze", status="frozen", reason="t", acting_user=SYSTEM
    )
    before = risk_state()
    assert_problem(propose(analyst, limit), 409, "illegal_transition", "credit_limit")
    assert risk_state() == before


def test_a_bad_proposal_names_the_field_and_writes_nothing(analyst, limit):
    before = risk_state()
    for field, value in [
        ("amount", "5000.00"),  # not above the current limit
        ("amount", str(HOUSEHOLD_CAP + 1)),
        ("amount", "-1.00"),
        ("amount", "NaN"),
        ("amount", "Infinity"),
        ("amount", "1e30"),
        ("amount", ""),
        ("amount", None),
        ("amount", "0.001"),
        ("borrower", 0),
        ("borrower", 10**30),
        ("borrower", "me"),
        ("borrower", None),
        ("reason", ""),
        ("reason", "x" * 256),
        ("status", "approved"),
        ("proposed_by", 1),
        ("current_amount", "1.00"),
    ]:
        assert_400(propose(analyst, limit, **{field: value}), field)
        assert risk_state() == before, (field, value)
    assert_problem(propose(analyst, limit, borrower=10**12), 404, "not_found")
    body = propose(analyst, limit).json()
    before = risk_state()
    url = API + f"limit-increase-proposals/{body['id']}/decide/"
    for field, value in [("approve", "maybe"), ("approve", None), ("note", "x" * 256),
                         ("status", "approved")]:  # fmt: skip
        assert_400(analyst.post(url, {"approve": True, field: value}, format="json"), field)
        assert risk_state() == before, (field, value)


# --- every role at every door --------------------------------------------------------------


def writes(limit, proposal) -> dict:
    return {
        "create policy": ("post", API + "policies/", {"name": "n", "definition": DEFAULT_POLICY}),
        "edit policy": ("patch", API + "policies/2/", {"notes": "forged"}),
        "copy policy": ("post", API + "policies/1/copy/", {}),
        "activate policy": ("post", API + "policies/3/activate/", {}),  # not the one edited
        "propose increase": (
            "post",
            API + "limit-increase-proposals/",
            {"borrower": limit.borrower_id, "amount": "6000.00", "reason": "r"},
        ),
        "decide increase": (
            "post",
            API + f"limit-increase-proposals/{proposal.pk}/decide/",
            {"approve": False},
        ),
    }


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_at_each_risk_write(client_for, analyst, limit, role):
    draft(analyst)  # versions 2 and 3, written by the analyst fixture
    draft(analyst)
    other = BorrowerFactory()
    credit_limit_change(borrower=other, kind="set", amount=Decimal("100"), reason="t",
                        acting_user=SYSTEM)  # fmt: skip
    proposal = LimitIncreaseProposal.objects.create(
        credit_limit=CreditLimit.objects.get(borrower=other), as_of="2026-11-30",
        current_amount=100, proposed_amount=200, reason="night",
    )  # fmt: skip
    client = client_for(role, username=f"forger-{role.replace(' ', '-')}")
    for name, (method, url, body) in writes(limit, proposal).items():
        before = risk_state()
        response = getattr(client, method)(url, body, format="json")
        if role in WRITERS:
            assert response.status_code in (200, 201), (name, response.json())
        else:
            assert_problem(response, 403, "permission_denied")
            assert risk_state() == before, name


def test_anonymous_is_a_401(anon, limit):
    proposal = LimitIncreaseProposal(pk=1)
    for method, url, body in writes(limit, proposal).values():
        assert_problem(getattr(anon, method)(url, body, format="json"), 401, "not_authenticated")


def assert_400(response, field):
    body = response.json()
    assert response.status_code == 400, (field, body)
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in body["errors"], body
    assert body["code"] in CODES, body


# --- idempotency keys on the risk POSTs ----------------------------------------------------


def test_an_application_and_a_policy_copy_replay_under_their_key(officer, analyst):
    from risk.models import LoanApplication
    from tests.api.test_risk import good_borrower
    from tests.factories import ProductFactory

    body = {"borrower": good_borrower().pk, "product": ProductFactory().code,
            "amount": "8000.00", "term_months": 12}  # fmt: skip
    first = officer.post(API + "applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="app-1")
    assert first.status_code == 201, first.json()
    again = officer.post(API + "applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="app-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert LoanApplication.objects.count() == 1
    other = officer.post(API + "applications/", {**body, "amount": "7000.00"}, format="json",
                         HTTP_IDEMPOTENCY_KEY="app-1")  # fmt: skip
    assert_problem(other, 422, "idempotency_conflict", "idempotency_key")

    url = API + "policies/1/copy/"
    copied = analyst.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="copy-1")
    replayed = analyst.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="copy-1")
    assert replayed["Idempotent-Replayed"] == "true" and replayed.json() == copied.json()
    assert CreditPolicy.objects.count() == 2
