"""Who reaches imports, and whose imports they see and run (docs/imports.md, "Access").

Every role that may import some kind finds an "Imports" entry on the admin index, leading to
the record list and from it to the start page; it sees its own imports there, everyone's only
with imports.view_all_imports (auditor, administrator). Another person's import is "not found"
on every page and door; only its uploader runs it — seeing everyone's imports is a read grant.
"""

from datetime import date

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from imports.models import ImportRecord, ImportState
from imports.registry import registered_kinds
from imports.services import (
    import_confirm,
    import_dry_run,
    import_enqueue,
    import_upload,
    visible_imports,
)
from lending import roles
from lending.access import SYSTEM, may
from lending.errors import LendingError, LendingErrorCode
from lending.identity import generate_national_id
from lending.models import Borrower
from tests.imports.helpers import csv_bytes

pytestmark = pytest.mark.django_db
ID1 = generate_national_id(date_of_birth=date(1990, 3, 7), sex="M", sequence=1)
ROWS = [["full_name", "national_id", "mobile"], ["张三", ID1, "13800138000"]]
SEE_ALL = {roles.AUDITOR, roles.ADMINISTRATOR}


def importer_roles() -> set[str]:
    """The roles the role table lets import at least one kind."""
    kinds = registered_kinds()
    return {
        role
        for role in roles.ROLES
        if any(kind.permission in roles.role_codenames(role) for kind in kinds)
    }


@pytest.fixture
def others_upload(role_user):
    """A borrowers file another credit officer uploaded and dry-ran: awaiting its confirm."""
    officer = role_user(roles.CREDIT_OFFICER, username="uploader")
    record = import_upload(
        kind="borrowers", file_name="b.csv", data=csv_bytes(ROWS), acting_user=officer
    )
    import_dry_run(record_id=record.pk, acting_user=officer)
    record.refresh_from_db()
    assert record.state == ImportState.CHECKED
    return record


def test_who_may_import_is_who_sees_the_imports_list():
    """Every role that may import some kind holds view_importrecord (its own imports), else
    its imports would be reachable by URL only; view_all_imports goes with view."""
    assert importer_roles() == {
        roles.CREDIT_OFFICER,
        roles.COLLECTOR,
        roles.COLLECTIONS_MANAGER,
        roles.FINANCE,
        roles.ADMINISTRATOR,
    }
    for role in roles.ROLES:
        held = roles.role_codenames(role)
        sees_list = "imports.view_importrecord" in held
        assert sees_list == (role in importer_roles() or role in SEE_ALL), role
        assert ("imports.view_all_imports" in held) == (role in SEE_ALL), role


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_importer_finds_imports_on_the_index_and_reaches_the_start_page(
    client, role_user, role
):
    user = role_user(role)
    client.force_login(user)
    changelist = reverse("admin:imports_importrecord_changelist")
    start = reverse("admin:imports_importrecord_start")
    index = client.get(reverse("admin:index")).content.decode()
    importer = role in importer_roles()
    assert (f'href="{changelist}"' in index) is (importer or role in SEE_ALL)
    listing = client.get(changelist)
    if importer or role in SEE_ALL:
        assert listing.status_code == 200
        assert (f'href="{start}"' in listing.content.decode()) is importer  # "New import"
    else:
        assert listing.status_code == 403
    page = client.get(start)
    assert page.status_code == (200 if importer else 403)
    if importer:  # the kinds on offer are exactly the ones the user may import
        offered = {kind.name for kind in page.context["kinds"]}
        assert offered == {k.name for k in registered_kinds() if may(user, k.permission)}


@pytest.mark.parametrize("role", roles.ROLES)
def test_another_person_s_import_is_seen_only_with_view_all_and_run_by_nobody(
    client, role_user, others_upload, role
):
    """Each role, admin and API, at someone else's dry-run upload: the list, its pages, its
    error file and a forged confirm. Nothing is ever written."""
    user = role_user(role)
    client.force_login(user)
    record = others_upload
    sees = role in SEE_ALL
    run = reverse("admin:imports_importrecord_run", args=[record.pk])
    change = reverse("admin:imports_importrecord_change", args=[record.pk])
    assert client.get(run).status_code == (200 if sees else 404)
    changed = client.get(change).status_code
    assert changed == (200 if sees else 404 if role in importer_roles() else 403)
    listing = client.get(reverse("admin:imports_importrecord_changelist"))
    if listing.status_code == 200:
        assert (record.file_name in listing.content.decode()) is sees
    # The confirm, forged: not found unless seen; seen, still refused (not the uploader).
    forged = client.post(run, {"sha256": record.sha256})
    assert forged.status_code == (403 if sees else 404)
    api = APIClient()
    api.force_authenticate(user)
    assert api.get(f"/api/v1/imports/{record.pk}/").status_code == (200 if sees else 404)
    answer = api.post(f"/api/v1/imports/{record.pk}/confirm/", {"sha256": record.sha256})
    assert answer.status_code == (403 if sees else 404)
    record.refresh_from_db()
    assert (record.state, record.written) == (ImportState.CHECKED, False)
    assert not Borrower.objects.exists()


def test_the_uploader_sees_and_runs_their_own(client, role_user):
    officer = role_user(roles.CREDIT_OFFICER)
    client.force_login(officer)
    record = import_upload(
        kind="borrowers", file_name="mine.csv", data=csv_bytes(ROWS), acting_user=officer
    )
    import_dry_run(record_id=record.pk, acting_user=officer)
    listing = client.get(reverse("admin:imports_importrecord_changelist")).content.decode()
    assert "mine.csv" in listing
    run = reverse("admin:imports_importrecord_run", args=[record.pk])
    assert "sha256" in client.get(run).content.decode()  # the confirm form is offered
    client.post(run, {"sha256": record.sha256})
    record.refresh_from_db()
    assert record.written and Borrower.objects.count() == 1


@pytest.mark.parametrize("role", sorted(SEE_ALL))
def test_seeing_everyone_s_imports_runs_none_of_them_in_the_service(role_user, others_upload, role):
    """The rule is the service's, so the command, the API and a Celery task obey it too."""
    user = role_user(role)
    record = others_upload
    for run in (
        lambda: import_confirm(record_id=record.pk, acting_user=user, sha256=record.sha256),
        lambda: import_dry_run(record_id=record.pk, acting_user=user),
        lambda: import_enqueue(
            record_id=record.pk, acting_user=user, dry_run=False, valid_rows_only=True
        ),
    ):
        with pytest.raises(LendingError) as refused:
            run()
        assert refused.value.code == LendingErrorCode.PERMISSION_DENIED
    record.refresh_from_db()
    assert (record.state, record.valid_rows_only, record.run_by_id) == (
        ImportState.CHECKED,
        False,
        record.created_by_id,
    )


def test_an_unseen_import_is_not_found_in_the_service(role_user, others_upload):
    stranger = role_user(roles.CREDIT_OFFICER, username="stranger")
    for run in (import_dry_run, import_confirm):
        with pytest.raises(LendingError) as refused:
            run(record_id=others_upload.pk, acting_user=stranger)
        assert refused.value.code == LendingErrorCode.NOT_FOUND
    for forged in ("../1", "-1", "9" * 40, ""):
        with pytest.raises(LendingError) as refused:
            import_dry_run(record_id=forged, acting_user=stranger)
        assert refused.value.code == LendingErrorCode.NOT_FOUND


def test_an_uploader_who_lost_the_permission_no_longer_runs_their_upload(role_user, others_upload):
    uploader = others_upload.created_by
    uploader.groups.clear()
    uploader = type(uploader).objects.get(pk=uploader.pk)  # no cached permissions
    with pytest.raises(LendingError) as refused:
        import_confirm(record_id=others_upload.pk, acting_user=uploader)
    assert refused.value.code == LendingErrorCode.PERMISSION_DENIED
    assert visible_imports(ImportRecord.objects.all(), uploader).count() == 1  # still theirs
    assert not Borrower.objects.exists()


def test_system_sees_everything_and_nobody_sees_for_an_anonymous_door(others_upload):
    assert visible_imports(ImportRecord.objects.all(), SYSTEM).count() == 1
    assert not visible_imports(ImportRecord.objects.all(), None).exists()
