"""The permission matrix: every role × every admin URL and custom view (GET and forged POST) ×
expected status, generated from the role table so it cannot drift.

The cases are generated when the tests are collected, from `lending.roles.ROLES` and
`admin.site`: every registered ModelAdmin's standard pages (changelist, add, change, delete,
history), every custom URL its `get_urls()` adds, every list action it offers, and the admin
site's own pages. A custom view nobody declared a rule for below fails (`CUSTOM_VIEWS`), so a new
door cannot slip in unchecked.

The expected status is computed when each case runs, from two sources that must agree:

* the role table: the role's permissions as the database holds them (the groups synced from
  `ROLE_PERMISSIONS` after migrate), asked through `user.has_perm` / `lending.access.may`;
* the ModelAdmin's own rules: `has_*_permission(request, obj)` and `get_actions(request)`, asked
  with a request of that user.

A page is expected to open only when both allow it: the admin may be stricter than the table
(ledgers are read-only for everyone), never looser. A combination where the admin lets a role do
what its role table forbids is an access bug; such bugs, and any 500, are listed in `KNOWN_BUGS`
and marked `xfail(strict=True)`, so the suite stays green while each bug stays visible (and the
mark must go when it is fixed).

A forged POST is what a role without the right would send by hand: the body that would work
(delete confirmed, an operation's form filled in, an action with a selected row). Refused, it
must answer 403 (a list action the role may not run is simply not offered: Django answers
"No action selected." with a redirect) and write nothing: no row added, removed or changed.
Add/change bodies are empty: Django refuses before it builds the form, so the body cannot
matter. A role that holds the right gets a 200 or a redirect, never a 403. Nobody ever gets a
500. The test client does not enforce CSRF: the matrix tests the permission layer behind it.

The objects are built once for the module inside a transaction that is rolled back at the end;
each case runs in a savepoint of it (pytest-django's `db`), so even permitted POSTs that really
change something leave the next case the same world.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.template.base import Template
from django.test import Client, RequestFactory, override_settings
from django.test.utils import _TestState
from django.urls import URLPattern, reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.authtoken.models import Token, TokenProxy

from debt_collection.access import CollectionsPerm
from debt_collection.models import (
    Case,
    CaseAssignment,
    CaseByBorrower,
    CollectionsKpi,
    CompliancePolicy,
    ComplianceRefusal,
    ContactAttempt,
    ContactHold,
    PromiseToPay,
    Queue,
    Recovery,
    Reminder,
    ReminderTemplate,
    SettlementProposal,
    WaiverProposal,
    WriteOffProposal,
)
from debt_collection.services.cases import case_reassign
from debt_collection.services.contacts import contact_hold_place, contact_log
from debt_collection.services.promises import promise_record
from imports.models import ImportRecord, ImportState
from imports.registry import get_kind, registered_kinds
from lending.access import SYSTEM, Perm, may
from lending.admin.loans import OPERATION_PERMISSIONS
from lending.close_of_business.runner import close_business_days
from lending.errors import LendingError
from lending.identity import generate_national_id
from lending.models import (
    AuditEvent,
    Borrower,
    BucketChange,
    BusinessDayRun,
    DelinquencyBucket,
    Loan,
    LoanProduct,
    LprRate,
    Transaction,
)
from lending.roles import COLLECTOR, CREDIT_OFFICER, ROLES
from lending.services.concessions import recovery_post
from lending.services.loans import loan_write_off
from lending.services.repayments import repayment_post
from portfolio.models import Dashboard
from risk.models import (
    CreditLimit,
    CreditPolicy,
    Decision,
    IncomeSource,
    LimitIncreaseProposal,
    LoanApplication,
    RiskProfile,
)
from risk.services.limits import limit_increase_propose
from risk.services.policies import policy_copy
from risk.services.underwriting import application_submit
from tests.factories import BorrowerFactory, ProductFactory, RiskProfileFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db

GET, POST = "GET", "POST"
STANDARD = ("changelist", "add", "change", "delete", "history")
# Which standard pages take a forged POST: the ones that change something.
STANDARD_METHODS = {
    "changelist": (GET,),  # its POSTs are the list actions, each a case of its own
    "add": (GET, POST),
    "change": (GET, POST),
    "delete": (GET, POST),
    "history": (GET,),
}
ALLOWED_GET = frozenset({200})
ALLOWED_POST = frozenset({200, 302})  # a form shown again with its errors, or done and redirected

LOAN_START = date(2026, 9, 15)
REPAID_ON = date(2026, 10, 1)
CLOSED_UNTIL = date(2026, 10, 16)  # after the loan's start, before today: the night has run once

# Custom list-action permissions (`@admin.action(permissions=[...])` → `has_<name>_permission`)
# and the operation each stands for in the role table. Django's own (view/add/change/delete)
# need no entry. An action with a permission missing here fails its cases: declare it.
ACTION_PERMISSIONS = {
    ("lending.loan", "disburse"): Perm.DISBURSE_LOAN,
    ("lending.businessdayrun", "run"): Perm.RUN_CLOSE_OF_BUSINESS,
    ("risk.creditpolicy", "activate"): Perm.ACTIVATE_POLICY,
    ("risk.limitincreaseproposal", "approve"): Perm.APPROVE_LIMIT_PROPOSAL,
    ("collections.case", "reassign"): CollectionsPerm.REASSIGN_CASE,
    ("collections.compliancepolicy", "activate"): CollectionsPerm.MANAGE_COMPLIANCE_POLICY,
    ("collections.contacthold", "manage"): CollectionsPerm.MANAGE_HOLD,
    ("collections.waiverproposal", "decide"): CollectionsPerm.DECIDE_WAIVER,
    ("collections.settlementproposal", "decide"): CollectionsPerm.DECIDE_SETTLEMENT,
    ("collections.writeoffproposal", "decide"): CollectionsPerm.DECIDE_WRITE_OFF,
}

# (role, target, method) -> what goes wrong: real bugs, kept visible (module docstring).
# Found by this matrix and mended (a bucket delete answering a forged POST with the table check
# instead of 403; a bucket add without "from dpd" and axes' cleanup action answering 500). A new
# finding goes here as (role, target, method): reason, until it is mended.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


# --------------------------------------------------------------------------- the world


@dataclasses.dataclass
class World:
    users: dict[str, Any]  # role -> user
    sessions: dict[str, str]  # role -> session key of a logged-in client
    objects: dict[type, Any]  # registered model -> one row of it (change/delete/history/action)
    loan: Loan  # active, with a repayment
    approved_loan: Loan  # approved by underwriting, not disbursed
    repayment: Transaction
    referral: Any  # a referred application, submitted by another credit officer
    draft_policy: CreditPolicy
    victim: Any  # a plain user for the auth pages (never one of the role users)
    upload: ImportRecord  # a dry-run borrowers import of another credit officer's, with errors
    rf: RequestFactory = dataclasses.field(default_factory=RequestFactory)

    def request(self, role: str):
        request = self.rf.get("/admin/")
        request.user = self.users[role]
        return request


_born = count(1)


def _applicant(**profile):
    born = date(1990, 6, 15)
    person = BorrowerFactory(
        national_id=generate_national_id(
            date_of_birth=born, sex="M", region_code="440301", sequence=next(_born) % 100
        ),
        date_of_birth=born,
        sex="M",
    )
    RiskProfileFactory(borrower=person, **profile)
    return person


def _build_world() -> World:
    User = get_user_model()
    users = {}
    for role in ROLES:
        user = User.objects.create_user(
            username=f"matrix-{role.replace(' ', '-')}", password="pw-matrix-1", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        users[role] = User.objects.get(pk=user.pk)  # fresh: no cached permissions
    submitter = User.objects.create_user(username="matrix-submitter", is_staff=True)
    submitter.groups.add(Group.objects.get(name=CREDIT_OFFICER))
    victim = User.objects.create_user(username="matrix-victim", password="pw-victim-1")

    # The ledger: an active loan with a repayment, then one night closed after its start.
    loan = active_loan(start=LOAN_START)
    repayment = repayment_post(
        loan_id=loan.pk,
        amount=Decimal("100.00"),
        value_date=REPAID_ON,
        idempotency_key="matrix-repayment",
        acting_user=SYSTEM,
    ).transaction
    close_business_days(until=CLOSED_UNTIL, acting_user=SYSTEM)
    loan.refresh_from_db()

    # Risk: an approved application (its loan awaits disbursement, its borrower has a limit) and
    # a referred one awaiting review, both submitted by a credit officer who is not the role user.
    product = ProductFactory()
    approved = application_submit(
        borrower_id=_applicant().pk,
        product=product,
        amount=Decimal("3000.00"),
        term_months=6,
        acting_user=submitter,
    )
    assert approved.loan is not None, approved.status
    referral = application_submit(
        borrower_id=_applicant(income_source=IncomeSource.DECLARED, bureau_score=None).pk,
        product=product,
        amount=Decimal("5000.00"),
        term_months=6,
        acting_user=submitter,
    )
    assert referral.status == "referred", referral.status
    limit = CreditLimit.objects.get(borrower=approved.borrower)
    proposal = limit_increase_propose(
        borrower=approved.borrower,
        amount=limit.amount + Decimal("1000.00"),
        reason="matrix",
        acting_user=SYSTEM,
    )
    active_policy = CreditPolicy.objects.get(status="active")
    draft = policy_copy(policy_id=active_policy.pk, acting_user=SYSTEM)

    # Simple rows for the models whose admin needs one and that nothing above makes.
    group = Group.objects.create(name="matrix group")
    token = Token.objects.create(user=victim)
    every = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    task = PeriodicTask.objects.create(
        name="matrix task", task="tests.no_such_task", interval=every
    )  # an unknown task: "run" reports it instead of calling a broker
    now = timezone.now()
    login = {
        "username": "matrix-victim",
        "ip_address": "127.0.0.1",
        "user_agent": "matrix",
        "http_accept": "*/*",
        "path_info": "/admin/login/",
    }
    attempt = AccessAttempt.objects.create(
        **login, get_data="", post_data="", failures_since_start=1
    )
    access_log = AccessLog.objects.create(**login)
    failure_log = AccessFailureLog.objects.create(**login)
    bucket_change = BucketChange.objects.filter(loan=loan).first() or BucketChange.objects.create(
        loan=loan,
        business_date=CLOSED_UNTIL,
        from_bucket="current",
        to_bucket="M1",
        dpd=1,
        overdue_amount=Decimal("1.00"),
    )
    collections = _collections_world(loan, users[COLLECTOR])
    upload = _import_world(submitter)
    objects = {
        ImportRecord: upload,
        **collections,
        Group: group,
        User: victim,
        TokenProxy: TokenProxy.objects.get(pk=token.pk),
        PeriodicTask: task,
        ClockedSchedule: ClockedSchedule.objects.create(clocked_time=now),
        CrontabSchedule: CrontabSchedule.objects.create(minute="7", hour="3"),
        SolarSchedule: SolarSchedule.objects.create(
            event="sunrise", latitude=Decimal("31.23"), longitude=Decimal("121.47")
        ),
        IntervalSchedule: every,
        AccessAttempt: attempt,
        AccessLog: access_log,
        AccessFailureLog: failure_log,
        AuditEvent: AuditEvent.objects.order_by("pk").first(),
        Borrower: loan.borrower,
        BusinessDayRun: BusinessDayRun.objects.get(business_date=CLOSED_UNTIL),
        BucketChange: bucket_change,
        DelinquencyBucket: DelinquencyBucket.objects.order_by("min_dpd").first(),
        LprRate: LprRate.objects.order_by("pk").first(),
        Loan: loan,
        LoanProduct: product,
        RiskProfile: RiskProfile.objects.get(borrower=approved.borrower),
        Decision: approved.decision,
        LoanApplication: approved,
        CreditLimit: limit,
        CreditPolicy: draft,
        LimitIncreaseProposal: LimitIncreaseProposal.objects.get(pk=proposal.pk),
        # The nights up to CLOSED_UNTIL wrote their portfolio snapshots.
        Dashboard: Dashboard.objects.get(business_date=CLOSED_UNTIL),
    }
    assert AuditEvent.objects.exists()

    sessions = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return World(
        users=users,
        sessions=sessions,
        objects=objects,
        loan=loan,
        approved_loan=approved.loan,
        repayment=repayment,
        referral=referral,
        draft_policy=draft,
        victim=victim,
        upload=upload,
    )


def _import_world(uploader) -> ImportRecord:
    """A borrowers file someone else uploaded and dry-ran, awaiting its confirm, with an error
    row (so its error file exists): no role user may run it, only some may see it."""
    content = b"full_name,national_id\nMatrix,not-an-id\n"
    return ImportRecord.objects.create(
        kind="borrowers",
        file_name="matrix.csv",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        created_by=uploader,
        run_by=uploader,
        state=ImportState.CHECKED,
        rows=1,
        errors=1,
        report=[{"row": 2, "fate": "error", "column": "national_id", "value": "", "message": "x"}],
        error_file=b"full_name,national_id,error\nMatrix,not-an-id,x\n",
    )


def _collections_world(loan: Loan, collector) -> dict:
    """The night opened the loan's case; it is the matrix collector's, with a contact, a
    promise, a refused contact and a hold (on another borrower, so contacts stay possible)."""
    case = Case.objects.get(loan=loan, status="open")
    queue = Queue.objects.get(name="M1 early reminders")
    queue.members.add(collector)
    case_reassign(
        case_ids=[case.pk], collector_id=collector.pk, reason="matrix", acting_user=SYSTEM
    )
    at = timezone.make_aware(timezone.datetime(2026, 10, 16, 12))
    contact = contact_log(
        case_id=case.pk,
        channel="sms",
        party="borrower",
        contacted_at=at,
        connected=False,
        outcome="no_answer",
        acting_user=SYSTEM,
    )
    with contextlib.suppress(LendingError):
        contact_log(
            case_id=case.pk,
            channel="call",
            party="borrower",
            connected=False,
            contacted_at=at.replace(hour=23),
            outcome="no_answer",
            acting_user=collector,
        )
    promise = promise_record(
        case_id=case.pk,
        amount=Decimal("50.00"),
        promised_for=timezone.localdate(),
        acting_user=SYSTEM,
    )
    hold = contact_hold_place(
        borrower_id=BorrowerFactory().pk, kind="dispute", reason="matrix", acting_user=SYSTEM
    )
    return {
        Case: case,
        Queue: queue,
        CaseAssignment: CaseAssignment.objects.filter(case=case).first(),
        ContactAttempt: contact,
        PromiseToPay: promise,
        ComplianceRefusal: ComplianceRefusal.objects.get(case=case),
        ContactHold: hold,
        CompliancePolicy: CompliancePolicy.objects.get(version=2),  # a draft
        # Reminders: one in the outbox for the case's loan, a shipped template, and the two
        # pages that are proxies of the case (the work list by borrower, the KPIs).
        Reminder: _reminder(case),
        ReminderTemplate: ReminderTemplate.objects.get(kind="due_today", language="en"),
        CaseByBorrower: CaseByBorrower.objects.get(pk=case.pk),
        CollectionsKpi: CollectionsKpi.objects.get(pk=case.pk),
        **_concessions_world(case, collector),
    }


def _concessions_world(case: Case, collector) -> dict:
    """A waiver and a settlement the matrix collector proposed on their case, a write-off
    proposal the night could have drawn up, and a recovery on another loan, written off."""
    lost = active_loan(start=LOAN_START)
    loan_write_off(loan_id=lost.pk, reason="matrix", value_date=CLOSED_UNTIL, acting_user=SYSTEM)
    Case.objects.create(  # the collector's case that ended in the write-off: their recovery
        loan=lost,
        borrower=lost.borrower,
        status="closed",
        close_reason="written_off",
        opened_on=CLOSED_UNTIL,
        closed_on=CLOSED_UNTIL,
        bucket="M6",
        queue=case.queue,
        collector=collector,
    )
    recovery = recovery_post(
        loan_id=lost.pk, amount=Decimal("50.00"), value_date=CLOSED_UNTIL, acting_user=SYSTEM
    )
    return {
        WaiverProposal: WaiverProposal.objects.create(
            case=case, penalty=Decimal("0.01"), reason="matrix", proposed_by=collector
        ),
        SettlementProposal: SettlementProposal.objects.create(
            case=case,
            amount=Decimal("10.00"),
            due_by=date(2199, 1, 1),
            reason="matrix",
            proposed_by=collector,
        ),
        WriteOffProposal: WriteOffProposal.objects.create(
            case=case, dpd=180, outstanding=Decimal("1.00"), reason="matrix"
        ),
        Recovery: Recovery.objects.get(pk=recovery.pk),
    }


def _reminder(case) -> Reminder:
    installment = case.loan.installments.order_by("seq").first()
    return Reminder.objects.create(
        installment=installment,
        loan=case.loan,
        borrower=case.borrower,
        kind="overdue_7",
        language="en",
        business_date=installment.due_date,
        send_on=installment.due_date,
        time_zone=case.time_zone,
        due_date=installment.due_date,
        amount_due=installment.outstanding,
        currency=case.loan.currency,
        penalty_rate=Decimal("0.27"),
        penalty_from=installment.due_date,
        grace_until=installment.due_date,
        cost_cap_rate=Decimal("0.24"),
    )


def _case_operation(perm, body):
    return Custom((GET, POST), lambda w: [w.objects[Case].pk], _perm(perm), lambda w: body)


@contextlib.contextmanager
def _templates_not_recorded():
    """The matrix reads status codes and messages only, never `response.context`: render
    without the test client's recording of every template and its context (a sixth of the
    time), and restore it for the modules after this one."""
    instrumented = Template._render
    original = getattr(getattr(_TestState, "saved_data", None), "template_render", None)
    if original is not None:
        Template._render = original
    try:
        yield
    finally:
        Template._render = instrumented


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once; every case runs in a savepoint of this transaction, rolled back at the end."""
    md5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=md5),
        _templates_not_recorded(),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --------------------------------------------------------------------------- the rules


@dataclasses.dataclass(frozen=True)
class Expected:
    allowed: bool
    ok: frozenset = ALLOWED_GET  # the statuses that count as done when allowed
    refused: int = 403  # the status when not allowed
    action_not_offered: bool = False  # a refused list action: redirect, "No action selected."
    audited: bool = False  # allowed, and must leave one audit event (a PII reveal)


def _table(user, model, *actions: str) -> bool:
    """Whether the role table gives `user` any of `actions` (view/add/change/delete) on `model`."""
    opts = model._meta
    return any(user.has_perm(f"{opts.app_label}.{a}_{opts.model_name}") for a in actions)


def _model_admin(label: str):
    return admin.site._registry[apps.get_model(label)]


def _standard(world: World, role: str, model, page: str, method: str) -> Expected:
    model_admin = admin.site._registry[model]
    request, user = world.request(role), world.users[role]
    obj = world.objects.get(model)
    if (
        page not in ("changelist", "add")
        and model_admin.has_view_or_change_permission(request)
        and not model_admin.get_queryset(request)
        .filter(pk=obj._meta.pk.value_from_object(obj))  # (a token proxy's `pk` is its user's)
        .exists()
    ):
        # A row outside those the user's list holds (another user's import): not found, for
        # whatever page of it, never "forbidden", which would confirm it exists.
        return Expected(False, refused=404)
    if page in ("changelist", "history") or (page == "change" and method == GET):
        target = None if page == "changelist" else obj
        allowed = model_admin.has_view_or_change_permission(request, target) and _table(
            user, model, "view", "change"
        )
    elif page == "add":
        allowed = model_admin.has_add_permission(request) and _table(user, model, "add")
    elif page == "change":
        allowed = model_admin.has_change_permission(request, obj) and _table(user, model, "change")
    else:
        allowed = model_admin.has_delete_permission(request, obj) and _table(user, model, "delete")
    return Expected(allowed, ALLOWED_GET if method == GET else ALLOWED_POST)


def _action(world: World, role: str, model, name: str) -> Expected:
    model_admin = admin.site._registry[model]
    request, user = world.request(role), world.users[role]
    if not (
        model_admin.has_view_or_change_permission(request) and _table(user, model, "view", "change")
    ):
        return Expected(False)  # the list itself is refused
    func = {n: f for f, n, _ in model_admin._get_base_actions()}[name]
    in_table = True
    for permission in getattr(func, "allowed_permissions", ()):
        if permission in ("view", "add", "change", "delete"):
            in_table &= _table(user, model, permission)
        else:
            perm = ACTION_PERMISSIONS.get((model._meta.label_lower, permission))
            assert perm is not None, f"declare {model._meta.label_lower} {permission!r}"
            in_table &= may(user, perm)
    offered = model_admin.get_actions(request)
    # Not offered: with other actions on offer Django answers "No action selected." and
    # redirects; with none at all it ignores the POST and shows the list.
    refused = 302 if offered else 200
    return Expected(
        name in offered and in_table, ALLOWED_POST, refused=refused, action_not_offered=True
    )


def _perm(perm):
    """A custom view that needs one operation's permission for GET and POST alike."""

    def rule(world, role, method):
        return Expected(
            may(world.users[role], perm), ALLOWED_GET if method == GET else ALLOWED_POST
        )

    return rule


def _viewer_of(label: str, *, post_perm=None):
    """A custom view that needs the model's view permission (POST: also `post_perm`)."""

    def rule(world, role, method):
        model = apps.get_model(label)
        request, user = world.request(role), world.users[role]
        allowed = _model_admin(label).has_view_permission(request) and _table(
            user, model, "view", "change"
        )
        if method == POST and post_perm is not None:
            allowed = allowed and may(user, post_perm)
        return Expected(allowed, ALLOWED_GET if method == GET else ALLOWED_POST)

    return rule


def _adder_of(label: str):
    """A custom view that creates rows of the model: its add permission, GET and POST alike."""

    def rule(world, role, method):
        model = apps.get_model(label)
        allowed = _model_admin(label).has_add_permission(world.request(role)) and _table(
            world.users[role], model, "add"
        )
        return Expected(allowed, ALLOWED_GET if method == GET else ALLOWED_POST)

    return rule


def _exporter_of(label: str):
    """A list's Export page (tests/exports): the model's view permission and at least one of
    its export kinds in the table (its export grant and the view of what it holds); the admin
    offers it only then as well."""

    def rule(world, role, method):
        model_admin, user = _model_admin(label), world.users[role]
        in_table = _table(user, model_admin.model, "view", "change") and any(
            may(user, kind.permission) and may(user, kind.reads)
            for kind in model_admin.export_kinds
        )
        allowed = model_admin.has_export_permission(world.request(role)) and in_table
        return Expected(allowed, ALLOWED_GET if method == GET else ALLOWED_POST)

    return rule


def _every_staff(status: int):
    return lambda world, role, method: Expected(True, frozenset({status}))


def _may_import_some_kind(world, role, method):
    user = world.users[role]
    return Expected(any(may(user, kind.permission) for kind in registered_kinds()))


def _sees_upload(world, user) -> bool:
    """Another user's import is seen only with imports.view_all_imports."""
    return world.upload.created_by_id == user.pk or may(user, "imports.view_all_imports")


def _import_page(world, role, method):
    """An import's run page (GET: its dry run; POST: its confirm) and error file: not found
    unless the user sees it; the confirm is its uploader's alone (holding the kind's
    permission): seeing everyone's imports lets no one write rows another person checked."""
    user = world.users[role]
    if not _sees_upload(world, user):
        return Expected(False, refused=404)
    if method == GET:
        return Expected(True)
    runs = world.upload.created_by_id == user.pk and may(
        user, get_kind(world.upload.kind).permission
    )
    return Expected(runs, ALLOWED_POST)


def _find(world, role, method):
    if method == GET:
        return Expected(False, refused=405)  # POST only: a number in a URL ends up in logs
    rule = _viewer_of("lending.borrower")(world, role, method)
    return dataclasses.replace(rule, ok=frozenset({302}))  # to the borrower, or back to the list


def _reveal(world, role, method):
    if method == GET:
        return Expected(False)  # a deliberate POST only, for everyone
    return Expected(may(world.users[role], Perm.VIEW_PII), ALLOWED_GET, audited=True)


def _password(world, role, method):
    request = world.request(role)
    allowed = _model_admin("auth.user").has_change_permission(request, world.victim) and _table(
        world.users[role], get_user_model(), "change"
    )
    return Expected(allowed, ALLOWED_GET if method == GET else ALLOWED_POST)


def _operation_body(name: str) -> dict:
    today = timezone.localdate().isoformat()
    return {
        "lending_loan_reject": {"reason": "forged"},
        "lending_loan_cancel": {"reason": "forged"},
        "lending_loan_disburse": {"disbursement_date": today},
        "lending_loan_repay": {
            "amount": "50.00",
            "value_date": CLOSED_UNTIL.isoformat(),
            "idempotency_key": "matrix-forged",
        },
        "lending_loan_write_off": {"reason": "forged", "value_date": CLOSED_UNTIL.isoformat()},
        "lending_loan_reverse": {"reason": "forged"},
    }[name]


@dataclasses.dataclass(frozen=True)
class Custom:
    methods: tuple[str, ...]
    args: Any  # world -> URL args
    rule: Any  # (world, role, method) -> Expected
    body: Any = lambda world: {}  # world -> the forged POST's body


def _loan_operation(name: str, loan_attr: str, perm) -> Custom:
    return Custom(
        (GET, POST),
        lambda w: [getattr(w, loan_attr).pk],
        _perm(perm),
        lambda w: _operation_body(name),
    )


# Every custom URL of a ModelAdmin, with the rule it obeys. The loan operations take their
# permission from the admin's own OPERATION_PERMISSIONS (reject shares cancel's).
CUSTOM_VIEWS: dict[str, Custom] = {
    "lending_loan_reject": _loan_operation(
        "lending_loan_reject", "approved_loan", Perm.CANCEL_LOAN
    ),
    "lending_loan_cancel": _loan_operation(
        "lending_loan_cancel", "approved_loan", OPERATION_PERMISSIONS["cancel"]
    ),
    "lending_loan_disburse": _loan_operation(
        "lending_loan_disburse", "approved_loan", OPERATION_PERMISSIONS["disburse"]
    ),
    "lending_loan_repay": _loan_operation(
        "lending_loan_repay", "loan", OPERATION_PERMISSIONS["repay"]
    ),
    "lending_loan_write_off": _loan_operation(
        "lending_loan_write_off", "loan", OPERATION_PERMISSIONS["write_off"]
    ),
    "lending_loan_reverse": Custom(
        (GET, POST),
        lambda w: [w.loan.pk, w.repayment.pk],
        _perm(OPERATION_PERMISSIONS["reverse"]),
        lambda w: _operation_body("lending_loan_reverse"),
    ),
    "lending_borrower_find": Custom(
        (GET, POST), lambda w: [], _find, lambda w: {"identifier": w.loan.borrower.mobile}
    ),
    "lending_borrower_reveal": Custom((GET, POST), lambda w: [w.loan.borrower.pk], _reveal),
    "lending_loanproduct_quote": Custom((GET,), lambda w: [], _viewer_of("lending.loanproduct")),
    "risk_loanapplication_review": Custom(
        (GET, POST),
        lambda w: [w.referral.pk],
        _viewer_of("risk.loanapplication", post_perm=Perm.DECIDE_APPLICATION),
        lambda w: {"decision": "approve", "note": "forged"},
    ),
    "risk_creditpolicy_simulate": Custom(
        (GET,), lambda w: [w.draft_policy.pk], _viewer_of("risk.creditpolicy")
    ),
    "risk_creditpolicy_json": Custom(
        (GET,), lambda w: [w.draft_policy.pk], _viewer_of("risk.creditpolicy")
    ),
    "risk_creditpolicy_import": Custom(
        (GET, POST),
        lambda w: [],
        _adder_of("risk.creditpolicy"),
        lambda w: {"name": "forged", "text": json.dumps(w.draft_policy.definition)},
    ),
    "collections_case_contact": _case_operation(
        CollectionsPerm.LOG_CONTACT,
        {
            "channel": "sms",
            "party": "borrower",
            "contacted_at": "2026-10-16 12:30:00",
            "outcome": "no_answer",
        },
    ),
    "collections_case_promise": _case_operation(
        CollectionsPerm.RECORD_PROMISE, {"amount": "10.00", "promised_for": "2026-12-31"}
    ),
    "collections_case_time_zone": _case_operation(
        CollectionsPerm.SET_TIME_ZONE, {"time_zone": "Asia/Urumqi", "reason": "forged"}
    ),
    "collections_waiverproposal_propose": _case_operation(
        CollectionsPerm.PROPOSE_WAIVER, {"penalty": "0.01", "reason": "forged"}
    ),
    "collections_settlementproposal_propose": _case_operation(
        CollectionsPerm.PROPOSE_SETTLEMENT,
        {"amount": "10.00", "due_by": "2026-12-31", "reason": "forged"},
    ),
    "collections_recovery_post": Custom(
        (GET, POST),
        lambda w: [],
        _perm(Perm.POST_RECOVERY),
        lambda w: {
            "loan": w.objects[Recovery].loan.reference,
            "amount": "1.00",
            "value_date": CLOSED_UNTIL.isoformat(),
        },
    ),
    # Running a night: its permission, GET and POST alike; an empty POST shows the form again
    # (nothing is started, nothing queued).
    "lending_businessdayrun_run_night": Custom(
        (GET, POST), lambda w: [], _perm(Perm.RUN_CLOSE_OF_BUSINESS)
    ),
    # Exports (tests/exports has what each holds): an empty POST shows the form again.
    **{
        f"{label.replace('.', '_')}_export": Custom((GET, POST), lambda w: [], _exporter_of(label))
        for label in (
            "lending.loan",
            "lending.businessdayrun",
            "collections.case",
            "collections.casebyborrower",
        )
    },
    # Imports (imports.services decides; docs/imports.md, "Access").
    "imports_importrecord_start": Custom((GET,), lambda w: [], _may_import_some_kind),
    "imports_importrecord_upload": Custom(
        (GET, POST), lambda w: ["borrowers"], _perm(get_kind("borrowers").permission)
    ),  # an empty POST: the form again with its errors, nothing kept
    "imports_importrecord_template": Custom((GET,), lambda w: ["borrowers"], _every_staff(200)),
    "imports_importrecord_run": Custom(
        (GET, POST), lambda w: [w.upload.pk], _import_page, lambda w: {"sha256": w.upload.sha256}
    ),
    "imports_importrecord_errors": Custom((GET,), lambda w: [w.upload.pk], _import_page),
    # The portfolio dashboard's CSVs: whoever sees the dashboard (docs/dashboard.md).
    "portfolio_dashboard_csv": Custom(
        (GET,), lambda w: ["buckets"], _viewer_of("portfolio.dashboard")
    ),
    "auth_user_password_change": Custom(
        (GET, POST),
        lambda w: [w.victim.pk],
        _password,
        lambda w: {
            "usable_password": "true",
            "password1": "Forged-pass-1234",
            "password2": "Forged-pass-1234",
        },
    ),
}


def _app_index_rule(app_label: str):
    """An app's index opens when the user may see at least one of its registered models."""

    def rule(world, role, method):
        request, user = world.request(role), world.users[role]
        visible = any(
            model._meta.app_label == app_label
            and model_admin.has_module_permission(request)
            and any(model_admin.get_model_perms(request).values())
            and _table(user, model, "view", "add", "change", "delete")
            for model, model_admin in admin.site._registry.items()
        )
        return Expected(visible, refused=404)

    return rule


# The admin site's own pages: every staff user may open them; none depends on a role.
SITE_VIEWS: dict[tuple[str, str], Any] = {
    ("index", GET): _every_staff(200),
    # The System section's page (config/admin_site.py): open to every staff user, listing only
    # what each may see (empty for the business roles; tests/test_system_group.py).
    ("system_index", GET): _every_staff(200),
    ("login", GET): _every_staff(302),  # logged in already: on to the index
    ("logout", POST): _every_staff(200),  # the session row it deletes is rolled back
    ("password_change", GET): _every_staff(200),
    ("password_change", POST): _every_staff(200),  # empty: the form again, nothing changed
    ("password_change_done", GET): _every_staff(200),
    ("jsi18n", GET): _every_staff(200),
    # Without the app/model/field it completes, every request is refused (the borrower picker,
    # asked properly, is tests/risk/test_application_admin.py's).
    ("autocomplete", GET): lambda world, role, method: Expected(False),
    # No registered model has get_absolute_url: "view on site" finds nothing for anyone.
    ("view_on_site", GET): lambda world, role, method: Expected(False, refused=404),
}


def _site_args(world: World, name: str) -> list:
    if name == "view_on_site":
        return [ContentType.objects.get_for_model(Loan).pk, world.loan.pk]
    return []


# --------------------------------------------------------------------------- the cases


def _registry():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)


def _targets() -> list[tuple[str, str]]:
    """(target, method) for every door of the admin. Targets: "site:<name>",
    "site:app_list:<app_label>", "admin:<url name>", "action:<app.model>:<action>"."""
    targets = []
    for pattern in admin.site.get_urls():
        name = getattr(pattern, "name", None)
        if not isinstance(pattern, URLPattern) or name is None:
            continue  # the models' includes (below) and the catch-all (a 404 for everyone)
        if name == "app_list":
            for label in sorted({m._meta.app_label for m in admin.site._registry}):
                targets.append((f"site:app_list:{label}", GET))
            continue
        methods = [m for (n, m) in SITE_VIEWS if n == name] or [GET]
        targets += [(f"site:{name}", method) for method in methods]
    for model, model_admin in _registry():
        opts = model._meta
        info = f"{opts.app_label}_{opts.model_name}"
        for page in STANDARD:
            targets += [(f"admin:{info}_{page}", m) for m in STANDARD_METHODS[page]]
        for pattern in model_admin.get_urls():
            # Unnamed: Django's old "<id>/" address, a redirect to the change page.
            if pattern.name and pattern.name not in {f"{info}_{page}" for page in STANDARD}:
                custom = CUSTOM_VIEWS.get(pattern.name)
                methods = custom.methods if custom else (GET, POST)
                targets += [(f"admin:{pattern.name}", m) for m in methods]
        if model_admin.actions is not None:  # None: no actions at all (authtoken)
            for _func, name, _description in model_admin._get_base_actions():
                targets.append((f"action:{opts.label_lower}:{name}", POST))
    return targets


def _cases():
    for target, method in _targets():
        for role in ROLES:
            marks = []
            bug = KNOWN_BUGS.get((role, target, method))
            if bug:
                marks.append(pytest.mark.xfail(strict=True, reason=bug))
            yield pytest.param(role, target, method, marks=marks, id=f"{role}|{target}|{method}")


CASES = list(_cases())


def test_every_custom_admin_view_has_a_declared_rule():
    declared = set(CUSTOM_VIEWS)
    found = {t.removeprefix("admin:") for t, _ in _targets() if t.startswith("admin:")}
    standard = {
        f"{m._meta.app_label}_{m._meta.model_name}_{page}"
        for m in admin.site._registry
        for page in STANDARD
    }
    assert found - standard == declared


def test_the_matrix_covers_every_role_and_every_registered_admin():
    assert len(ROLES) == 7
    targets = {t for t, _ in _targets()}
    for model in admin.site._registry:
        assert f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist" in targets


def test_every_registered_model_has_a_row_to_open(world):
    missing = [m._meta.label for m in admin.site._registry if world.objects.get(m) is None]
    assert not missing, f"add a row of {missing} to _build_world (change/delete/history/actions)"


def _resolve(world: World, target: str, method: str):
    """(url, rule, body): the address, its rule `(world, role, method) -> Expected` and the
    body a POST sends."""
    kind, _, rest = target.partition(":")
    if kind == "site":
        if rest.startswith("app_list:"):
            label = rest.removeprefix("app_list:")
            return reverse("admin:app_list", args=[label]), _app_index_rule(label), {}
        rule = SITE_VIEWS.get((rest, method))
        assert rule is not None, f"declare the rule for the admin site's {rest!r} ({method})"
        return reverse(f"admin:{rest}", args=_site_args(world, rest)), rule, {}
    if kind == "action":
        label, _, name = rest.partition(":")
        model = apps.get_model(label)
        # A row the action would really work on: disbursing wants a loan not yet disbursed.
        obj = world.approved_loan if model is Loan else world.objects[model]
        body = {"action": name, ACTION_CHECKBOX_NAME: [obj.pk], "post": "yes"}
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        return url, lambda w, role, m: _action(w, role, model, name), body
    for model in admin.site._registry:
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        for page in STANDARD:
            if rest == f"{info}_{page}":
                args = []
                if page not in ("changelist", "add"):
                    obj = world.objects[model]
                    # The token admin addresses a token by its user's id.
                    args = [quote(obj.user_id if info == "authtoken_tokenproxy" else obj.pk)]
                body = {"post": "yes"} if page == "delete" else {}
                return (
                    reverse(f"admin:{rest}", args=args),
                    lambda w, role, m, model=model, page=page: _standard(w, role, model, page, m),
                    body,
                )
    custom = CUSTOM_VIEWS.get(rest)
    assert custom is not None, f"declare the rule for the custom admin view {rest!r}"
    return reverse(f"admin:{rest}", args=custom.args(world)), custom.rule, custom.body(world)


def _snapshot(models_in_detail) -> dict:
    """Every table's row count and highest id (one query), and every row of the models in
    detail: a refused POST must leave all of it as it was."""
    tables = [
        model
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.label_lower != "sessions.session"
    ]
    quote_name = connection.ops.quote_name
    sql = " UNION ALL ".join(
        f"SELECT %s, COUNT(*), CAST(MAX({quote_name(m._meta.pk.column)}) AS TEXT) "
        f"FROM {quote_name(m._meta.db_table)}"
        for m in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [m._meta.label_lower for m in tables])
        state = {label: (rows, top) for label, rows, top in cursor.fetchall()}
        for model in models_in_detail:  # raw rows: nothing decrypted, nothing converted
            table, pk = quote_name(model._meta.db_table), quote_name(model._meta.pk.column)
            cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")
            state[model._meta.label_lower] = cursor.fetchall()
    return state


def _details(target: str) -> set:
    """The models whose rows a refused POST to `target` must leave exactly as they were."""
    detail = {Loan, Transaction}
    kind, _, rest = target.partition(":")
    if kind == "action":
        model = apps.get_model(rest.partition(":")[0])
        detail.add(model._meta.concrete_model)
    for model in admin.site._registry:
        if rest.startswith(f"{model._meta.app_label}_{model._meta.model_name}_"):
            detail.add(model._meta.concrete_model)
    return detail


@pytest.mark.parametrize(("role", "target", "method"), CASES)
def test_permission_matrix(world, role, target, method):
    url, rule, body = _resolve(world, target, method)
    expected = rule(world, role, method)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    refused_post = method == POST and not expected.allowed
    before = _snapshot(_details(target)) if refused_post else None
    audit_before = AuditEvent.objects.count()

    response = client.get(url) if method == GET else client.post(url, body)

    status = response.status_code
    assert status < 500, f"{role} {method} {url}: {status}"
    if refused_post:
        # Nothing written, whatever the answer: checked first, so a wrong status still shows it.
        assert _snapshot(_details(target)) == before, f"{role} {method} {url} wrote something"
    if not expected.allowed:
        assert status == expected.refused, f"{role} {method} {url}: {status}, not refused"
        if expected.action_not_offered and status == 302:
            sent = [str(m) for m in get_messages(response.wsgi_request)]
            assert "No action selected." in sent, sent
    else:
        assert status in expected.ok, f"{role} {method} {url}: {status}, expected {expected.ok}"
        if expected.audited:
            assert AuditEvent.objects.count() == audit_before + 1
