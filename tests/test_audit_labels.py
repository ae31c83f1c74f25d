"""The audit trail in words (lending.audit_labels): every action code a service writes has a label
in the reader's language, the audit list and its filters show labels while the URLs keep the
codes, and the summary — the service's record of the time — stays on the event's own page."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from debt_collection.models import ProposalState
from debt_collection.models.contacts import PromiseState
from lending import roles
from lending.audit_labels import ACTION_LABELS, action_label, object_type_label
from lending.models import AuditEvent, LoanStatus
from lending.models.close_of_business import RunStatus
from lending.services.audit import audit_log
from risk import behaviour
from risk.models import ProposalStatus
from tests.lending.loan_helpers import active_loan

ROOT = Path(settings.BASE_DIR)
SOURCES = ("lending", "risk", "debt_collection", "imports", "portfolio", "apikeys", "config")
# A code written as a literal: action="x.y", action="x.y" if … else "x.z", or handed to a helper
# that writes it (risk's nightly review, the emergency-contact audit).
LITERAL = re.compile(r'(?:action=|self\.event\(|_audit_contact\()\s*"([a-z_]+\.[a-z_]+)"')
ALTERNATIVE = re.compile(r'action="[a-z_.]+" if .+ else "([a-z_]+\.[a-z_]+)"')


def written_literally() -> set[str]:
    codes = set()
    for app in SOURCES:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or "api" in path.parts:
                continue  # OpenAPI "summary=" and old rows' codes are no service's writing
            text = path.read_text(encoding="utf-8")
            codes |= set(LITERAL.findall(text)) | set(ALTERNATIVE.findall(text))
    return codes


def written_from_values() -> set[str]:
    """The codes services build from a value (f"loan.{to.value}" and the like)."""
    from debt_collection.exports import CaseByBorrowerExport, CaseExport
    from lending.exports import LoanExport, OverdueExport, ScheduleExport

    exports = (LoanExport, ScheduleExport, OverdueExport, CaseExport, CaseByBorrowerExport)
    decided = (ProposalState.APPROVED, ProposalState.REJECTED)
    return {
        *(f"loan.{s}" for s in (LoanStatus.REJECTED, LoanStatus.CANCELLED)),
        *(f"close.{s}" for s in (RunStatus.DONE, RunStatus.FAILED)),
        *(f"export.{e.kind}" for e in exports),
        "limit.set",  # underwriting's first limit
        "limit.increase",  # an approved increase
        *(f"limit.{k}" for k in (behaviour.FREEZE, behaviour.CUT, behaviour.RESTORE)),
        f"limit.{behaviour.RELEASE}",
        *(f"limit.increase_{s}" for s in (ProposalStatus.APPROVED, ProposalStatus.REJECTED)),
        *(f"promise.{s}" for s in (PromiseState.KEPT, PromiseState.BROKEN)),
        *(f"waiver.{s}" for s in decided),
        *(f"write_off.{s}" for s in decided),
        *(f"settlement.{s}" for s in (*decided, ProposalState.SETTLED, ProposalState.LAPSED)),
    }


def test_the_source_scan_finds_the_codes_services_write():
    found = written_literally()
    # One of each shape, so a scan that silently stopped matching cannot pass the next test.
    assert {"loan.disburse", "application.decline", "borrower.contact_add"} <= found
    assert {"limit.propose_increase", "risk_profile.update", "import.write"} <= found
    assert len(found) > 30


def test_every_action_a_service_writes_has_a_label():
    missing = sorted((written_literally() | written_from_values()) - set(ACTION_LABELS))
    assert missing == [], "add them to lending.audit_labels.ACTION_LABELS"


def test_a_label_is_in_the_reader_s_language_and_an_unlisted_code_reads_as_words():
    with translation.override("en"):
        assert action_label("loan.disburse") == "Loan disbursed"
        assert action_label("loan.new_thing") == "Loan new thing"
    with translation.override("zh-hans"):
        assert action_label("loan.disburse") == "贷款已放款"


def test_every_label_reads_in_chinese_without_english_words():
    """Fails until the new labels are in locale/ (makemessages, translate, compilemessages)."""
    with translation.override("zh-hans"):
        english = {
            code: str(label)
            for code, label in ACTION_LABELS.items()
            if re.search(r"[A-Za-z]{2,}", str(label))
        }
    assert english == {}


def test_an_object_type_is_its_model_s_name():
    with translation.override("en"):
        assert object_type_label("lending.loan") == "Loan"
        assert object_type_label("gone.model") == "gone.model"
        assert object_type_label("nodot") == "nodot"
    with translation.override("zh-hans"):
        assert object_type_label("lending.loan") == "贷款"


@pytest.mark.django_db
def test_the_audit_list_reads_in_chinese_and_its_filters_keep_the_codes(client, role_user):
    loan = active_loan()
    auditor = role_user(roles.AUDITOR)
    audit_log(actor=auditor, action="loan.write_off", obj=loan, summary="uncollectable: gone")
    client.force_login(auditor)
    url = reverse("admin:lending_auditevent_changelist")

    html = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
    assert "贷款已放款" in html and "贷款已核销" in html
    assert ">loan.disburse<" not in html and ">lending.loan<" not in html
    assert "uncollectable: gone" not in html  # the recorded summary is on the event's page
    assert "?action=loan.write_off" in html  # the filter's choice, by its code

    filtered = client.get(url, {"action": "loan.write_off"}).content.decode()
    cell = 'class="field-action_words">{}<'
    assert cell.format("Loan written off") in filtered
    assert cell.format("Loan disbursed") not in filtered

    event = AuditEvent.objects.get(action="loan.write_off")
    page = client.get(reverse("admin:lending_auditevent_change", args=[event.pk]))
    shown = page.content.decode()
    assert page.status_code == 200
    assert "uncollectable: gone" in shown and "Loan written off" in shown
    # The page's title and breadcrumb say it in words too; the codes are in its fields.
    assert f"Loan written off · Loan #{loan.pk}" in shown and "lending.loan#" not in shown
    assert "loan.write_off" in shown  # the code as stored, beside its words
    # Each once, its words then its code: no second row labelled "action" or "object type".
    assert shown.count("<label>Action:</label>") == 1
    assert shown.count("<label>Object type:</label>") == 1
    assert "Loan written off <code>loan.write_off</code>" in shown
    assert "Loan <code>lending.loan</code>" in shown
    zh = client.get(page.wsgi_request.path, headers={"accept-language": "zh-hans"})
    assert "贷款已核销 <code>loan.write_off</code>" in zh.content.decode()


@pytest.mark.django_db
def test_the_audit_search_finds_an_object_id_an_actor_or_the_summary_s_words(client, role_user):
    loan = active_loan()
    auditor = role_user(roles.AUDITOR, username="Auditor.Li")
    audit_log(actor=auditor, action="loan.write_off", obj=loan, summary="uncollectable: gone")
    client.force_login(auditor)
    url = reverse("admin:lending_auditevent_changelist")

    def found(term: str) -> set[str]:
        html = client.get(url, {"q": term}).content.decode()
        return set(re.findall(r'class="field-action_words">([^<]+)<', html))

    assert {"Loan disbursed", "Loan written off"} <= found(str(loan.pk))  # the loan's events
    assert found(str(loan.pk)[:-1] + "9999") == set()  # an id matches whole, not a prefix
    assert found("auditor.li") == {"Loan written off"}  # the actor, any case
    assert found("COLLECTABLE") == {"Loan written off"}  # words of the summary
    assert found("nobody-did-this") == set()
