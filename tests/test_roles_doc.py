"""docs/roles.md shows exactly the role table lending/roles.py defines, every permission the
code asks for exists, and the groups hold exactly what the table gives them."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission

from lending.access import Perm
from lending.roles import ROLE_PERMISSIONS, ROLES, role_codenames, roles_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "roles.md"
TABLE = re.compile(r"<!-- role table begin[^\n]*\n(.*?)<!-- role table end -->", re.S)


def test_the_doc_shows_exactly_the_generated_role_table():
    found = TABLE.findall(DOC.read_text(encoding="utf-8"))
    assert len(found) == 1, "docs/roles.md needs one table between its begin/end markers"
    assert found[0] == roles_markdown(), (
        "docs/roles.md is out of date: regenerate its table (the command is under the table)"
    )


def test_the_table_has_a_column_per_role_and_a_rule_per_role():
    header = roles_markdown().splitlines()[0]
    assert header == "| Model | " + " | ".join(ROLES) + " |"
    assert set(ROLE_PERMISSIONS) == set(ROLES)


@pytest.mark.django_db
def test_every_perm_exists_as_a_permission_row():
    rows = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }
    missing = sorted(str(perm) for perm in Perm if str(perm) not in rows)
    assert not missing, f"no Permission row for {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_group_holds_exactly_its_role_table_permissions(role):
    group = Group.objects.get(name=role)
    held = {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }
    assert held == role_codenames(role)
