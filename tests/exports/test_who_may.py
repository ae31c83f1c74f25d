"""Who may export what (docs/exports.md): bulk export is a grant of its own (`export_loan`,
`export_overdue`, `export_case`, `export_businessdayrun`), on top of reading the records. Each
role asks every list for its Export page, sees exactly the kinds it may take, takes each of
them, and forges the rest: refused ones get 403, no button, no "export selected" action, no
file and no audit event. The export itself refuses too, whichever door calls it. (An empty book:
an allowed export is a file of headers.)"""

import pytest
from django.urls import reverse

from debt_collection.exports import CaseByBorrowerExport, CaseExport
from debt_collection.models import Case, CaseByBorrower
from lending import roles
from lending.close_of_business.exports import RunExport, RunStepExport
from lending.errors import LendingError, LendingErrorCode
from lending.exports import LoanExport, OverdueExport, ScheduleExport
from lending.models import AuditEvent, BusinessDayRun, Loan
from tests.exports.helpers import export_url, take

pytestmark = pytest.mark.django_db

BOOK = {roles.FINANCE, roles.AUDITOR, roles.ADMINISTRATOR}
OVERDUE = {roles.COLLECTIONS_MANAGER, *BOOK}
WORK_LIST = {roles.COLLECTOR, roles.COLLECTIONS_MANAGER, roles.AUDITOR, roles.ADMINISTRATOR}
NIGHTS = {roles.RISK_ANALYST, roles.FINANCE, roles.AUDITOR, roles.ADMINISTRATOR}
# kind -> the roles that may take it, written out by hand: the table docs/exports.md states,
# checked against what the role table really grants. Nobody else: a credit officer reads the
# book and a collector the loan list, neither takes it away.
MAY = {
    LoanExport: BOOK,
    ScheduleExport: BOOK,
    OverdueExport: OVERDUE,
    CaseExport: WORK_LIST,
    CaseByBorrowerExport: WORK_LIST,
    RunExport: NIGHTS,
    RunStepExport: NIGHTS,
}
# list admin -> the kinds it offers, in its order, and the queryset a door would export.
LISTS = {
    "lending_loan": ((LoanExport, ScheduleExport, OverdueExport), Loan),
    "lending_businessdayrun": ((RunExport, RunStepExport), BusinessDayRun),
    "collections_case": ((CaseExport,), Case),
    "collections_casebyborrower": ((CaseByBorrowerExport,), CaseByBorrower),
}
ACTIONS = {"lending_loan", "lending_businessdayrun", "collections_case"}  # the others: no actions


def exported():
    return AuditEvent.objects.filter(action__startswith="export.")


@pytest.mark.parametrize("role", roles.ROLES)
@pytest.mark.parametrize("admin_name", sorted(LISTS))
def test_each_role_is_offered_and_takes_exactly_the_kinds_granted_to_it(
    role_user, login, role, admin_name
):
    kinds, _model = LISTS[admin_name]
    allowed = [kind for kind in kinds if role in MAY[kind]]
    client = login(role_user(role, username=f"who-{role.replace(' ', '-')}"))
    changelist = client.get(reverse(f"admin:{admin_name}_changelist"))
    if changelist.status_code == 200:
        page = changelist.content.decode()
        assert (export_url(admin_name) in page) is bool(allowed)  # the button
        if admin_name in ACTIONS:  # the action (the list is empty: asked of the list's admin)
            offered = changelist.context["cl"].model_admin.get_actions(changelist.wsgi_request)
            assert ("export_admin_action" in offered) is bool(allowed)
    else:
        assert changelist.status_code == 403 and not allowed

    page = client.get(export_url(admin_name))
    assert page.status_code == (200 if allowed else 403)
    if allowed:  # the kinds on the form: exactly the granted ones, by their names
        choices = [str(label) for _value, label in page.context["form"].fields["resource"].choices]
        assert choices == [str(kind.display_name) for kind in allowed]
    for index, kind in enumerate(allowed):
        response = take(client, admin_name, kind, index=index)
        assert response.status_code == 200 and response.has_header("Content-Disposition")
        assert exported().filter(action=f"export.{kind.kind}", actor__isnull=False).exists()
    if not allowed:  # forged: the form as a holder would post it
        assert take(client, admin_name, kinds[0]).status_code == 403
        assert not exported().exists()


@pytest.mark.parametrize("role", roles.ROLES)
@pytest.mark.parametrize("kind", list(MAY), ids=lambda kind: kind.kind)
def test_the_export_itself_refuses_a_role_without_the_grant(role_user, role, kind):
    """Whichever door calls it (a command, the API, a forged admin form), the export checks."""
    user = role_user(role)
    model = next(model for kinds, model in LISTS.values() if kind in kinds)
    export = kind(acting_user=user)
    if role in MAY[kind]:
        export.export(model.objects.all())
        assert exported().filter(action=f"export.{kind.kind}").count() == 1
    else:
        with pytest.raises(LendingError) as refused:
            export.export(model.objects.all())
        assert refused.value.code == LendingErrorCode.PERMISSION_DENIED
        assert not exported().exists()


def test_a_staff_user_without_a_role_exports_nothing(staff_user, login):
    client = login(staff_user)
    for admin_name, (kinds, _model) in LISTS.items():
        assert client.get(export_url(admin_name)).status_code == 403
        assert take(client, admin_name, kinds[0]).status_code == 403
    assert not exported().exists()


def test_the_hand_written_table_is_what_the_role_table_grants():
    for kind, allowed_roles in MAY.items():
        granted = {r for r in roles.ROLES if kind.permission in roles.role_codenames(r)}
        assert granted == allowed_roles, kind.kind


def test_whoever_may_export_a_kind_may_read_what_it_holds():
    """An export grant never reaches past reading: the table gives it with the view."""
    for kind, allowed_roles in MAY.items():
        for role in allowed_roles:
            assert str(kind.reads) in roles.role_codenames(role), (role, kind.kind)


def test_reading_alone_is_no_export(role_user):
    """The collector reads the loan list and holds view_pii to call borrowers: the loan book,
    national IDs and all, is still not theirs to take away."""
    collector = role_user(roles.COLLECTOR)
    assert collector.has_perm("lending.view_loan") and collector.has_perm("lending.view_pii")
    with pytest.raises(LendingError) as refused:
        LoanExport(acting_user=collector, unmask_pii=True).export(Loan.objects.all())
    assert refused.value.code == LendingErrorCode.PERMISSION_DENIED
    assert not exported().exists()
