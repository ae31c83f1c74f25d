"""The shipped compliance policies' words read in the agent's language while they are the ones
shipped (debt_collection.shipped_texts); a manager's own script or source is shown as written."""

import importlib
import re
from types import SimpleNamespace

import pytest
from django.utils import translation

from debt_collection.admin.forms import ContactForm
from debt_collection.models import CompliancePolicy
from debt_collection.selectors import active_policy
from debt_collection.shipped_texts import SHIPPED_SCRIPT, SHIPPED_SOURCES, script_text

SEED = importlib.import_module("debt_collection.migrations.0002_default_policies_and_queues")
MANAGERS_OWN = "Say only your first name and ask for a call back."


def test_the_texts_marked_for_translation_are_the_ones_the_migration_seeds():
    china = next(p for p in SEED.POLICIES if p["name"].startswith("China"))
    assert {p["emergency_note"] for p in SEED.POLICIES} == {SHIPPED_SCRIPT}
    sources = {v for k, v in china.items() if k.endswith("_source")}
    assert sources <= set(SHIPPED_SOURCES)


def test_the_shipped_script_reads_in_the_reader_s_language_a_manager_s_as_written():
    with translation.override("en"):
        assert script_text(SHIPPED_SCRIPT) == SHIPPED_SCRIPT
        assert script_text(MANAGERS_OWN) == MANAGERS_OWN
    with translation.override("zh-hans"):
        assert script_text(MANAGERS_OWN) == MANAGERS_OWN
        chinese = script_text(SHIPPED_SCRIPT)
    # Fails until the script is in locale/ (makemessages, translate, compilemessages).
    assert "紧急联系人" in chinese and not re.search(r"[A-Za-z]{2,}", chinese)


@pytest.mark.django_db
def test_the_contact_form_offers_the_active_policy_s_script_in_the_agent_s_language():
    case = SimpleNamespace(borrower_id=0)
    assert active_policy().emergency_note == SHIPPED_SCRIPT  # seeded by the migration
    with translation.override("zh-hans"):
        shown = str(ContactForm(case=case).fields["emergency_contact"].help_text)
    assert "紧急联系人" in shown and "Never say" not in shown

    CompliancePolicy.objects.filter(pk=active_policy().pk).update(emergency_note=MANAGERS_OWN)
    with translation.override("zh-hans"):
        shown = str(ContactForm(case=case).fields["emergency_contact"].help_text)
    assert shown == MANAGERS_OWN
