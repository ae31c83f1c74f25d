"""Decision reasons and trace lines are stored as message keys with parameters and read in the
reader's language (issue 13): a decision taken in English reads in Chinese for a Chinese
reader and the other way round, in the admin and the API alike; rows stored before the keys
keep reading as stored, or get their keys from the data migration."""

import importlib
import itertools
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from lending import roles
from lending.access import SYSTEM
from lending.identity import generate_national_id
from risk import reasons as rc
from risk.admin.base import reason_rows, reasons_summary, trace_rows
from risk.models import CreditLimitChange, Decision, IncomeSource, LimitStatus
from risk.policy import DEFAULT_POLICY, LoanRequest, RiskProfile, evaluate, parse_policy
from risk.reason_texts import reason_text, stored_reason, trace_detail
from risk.services.limits import credit_limit_change
from risk.services.underwriting import application_submit
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory

D = Decimal
POLICY = parse_policy(DEFAULT_POLICY)
# Letters that may stand in a Chinese sentence: codes and abbreviations, not English words.
ALLOWED = {"KYC", "LPR", "ID", "DTI", "CNY", "APR", "pilot"}  # "pilot": a value in the data


def english_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED]


def profile(**changes) -> RiskProfile:
    fields = {
        "age": 36,
        "monthly_income": D("12000"),
        "income_verified": True,
        "employment_type": "salaried",
        "employment_months": 36,
        "existing_monthly_debt": D("1000"),
        "bureau_score": 720,
        "bureau_inquiries_6m": 1,
        "bureau_worst_delinquency_days": 0,
        "bureau_current_delinquencies": 0,
        "blacklisted": False,
    }
    return RiskProfile(**{**fields, **changes})


# Profiles that between them go through most of the policy's branches.
PROFILES = [
    profile(),
    profile(age=17, blacklisted=True, bureau_current_delinquencies=2, bureau_inquiries_6m=9),
    profile(platform_currently_overdue=True, bureau_current_delinquencies=1),
    profile(age=None, income_verified=False, bureau_score=None, existing_monthly_debt=None),
    profile(employment_type="student", bureau_score=540, bureau_worst_delinquency_days=120),
    profile(employment_type="pilot", monthly_income=D("2500"), existing_monthly_debt=D("1400")),
    profile(monthly_income=D("900000"), existing_monthly_debt=D("0")),
    profile(employment_type=None, monthly_income=None, blacklisted=None),
]


def decisions():
    for item in PROFILES:
        yield evaluate(item, POLICY, LoanRequest(D("20000"), D("1900")))
        yield evaluate(item, POLICY)


def sample(name: str):
    """A value for a placeholder, by its name."""
    if name in rc.PARAM_KINDS:
        return "0.45" if rc.PARAM_KINDS[name] == rc.RATIO else "12345.6"
    return {
        "outcome": "refer",
        "status": "frozen",
        "best": "salaried",
        "grade": "C",
        "value_repr": "'x'",
        "reasons": [{"message": "income.unverified", "params": {}}],
    }.get(name, 7)


@pytest.mark.parametrize("key", sorted(rc.MESSAGES))
def test_every_message_reads_in_chinese_without_english_words(key):
    names = set(re.findall(r"%\((\w+)\)", rc.MESSAGES[key]))
    params = {name: sample(name) for name in names - {"label", "value", "band"}}
    if names & {"label", "value", "band"}:
        params |= {"attribute": "monthly_income", "value": "8000", "band": ["3000", "8000"]}
    english = rc.render(key, params)
    with translation.override("zh-hans"):
        chinese = reason_text({"message": key, "params": params, "text": english})
    assert chinese != english or not english_words(english), key
    assert english_words(chinese) == [], (key, chinese)


def test_bands_and_labels_read_in_chinese():
    with translation.override("zh-hans"):
        language = rc.Language(gettext=translation.gettext)
        for attribute in rc.ATTRIBUTES:
            assert english_words(rc.attribute_label(attribute, language=language)) == []
        for lo, hi in [(None, None), (None, 5), (5, None), (5, 9), (5, 5)]:
            assert english_words(rc.band_text(lo, hi, rc.INTEGER, language)) == []
        for lo, hi in [(None, "0.8"), ("0.8", None), ("0.8", "0.95")]:
            assert english_words(rc.band_text(lo, hi, rc.RATIO, language)) == []


def test_stored_english_text_is_the_english_rendering_of_the_key():
    for decision in decisions():
        stored = decision.as_dict()
        with translation.override("en"):
            assert [reason_text(r) for r in stored["reasons"]] == [r.text for r in decision.reasons]
            assert [trace_detail(s) for s in stored["trace"]] == [s.detail for s in decision.trace]


def test_every_decision_line_reads_in_chinese():
    seen = set()
    for decision in decisions():
        stored = decision.as_dict()
        with translation.override("zh-hans"):
            for row in stored["reasons"]:
                assert english_words(reason_text(row)) == [], row
            for row in stored["trace"]:
                text = trace_detail(row)
                assert text and english_words(text) == [], row
                seen.add(row["message"])
    # The profiles above reach most of the catalogue (every key is checked on its own above).
    assert len(seen) >= 35


def test_a_custom_policy_label_is_shown_as_the_policy_wrote_it():
    definition = {**DEFAULT_POLICY, "scorecard": dict(DEFAULT_POLICY["scorecard"])}
    characteristics = [dict(c) for c in definition["scorecard"]["characteristics"]]
    characteristics[0]["label"] = "央行征信分"
    definition["scorecard"]["characteristics"] = characteristics
    decision = evaluate(profile(bureau_score=None), parse_policy(definition))
    [line] = [s for s in decision.as_dict()["trace"] if s["rule"] == "scorecard.bureau_score"]
    assert line["params"]["label"] == "央行征信分"
    with translation.override("zh-hans"):
        assert trace_detail(line).startswith("央行征信分")


def test_an_unknown_or_legacy_row_is_shown_as_stored():
    legacy = {"code": "LOW_SCORE", "text": "an old wording"}
    odd = {"code": "LOW_SCORE", "text": "kept", "message": "no.such.key", "params": {}}
    broken = {"code": "LOW_SCORE", "text": "kept too", "message": "inquiries", "params": {}}
    with translation.override("zh-hans"):
        assert [reason_text(r) for r in (legacy, odd, broken)] == [
            "an old wording",
            "kept",
            "kept too",
        ]


# --------------------------------------------------------------------------- the data migration

migration = importlib.import_module("risk.migrations.0006_reason_message_keys")


class _Row:
    def __init__(self, data):
        self.reasons, self.trace = data["reasons"], data["trace"]


def legacy(decision) -> _Row:
    """A decision as stored before issue 13: English sentences only."""
    data = decision.as_dict()
    for row in [*data["reasons"], *data["trace"]]:
        del row["message"], row["params"]
    return _Row(data)


def test_the_migration_gives_old_rows_their_keys():
    reader = migration._Reader()
    for decision in decisions():
        row = legacy(decision)
        migration._convert(row, reader)
        for line in [*row.reasons, *row.trace]:
            english = line.get("text", line.get("detail"))
            assert line.get("message"), english
            with translation.override("en"):
                assert rc.render(line["message"], line["params"]) == english
            with translation.override("zh-hans"):
                assert english_words(rc.render(line["message"], line["params"], _zh())) == []


def test_the_migration_leaves_a_sentence_it_cannot_read_as_it_is():
    row = _Row({"reasons": [{"code": "LOW_SCORE", "text": "an old wording"}], "trace": []})
    assert migration._convert(row, migration._Reader()) is False
    assert row.reasons == [{"code": "LOW_SCORE", "text": "an old wording"}]


def _zh():
    from risk.reason_texts import _language

    return _language()


# --------------------------------------------------------------------------- admin and API

_seq = itertools.count()


def borrower_with(**profile_changes):
    born = date(1990, 6, 15)
    borrower = BorrowerFactory(
        national_id=generate_national_id(
            date_of_birth=born, sex="M", region_code="440301", sequence=next(_seq) % 100
        ),
        date_of_birth=born,
        sex="M",
    )
    RiskProfileFactory(borrower=borrower, **profile_changes)
    return borrower


def submit(borrower, language: str, amount="5000.00"):
    with translation.override(language):
        return application_submit(
            borrower_id=borrower.pk,
            product=ProductFactory(),
            amount=D(amount),
            term_months=6,
            acting_user=SYSTEM,
            as_of=date(2026, 11, 29),
        )


@pytest.mark.django_db
def test_a_decision_made_in_english_reads_in_chinese_and_back():
    application = submit(
        borrower_with(income_source=IncomeSource.DECLARED, bureau_score=None), "en"
    )
    decision = application.decision
    with translation.override("zh-hans"):
        reasons = [row["text"] for row in reason_rows(decision)]
        rows = trace_rows(decision)
        summary = reasons_summary(decision)
    assert reasons and all(not english_words(text) for text in reasons)
    assert all(row["detail"] and not english_words(row["detail"]) for row in rows)
    assert {row["result"] for row in rows if row["kind"] == "refer"} == {"转人工审核"}
    assert not english_words(summary)
    with translation.override("en"):
        assert [row["text"] for row in reason_rows(decision)] == [
            "income not verified",
            "credit bureau score not on file",
        ]


@pytest.mark.django_db
def test_a_decision_made_in_chinese_reads_in_english():
    borrower = borrower_with()
    credit_limit_change(
        borrower=borrower,
        kind="freeze",
        status=LimitStatus.FROZEN,
        reason="fraud investigation",
        acting_user=SYSTEM,
    )
    application = submit(borrower, "zh-hans", amount="1000.00")
    # The note is written in the submitter's language; the reasons follow the reader's.
    assert not english_words(application.review_note)
    decision = Decision.objects.get(pk=application.decision_id)
    assert decision.reasons[0]["code"] == "LIMIT_FROZEN"
    with translation.override("en"):
        assert reason_text(decision.reasons[0]) == "the credit limit is frozen"
    with translation.override("zh-hans"):
        assert not english_words(reason_text(decision.reasons[0]))


@pytest.mark.django_db
def test_the_api_returns_the_code_and_the_text_in_the_requests_language(client, role_user):
    application = submit(
        borrower_with(income_source=IncomeSource.DECLARED, bureau_score=None), "en"
    )
    client.force_login(role_user(roles.CREDIT_OFFICER))
    url = f"/api/v1/applications/{application.pk}/"
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["decision"]
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["decision"]
    assert [r["code"] for r in chinese["reasons"]] == ["INCOME_NOT_VERIFIED", "MISSING_DATA"]
    assert [r["code"] for r in english["reasons"]] == ["INCOME_NOT_VERIFIED", "MISSING_DATA"]
    assert english["reasons"][0]["text"] == "income not verified"
    assert all(not english_words(r["text"]) for r in chinese["reasons"])
    assert all(not english_words(s["detail"]) for s in chinese["trace"])
    assert set(chinese["reasons"][0]) == {"code", "text", "weight", "attribute"}
    assert {s["result"] for s in chinese["trace"]} >= {"pass", "refer"}  # results stay codes


@pytest.mark.django_db
def test_the_admin_review_page_reads_in_the_officers_language(client, role_user):
    application = submit(
        borrower_with(income_source=IncomeSource.DECLARED, bureau_score=None), "en"
    )
    client.force_login(role_user(roles.CREDIT_OFFICER, username="other-officer"))
    url = reverse("admin:risk_loanapplication_review", args=[application.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert all(not english_words(r["text"]) for r in page.context["reasons"])
    assert all(not english_words(r["detail"]) for r in page.context["rows"])


@pytest.mark.django_db
def test_the_first_limit_reads_in_the_readers_language(client, role_user):
    application = submit(borrower_with(), "en")
    change = CreditLimitChange.objects.get(credit_limit__borrower=application.borrower)
    version = change.policy.version
    assert change.reason == f"first limit from policy version {version}"
    assert (change.reason_message, change.reason_params) == ("limit.first", {"version": version})
    with translation.override("zh-hans"):
        assert stored_reason(change) == f"依据授信政策版本 {version} 设定的首个额度"
    client.force_login(role_user(roles.RISK_ANALYST))
    url = f"/api/v1/credit-limits/{change.credit_limit_id}/history/"
    [zh] = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    [en] = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert (zh["kind"], zh["reason"]) == ("set", f"依据授信政策版本 {version} 设定的首个额度")
    assert en["reason"] == change.reason
