"""`load_collections_demo`: refuses without DEBUG; on the demo book it fills collections through
the services — collectors with cases each, contacts with refusals, promises kept and broken,
reminders in the outbox, penalty waivers decided by a second person — once."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from debt_collection.models import (
    Case,
    CaseStatus,
    ComplianceRefusal,
    ContactAttempt,
    PromiseState,
    PromiseToPay,
    ProposalState,
    Reminder,
    WaiverProposal,
)
from lending.demo import load_demo_book

SMALL = 120


@pytest.mark.django_db
def test_the_command_refuses_outside_debug_and_writes_nothing(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("load_collections_demo", stdout=StringIO())
    assert not get_user_model().objects.filter(username="collector2").exists()
    assert not ContactAttempt.objects.exists()


@pytest.mark.django_db
def test_it_needs_the_demo_book_first(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="load_demo first"):
        call_command("load_collections_demo", stdout=StringIO())


@pytest.mark.django_db
def test_the_collections_demo(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    settings.DEBUG = True
    load_demo_book(borrowers=SMALL)
    out = StringIO()
    call_command("load_collections_demo", stdout=out)
    users = get_user_model().objects
    for name in ("collector", "collector2", "manager"):
        assert users.get(username=name).check_password(f"demo-{name}-2026")
    for name in ("collector", "collector2"):
        assert Case.objects.filter(status=CaseStatus.OPEN, collector__username=name).exists()
    assert not Case.objects.filter(
        status=CaseStatus.OPEN, collector__isnull=True, queue__outside_agency=False
    ).exists()
    assert ContactAttempt.objects.count() >= 4
    rules = set(ComplianceRefusal.objects.values_list("rule", flat=True))
    assert {"contact_outside_hours", "contact_daily_limit"} <= rules
    states = set(PromiseToPay.objects.values_list("state", flat=True))
    assert {PromiseState.KEPT, PromiseState.BROKEN} <= states
    assert Reminder.objects.exists()
    # Waivers need a second person: proposed by the case's collector, decided by the manager.
    waivers = WaiverProposal.objects.all()
    assert {ProposalState.APPROVED, ProposalState.REJECTED} <= set(
        waivers.values_list("state", flat=True)
    )
    assert all(w.decided_by.username == "manager" != w.proposed_by.username for w in waivers)
    assert all(w.transaction_id for w in waivers.filter(state=ProposalState.APPROVED))
    assert "Loaded the collections demo in" in out.getvalue()
    before = ContactAttempt.objects.count()
    call_command("load_collections_demo", stdout=out)  # a second run changes nothing
    assert ContactAttempt.objects.count() == before
    assert "already loaded" in out.getvalue()
