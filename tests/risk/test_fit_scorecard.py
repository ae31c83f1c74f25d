"""`manage.py fit_scorecard`: the history it learns from, and a fit on the demo book.

The history (risk.selectors.scorecard_history), as of 2026-08-01: loans disbursed on or before
2026-01-30 (183 days earlier) count; a loan is bad when one of its installments was still
unpaid 30 days after falling due, on a night within 183 days of disbursement.

The demo book is loaded once for the module (it takes a while) as of a fixed day, so it is
the same book on every run, fitted once, and rolled back; the tests read what the fit left
behind. (Loaded as of 40 days a week apart, the book gave held-out AUCs of 0.71–0.85, mean
0.79, with grades in order over all its loans and E far worse than A held out every time.)
"""

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone, translation

from lending import roles
from lending.access import SYSTEM
from lending.demo import load_demo_book
from lending.models import AuditEvent, BucketChange, Installment
from lending.services.repayments import repayment_post
from risk import reasons as rc
from risk.models import CreditPolicy, Decision, LoanApplication, PolicyStatus
from risk.policy import DEFAULT_POLICY, parse_policy
from risk.reasons import Message
from risk.scorecard import FEATURES, fit_scorecard
from risk.selectors import scorecard_history
from risk.services.policies import policy_activate, policy_create
from risk.services.scorecard import not_scored
from tests.conftest import restore_seed_rows
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory
from tests.lending.loan_helpers import active_loan
from tests.risk.test_scorecard import synthetic_book

D = Decimal
AS_OF = date(2026, 8, 1)
START = date(2026, 1, 15)  # single payment due 2026-02-15; dpd 30 on the night of 2026-03-17
DEMO_DAY = min(date(2026, 3, 15), timezone.localdate())


# --------------------------------------------------------------------------- the history


def pay_in_full(loan, on: date) -> None:
    owed = sum(i.outstanding for i in Installment.objects.filter(loan=loan))
    repayment_post(loan_id=loan.pk, amount=owed + 50, value_date=on, acting_user=SYSTEM)


def ensure_active_policy() -> CreditPolicy:
    """The migration seeds version 1 active; a transactional test run earlier flushes it."""
    active = CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE).first()
    if active is None:
        draft = policy_create(name="Default", definition=DEFAULT_POLICY, acting_user=SYSTEM)
        active = policy_activate(policy_id=draft.pk, acting_user=SYSTEM)
    return active


def ensure_roles() -> None:
    """The migration makes the role groups; a transactional test run earlier flushes them (and
    post_migrate then finds no group to give permissions to). The demo acts as its logins, in
    their roles: its finance login must hold disburse_loan, as on a migrated database."""
    for role in roles.ROLES:
        Group.objects.get_or_create(name=role)
    roles.sync_role_permissions()


@pytest.fixture
def active(db):
    return ensure_active_policy()


@pytest.fixture
def product(db):
    return ProductFactory(arrears_tolerance=D("1.00"))


def one_payment_loan(product, start=START, **borrower):
    return active_loan(term=1, start=start, product=product, borrower=BorrowerFactory(**borrower))


@pytest.mark.django_db
def test_bad_means_30_days_unpaid_within_183_days_of_disbursement(
    product, django_assert_max_num_queries
):
    paid_day_30 = one_payment_loan(product)
    pay_in_full(paid_day_30, date(2026, 3, 17))  # paid on the night dpd reached 30: dpd 0
    paid_day_31 = one_payment_loan(product)
    pay_in_full(paid_day_31, date(2026, 3, 18))
    never_paid = one_payment_loan(product)
    crumbs_left = one_payment_loan(product)
    owed = sum(i.outstanding for i in Installment.objects.filter(loan=crumbs_left))
    repayment_post(  # 0.50 left unpaid: within the 1.00 tolerance, never overdue
        loan_id=crumbs_left.pk,
        amount=owed - D("0.50"),
        value_date=date(2026, 2, 15),
        acting_user=SYSTEM,
    )
    too_young = one_payment_loan(product, start=date(2026, 1, 31))  # 182 days before AS_OF
    # Twelve monthly installments paid on time up to June; July's (due 2026-07-15) is unpaid,
    # but its 30th day, 2026-08-14, is past the 183 days (2026-07-17): good.
    late_after_window = active_loan(term=12, start=START, product=product)
    for inst in Installment.objects.filter(loan=late_after_window, due_date__lt=date(2026, 7, 1)):
        repayment_post(
            loan_id=late_after_window.pk,
            amount=inst.outstanding,
            value_date=inst.due_date,
            acting_user=SYSTEM,
        )
    # Paid on time, but a close of business recorded it at 35 dpd on day 60: bad.
    in_bucket_history = one_payment_loan(product)
    pay_in_full(in_bucket_history, date(2026, 2, 15))
    BucketChange.objects.create(
        loan=in_bucket_history,
        business_date=START + timedelta(days=60),
        from_bucket="M1",
        to_bucket="M2",
        dpd=35,
        overdue_amount=D("100.00"),
    )

    with django_assert_max_num_queries(4):  # set-based: the same four queries for any book
        rows = {row.loan_id: row for row in scorecard_history(as_of=AS_OF)}

    assert too_young.pk not in rows
    assert {loan_id: row.bad for loan_id, row in rows.items()} == {
        paid_day_30.pk: False,
        paid_day_31.pk: True,
        never_paid.pk: True,
        crumbs_left.pk: False,
        late_after_window.pk: False,
        in_bucket_history.pk: True,
    }
    assert rows[paid_day_31.pk].borrower_id == paid_day_31.borrower_id
    assert rows[paid_day_31.pk].disbursed == START


@pytest.mark.django_db
def test_features_come_from_the_profile_or_the_decision_at_application(product, active):
    profiled = one_payment_loan(product, monthly_income=D("8000.00"))
    RiskProfileFactory(
        borrower=profiled.borrower,
        employment_months=30,
        existing_monthly_debt=D("2000.00"),
        bureau_score=688,
        bureau_inquiries_6m=2,
    )
    decided = one_payment_loan(product)
    decision = Decision.objects.create(
        borrower=decided.borrower, policy=active, outcome="approve",
        score=700, grade="B", limit=D("30000.00"),
        profile={"age": 41, "monthly_income": "9000.00", "employment_type": "gig",
                 "employment_months": 7, "existing_monthly_debt": "900.00",
                 "bureau_score": 640, "bureau_inquiries_6m": 4,
                 "bureau_worst_delinquency_days": 15, "bureau_current_delinquencies": 0},
    )  # fmt: skip
    LoanApplication.objects.create(
        borrower=decided.borrower,
        product=product,
        amount=decided.principal,
        term_months=1,
        annual_rate=decided.annual_rate,
        status="approved",
        decision=decision,
        loan=decided,
    )
    bare = one_payment_loan(product)
    rows = {row.loan_id: row.features for row in scorecard_history(as_of=AS_OF)}
    born = profiled.borrower.date_of_birth
    age = START.year - born.year - ((START.month, START.day) < (born.month, born.day))
    assert rows[profiled.pk] == {
        "age": age,  # at disbursement
        "monthly_income": D("8000.00"),
        "employment_type": "salaried",
        "employment_months": 30,
        "debt_to_income": D("0.25"),  # 2,000 / 8,000
        "bureau_score": 688,
        "bureau_inquiries_6m": 2,
        "bureau_worst_delinquency_days": 0,
        "bureau_current_delinquencies": 0,
    }
    # What the decision saw when they applied, not what the borrower's record says now.
    assert rows[decided.pk]["age"] == 41
    assert rows[decided.pk]["monthly_income"] == D("9000.00")
    assert rows[decided.pk]["debt_to_income"] == D("0.1")
    assert rows[decided.pk]["employment_type"] == "gig"
    assert rows[decided.pk]["bureau_score"] == 640
    # No outside data: every bureau attribute is missing, income and age are known.
    assert set(rows[bare.pk]) == set(FEATURES)
    assert rows[bare.pk]["bureau_score"] is None and rows[bare.pk]["debt_to_income"] is None
    assert rows[bare.pk]["monthly_income"] == D("12000.00")


# --------------------------------------------------------------------------- refusals


@pytest.mark.django_db
def test_too_little_history_is_refused_and_nothing_is_written(active):
    before = list(CreditPolicy.objects.values_list("version", "status"))
    with pytest.raises(CommandError, match="history: only 0 loans have a full 6-month history"):
        call_command("fit_scorecard", stdout=StringIO())
    with pytest.raises(CommandError, match="--test-size: must be between 0 and 1"):
        call_command("fit_scorecard", "--test-size", "1.2", stdout=StringIO())
    # Not-yet-due installments would read as unpaid: outcomes only as of a day that happened.
    with pytest.raises(CommandError, match="--as-of: is in the future; nothing was written"):
        call_command("fit_scorecard", "--as-of", "2099-01-01", stdout=StringIO())
    CreditPolicy.objects.filter(status=PolicyStatus.ACTIVE).update(status=PolicyStatus.RETIRED)
    with pytest.raises(CommandError, match="policy: no credit policy is active"):
        call_command("fit_scorecard", stdout=StringIO())
    assert list(CreditPolicy.objects.values_list("version", "status")) == [
        (v, PolicyStatus.RETIRED) for v, _ in before
    ]
    assert not AuditEvent.objects.filter(action="policy.scorecard_fit").exists()


# --------------------------------------------------------------------------- the demo book


@pytest.fixture(scope="module")
def demo_fit(django_db_setup, django_db_blocker):
    """The demo book (default size) fitted with `--json`; rolled back before any test runs."""
    md5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=md5),
        transaction.atomic(),
    ):
        restore_seed_rows()
        active = ensure_active_policy()
        ensure_roles()
        load_demo_book(today=DEMO_DAY)
        out = StringIO()
        call_command("fit_scorecard", "--json", "--as-of", DEMO_DAY.isoformat(), stdout=out)
        lines = out.getvalue().splitlines()
        payload = json.loads(lines[-1])
        candidate = CreditPolicy.objects.get(version=payload["policy_version"])
        active_after = CreditPolicy.objects.get(status=PolicyStatus.ACTIVE)
        snapshot = SimpleNamespace(
            lines=lines,
            payload=payload,
            candidate=candidate,
            active_before=(active.pk, active.version, active.definition),
            active_after=(active_after.pk, active_after.version, active_after.definition),
            audit=list(
                AuditEvent.objects.filter(object_id=str(candidate.pk)).values_list(
                    "action", "object_type"
                )
            ),
        )
        transaction.set_rollback(True)
    return snapshot


def test_the_demo_book_yields_a_real_model(demo_fit):
    p = demo_fit.payload
    assert p["auc"] >= 0.70, p
    assert p["auc"] < 0.95, "the demo's noise should keep the model realistic"
    assert p["ks"] > 0.3
    # Grades rank risk: the bad rate never falls from A to E over the fitted book, and the
    # held-out worst grade is far worse than the best.
    overall = [row["bad_rate"] for row in p["calibration_overall"]]
    assert overall == sorted(overall), p["calibration_overall"]
    assert p["grades_monotone_overall"]
    held_out = {row["grade"]: row for row in p["calibration"]}
    assert held_out["E"]["bad_rate"] > 3 * held_out["A"]["bad_rate"], p["calibration"]
    assert sum(row["rows"] for row in p["calibration"]) == p["test_rows"]
    assert "bureau_score" in p["characteristics"]


def test_json_is_the_last_line_with_the_figures_scripts_need(demo_fit):
    p = demo_fit.payload
    assert {"auc", "ks", "train_rows", "test_rows", "policy_version"} <= set(p)
    assert p["train_rows"] > p["test_rows"] > 100
    assert p["test_size"] == 0.3
    assert any(line.startswith("AUC ") for line in demo_fit.lines[:-1]), "a report for people"


def test_a_candidate_is_written_and_the_active_version_is_untouched(demo_fit):
    candidate = demo_fit.candidate
    assert candidate.status == PolicyStatus.CANDIDATE
    assert candidate.activated_at is None
    assert candidate.version == demo_fit.payload["policy_version"] > demo_fit.active_before[1]
    assert demo_fit.active_after == demo_fit.active_before
    policy = parse_policy(candidate.definition)
    active_definition = demo_fit.active_before[2]
    # Only the scorecard and grades are the fit's; the rest is the active version's.
    for key in set(active_definition) - {"scorecard", "grades"}:
        assert candidate.definition[key] == active_definition[key]
    assert [c.attribute for c in policy.characteristics] == demo_fit.payload["characteristics"]
    assert [g.min_score for g in policy.grades] == [
        row["min_score"] for row in demo_fit.payload["calibration"]
    ]
    noted = re.search(r"Held-out \((\d+) loans, \d+ bad\): AUC (0\.\d{3})", candidate.notes)
    assert noted, candidate.notes
    assert int(noted[1]) == demo_fit.payload["test_rows"]
    assert float(noted[2]) == pytest.approx(demo_fit.payload["auc"], abs=0.0006)
    assert ("policy.create", "risk.creditpolicy") in demo_fit.audit
    assert ("policy.scorecard_fit", "risk.creditpolicy") in demo_fit.audit


# --------------------------------------------------------------------------- reasons in words


def test_why_an_attribute_is_not_scored_reads_in_the_readers_language():
    """Stored as a message key with its figures (risk.reasons), the English as before."""
    rows, labels, groups = synthetic_book(800)
    result = fit_scorecard(rows, labels, groups, test_size=0.3, seed=3)
    why = dict(result.dropped)
    assert why["bureau_current_delinquencies"] == Message("fit.one_band", {})
    assert why["age"].key == "fit.low_iv" and why["age"].params["min_iv"] == "0.02"
    with translation.override("en"):
        english = not_scored(result)
    assert "bureau_current_delinquencies (its values do not split into two bands)" in english
    assert re.search(r"\bage \(information value 0\.\d{3} < 0\.02\)", english), english
    assert re.search(r"\(its bands may differ by chance alone \(χ² p = 0\.\d\d\)\)", english)
    with translation.override("zh-hans"):
        chinese = not_scored(result)
    assert "bureau_current_delinquencies（其取值无法分成两个区间）" in chinese
    assert re.search(r"\bage（信息值 0\.\d{3} < 0\.02）", chinese), chinese
    assert "各区间的差异可能纯属偶然（χ² p = 0." in chinese
    # Only the attribute names (codes, as in the policy JSON) stay in Latin letters.
    assert re.findall(r"[a-z]{3,}", re.sub(r"\b[a-z0-9_]+_[a-z0-9_]+\b|\bage\b", "", chinese)) == []


def test_the_fit_keeps_the_key_of_every_reason_and_prints_its_words(demo_fit):
    dropped = demo_fit.payload["dropped"]
    assert dropped, "the demo book has attributes that tell nothing (employment type, age)"
    for item in dropped:
        assert rc.render(item["message"], item["params"]) == item["reason"]
        assert f"  not scored: {item['attribute']} — {item['reason']}" in demo_fit.lines
    assert {item["attribute"] for item in dropped} == set(FEATURES) - set(
        demo_fit.payload["characteristics"]
    )
    notes = demo_fit.candidate.notes
    assert all(f"{item['attribute']} ({item['reason']})" in notes for item in dropped), notes
