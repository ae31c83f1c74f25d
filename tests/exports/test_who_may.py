"""Who may export what (docs/exports.md): each kind needs the view permission of what it holds,
so a role that cannot read the records cannot take them away either. Each role asks every list
for its Export page and forges the export: refused ones get 403, no button, no "export selected"
action, no file and no audit event. (An empty book: an allowed export is a file of headers.)"""

import pytest
from django.urls import reverse

from debt_collection.exports import CaseByBorrowerExport, CaseExport
from lending import roles
from lending.close_of_business.exports import RunExport
from lending.exports import LoanExport
from lending.models import AuditEvent
from tests.exports.helpers import export_url, take

pytestmark = pytest.mark.django_db

EVERYONE = set(roles.ROLES)
NIGHT_READERS = {roles.RISK_ANALYST, roles.FINANCE, roles.AUDITOR, roles.ADMINISTRATOR}
CASE_READERS = {
    roles.COLLECTOR,
    roles.COLLECTIONS_MANAGER,
    roles.FINANCE,
    roles.AUDITOR,
    roles.ADMINISTRATOR,
}
# list admin -> (a kind it offers, the roles that may export it), written out by hand: the
# table docs/exports.md states, checked against what the role table really grants.
MAY = {
    "lending_loan": (LoanExport, EVERYONE),
    "lending_businessdayrun": (RunExport, NIGHT_READERS),
    "collections_case": (CaseExport, CASE_READERS),
    "collections_casebyborrower": (CaseByBorrowerExport, CASE_READERS),
}
ACTIONS = {"lending_loan", "lending_businessdayrun", "collections_case"}  # the others: no actions


@pytest.mark.parametrize("role", roles.ROLES)
@pytest.mark.parametrize("admin_name", sorted(MAY))
def test_each_role_exports_what_it_may_read_and_is_refused_the_rest(
    role_user, login, role, admin_name
):
    kind, allowed_roles = MAY[admin_name]
    client = login(role_user(role, username=f"who-{role.replace(' ', '-')}"))
    allowed = role in allowed_roles
    changelist = client.get(reverse(f"admin:{admin_name}_changelist"))
    if changelist.status_code == 200:
        page = changelist.content.decode()
        assert (export_url(admin_name) in page) is allowed  # the button
        if admin_name in ACTIONS:  # the action (the list is empty: asked of the list's admin)
            offered = changelist.context["cl"].model_admin.get_actions(changelist.wsgi_request)
            assert ("export_admin_action" in offered) is allowed
    else:
        assert changelist.status_code == 403 and not allowed

    assert client.get(export_url(admin_name)).status_code == (200 if allowed else 403)
    response = take(client, admin_name, kind)
    if allowed:
        assert response.status_code == 200 and response.has_header("Content-Disposition")
        assert AuditEvent.objects.filter(action=f"export.{kind.kind}").count() == 1
    else:
        assert response.status_code == 403
        assert not AuditEvent.objects.filter(action__startswith="export.").exists()


def test_a_staff_user_without_a_role_exports_nothing(staff_user, login):
    client = login(staff_user)
    for admin_name, (kind, _roles) in MAY.items():
        assert client.get(export_url(admin_name)).status_code == 403
        assert take(client, admin_name, kind).status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


def test_the_hand_written_table_is_what_the_role_table_grants():
    for kind, allowed_roles in MAY.values():
        granted = {r for r in roles.ROLES if kind.permission in roles.role_codenames(r)}
        assert granted == allowed_roles, kind.kind
