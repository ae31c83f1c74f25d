"""The structured credit-policy editor (issue 13): rules, bands, grades and limits as forms,
checked by risk.policy's one validator, the JSON kept as export and import."""

import copy
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from lending import roles
from lending.access import SYSTEM
from lending.models import AuditEvent
from risk.models import CreditPolicy, PolicyStatus
from risk.policy import DEFAULT_POLICY, parse_policy
from risk.services.policies import policy_create

pytestmark = pytest.mark.django_db

ADD = reverse("admin:risk_creditpolicy_add")
IMPORT = reverse("admin:risk_creditpolicy_import")
LIST = reverse("admin:risk_creditpolicy_changelist")


def change_url(policy):
    return reverse("admin:risk_creditpolicy_change", args=[policy.pk])


def form_data(page) -> dict:
    """What the browser sends back for the editor as shown: every field's value and the
    formsets' management data."""
    editor = page.context["editor"]
    data = {}
    for formset in (editor.characteristics, editor.bands, editor.grades):
        for field in formset.management_form:
            data[field.html_name] = field.value()
    for form in editor.all_forms():
        for field in form:
            value = field.value()
            if isinstance(value, bool):
                if value:
                    data[field.html_name] = "on"
            elif value is not None:
                data[field.html_name] = value
    return data


def rows_of(page, formset: str, field: str) -> dict:
    """{value of `field`: [form, …]} for a formset of the editor."""
    rows = {}
    for form in getattr(page.context["editor"], formset).forms:
        rows.setdefault(form[field].value(), []).append(form)
    return rows


def band_name(page, attribute: str, index: int, key: str) -> str:
    return rows_of(page, "bands", "attribute")[attribute][index][key].html_name


@pytest.fixture
def analyst(client, role_user):
    client.force_login(role_user(roles.RISK_ANALYST))
    return client


@pytest.fixture
def draft():
    return policy_create(name="Tighter", definition=DEFAULT_POLICY, acting_user=SYSTEM)


# --------------------------------------------------------------------------- round trip


def test_saving_the_structured_form_unchanged_keeps_the_definition_exactly(analyst, draft):
    page = analyst.get(change_url(draft))
    assert page.status_code == 200
    response = analyst.post(change_url(draft), form_data(page))
    assert response.status_code == 302, page.context and response.context["editor"].problems
    draft.refresh_from_db()
    # What the JSON textarea held is what the forms give back: same keys, same strings.
    assert draft.definition == DEFAULT_POLICY
    assert AuditEvent.objects.filter(action="policy.update").count() == 1


def test_a_new_draft_starts_from_the_active_version_and_saves_as_a_draft(analyst):
    page = analyst.get(ADD)
    data = form_data(page)
    data["version-name"] = "Cheaper grade B"
    data[rows_of(page, "grades", "outcome")["approve"][1]["max_limit"].html_name] = "90000"
    response = analyst.post(ADD, data)
    assert response.status_code == 302
    new = CreditPolicy.objects.get(version=2)
    assert (new.name, new.status) == ("Cheaper grade B", PolicyStatus.DRAFT)
    expected = copy.deepcopy(DEFAULT_POLICY)
    expected["limits"]["B"]["max_limit"] = "90000"
    assert new.definition == expected


def test_rows_added_and_deleted_change_the_bands(analyst, draft):
    page = analyst.get(change_url(draft))
    data = form_data(page)
    # Split the age band 26–45 in two: 26–35 and a new row 36–45.
    data[band_name(page, "age", 2, "max")] = "35"
    total = int(data["band-TOTAL_FORMS"])
    data.update(
        {
            f"band-{total}-attribute": "age",
            f"band-{total}-min": "36",
            f"band-{total}-max": "45",
            f"band-{total}-points": "20",
            "band-TOTAL_FORMS": str(total + 1),
        }
    )
    # And drop the on-time ratio characteristic with its bands.
    for form in rows_of(page, "characteristics", "attribute")["platform_on_time_ratio"]:
        data[f"{form.prefix}-DELETE"] = "on"
    for form in rows_of(page, "bands", "attribute")["platform_on_time_ratio"]:
        data[f"{form.prefix}-DELETE"] = "on"
    assert analyst.post(change_url(draft), data).status_code == 302
    draft.refresh_from_db()
    scorecard = {c["attribute"]: c for c in draft.definition["scorecard"]["characteristics"]}
    assert "platform_on_time_ratio" not in scorecard
    assert scorecard["age"]["bands"][2:] == [
        {"min": 26, "max": 35, "points": 15},
        {"min": 46, "max": None, "points": 5},
        {"min": 36, "max": 45, "points": 20},
    ]
    parse_policy(draft.definition)  # still a valid policy


# --------------------------------------------------------------------------- refusals


def refused(client, policy, page, changes: dict):
    data = form_data(page)
    data.update(changes)
    before = CreditPolicy.objects.get(pk=policy.pk).definition
    response = client.post(change_url(policy), data)
    assert response.status_code == 200
    assert CreditPolicy.objects.get(pk=policy.pk).definition == before  # nothing saved
    assert not AuditEvent.objects.filter(action="policy.update").exists()
    return response


def test_an_error_names_the_rule_row_and_field_and_sits_on_the_field(analyst, draft):
    page = analyst.get(change_url(draft))
    response = refused(analyst, draft, page, {"hard-max_inquiries_6m": "-1"})
    editor = response.context["editor"]
    assert editor.hard.errors["max_inquiries_6m"] == ["must be at least 0 (got -1)"]
    assert editor.problems == [
        "Hard rules · most credit inquiries in 6 months: must be at least 0 (got -1) "
        "[hard_rules.max_inquiries_6m]"
    ]
    assert "Nothing was saved: 1 problem." in response.content.decode()


def test_a_band_error_names_the_characteristic_and_the_band(analyst, draft):
    page = analyst.get(change_url(draft))
    response = refused(analyst, draft, page, {band_name(page, "bureau_score", 2, "min"): "640"})
    [problem] = response.context["editor"].problems
    assert problem.startswith("Band 3 of credit bureau score: overlaps bands[1]")
    form = rows_of(response, "bands", "attribute")["bureau_score"][2]
    assert "should start at 650" in form.non_field_errors()[0]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("grade-0-income_multiple", "-2", "must not be negative (got -2)"),
        ("grade-0-max_limit", "1e30", "must be a number below 10^15"),
        ("grade-0-dti_ceiling", "NaN", "must be a number below 10^15"),
        ("grade-0-dti_ceiling", "", "is required"),
        ("grade-0-min_limit", "lots", "must be a number below 10^15"),
        ("grade-1-min_score", "abc", "must be a whole number"),
        ("grade-1-min_score", "99999999999999999999", "must be between -10^15 and 10^15"),
        ("hard-min_age", "16", "may not lend to minors"),
        ("version-rounding", "0.001", "positive multiple of 0.01"),
        ("behaviour-cut_to", "1.5", "below 1"),
        ("cat-student", "", "no points for student"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_saved(analyst, draft, field, value, words):
    page = analyst.get(change_url(draft))
    response = refused(analyst, draft, page, {field: value})
    problems = response.context["editor"].problems
    assert len(problems) == 1 and words in problems[0], problems


def test_the_name_is_required_and_nothing_is_created(analyst):
    page = analyst.get(ADD)
    data = form_data(page)
    data["version-name"] = ""
    response = analyst.post(ADD, data)
    assert response.status_code == 200
    assert response.context["editor"].version.errors["name"]
    assert CreditPolicy.objects.count() == 1


def test_a_retired_or_active_version_is_shown_read_only(analyst):
    active = CreditPolicy.objects.get(version=1)
    page = analyst.get(change_url(active))
    html = page.content.decode()
    assert page.status_code == 200 and 'name="_save"' not in html
    assert "Copy to a new draft" in html
    assert analyst.post(change_url(active), form_data(page)).status_code == 403


# --------------------------------------------------------------------------- who may edit


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (roles.RISK_ANALYST, 302),
        (roles.ADMINISTRATOR, 302),
        (roles.CREDIT_OFFICER, 403),
        (roles.COLLECTOR, 403),
        (roles.FINANCE, 403),
        (roles.AUDITOR, 403),
    ],
)
def test_only_analysts_and_administrators_save_a_draft(
    client, role_user, draft, role, status, django_user_model
):
    reader = role_user(roles.ADMINISTRATOR, username="reader")
    client.force_login(reader)
    data = form_data(client.get(change_url(draft)))
    data["version-name"] = "forged"
    client.force_login(role_user(role, username="forger"))
    assert client.post(change_url(draft), data).status_code == status
    assert client.post(ADD, data).status_code == status
    draft.refresh_from_db()
    assert (draft.name == "forged") == (status == 302)
    assert CreditPolicy.objects.count() == (3 if status == 302 else 2)


def test_only_analysts_and_administrators_import(client, role_user):
    body = {"name": "forged", "text": json.dumps(DEFAULT_POLICY)}
    for role in (roles.CREDIT_OFFICER, roles.COLLECTOR, roles.FINANCE):
        client.force_login(role_user(role))
        assert client.post(IMPORT, body).status_code == 403
    assert CreditPolicy.objects.count() == 1


# --------------------------------------------------------------------------- JSON out and in


def test_json_export_then_import_gives_the_same_definition(analyst, draft):
    download = analyst.get(reverse("admin:risk_creditpolicy_json", args=[draft.pk]))
    assert download["Content-Disposition"] == (
        f'attachment; filename="credit-policy-v{draft.version}.json"'
    )
    upload = SimpleUploadedFile("policy.json", download.content, "application/json")
    response = analyst.post(IMPORT, {"name": "Re-imported", "file": upload})
    assert response.status_code == 302
    imported = CreditPolicy.objects.get(name="Re-imported")
    assert imported.status == PolicyStatus.DRAFT
    assert imported.definition == draft.definition == DEFAULT_POLICY
    assert response["Location"] == change_url(imported)


def test_json_numbers_are_imported_as_written(analyst):
    text = json.dumps(DEFAULT_POLICY).replace('"0.50"', "0.50")
    assert analyst.post(IMPORT, {"name": "numbers", "text": text}).status_code == 302
    limits = CreditPolicy.objects.get(name="numbers").definition["limits"]
    assert limits["A"]["dti_ceiling"] == "0.50"  # not the float 0.5


def test_an_invalid_import_names_each_rule_and_saves_nothing(analyst):
    definition = copy.deepcopy(DEFAULT_POLICY)
    definition["limits"]["C"]["income_multiple"] = "-1"
    definition["hard_rules"]["min_age"] = 16
    response = analyst.post(IMPORT, {"name": "bad", "text": json.dumps(definition)})
    assert response.status_code == 200
    problems = response.context["problems"]
    assert [p.split(":")[0] for p in problems] == ["hard_rules.min_age", "limits.C.income_multiple"]
    assert CreditPolicy.objects.count() == 1


def test_not_json_is_refused_on_its_field(analyst):
    response = analyst.post(IMPORT, {"name": "bad", "text": "{not json"})
    assert "is not valid JSON" in response.context["form"].errors["text"][0]
    assert CreditPolicy.objects.count() == 1


# --------------------------------------------------------------------------- in Chinese


def test_policy_validation_reads_in_chinese(analyst, draft):
    page = analyst.get(change_url(draft))
    data = form_data(page)
    data["grade-0-income_multiple"] = "-1"
    response = analyst.post(change_url(draft), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    [problem] = response.context["editor"].problems
    assert problem == (
        "评级 A · 收入倍数：不得为负数（实际为 -1）：额度是月收入的非负倍数 "
        "[limits.A.income_multiple]"
    )


def test_the_import_refusal_reads_in_chinese(analyst):
    definition = copy.deepcopy(DEFAULT_POLICY)
    definition["hard_rules"]["min_age"] = 16
    response = analyst.post(
        IMPORT,
        {"name": "bad", "text": json.dumps(definition)},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.context["problems"] == [
        "hard_rules.min_age: 不得低于 18：政策不得向未成年人放贷（实际为 16）"
    ]


def test_the_service_refusal_is_translated(draft):
    from lending.errors import LendingError
    from risk.services.policies import policy_update

    definition = copy.deepcopy(DEFAULT_POLICY)
    definition["rounding"] = "0"
    with translation.override("zh-hans"), pytest.raises(LendingError) as caught:
        policy_update(policy_id=draft.pk, definition=definition, acting_user=SYSTEM)
    assert caught.value.message == 'rounding: 必须是 0.01 的正整数倍，例如 "100"（实际为 0）'
