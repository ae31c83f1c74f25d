"""The permissions backend (lending/auth_backend.py) reads, in its own SQL, exactly the
permissions Django's ModelBackend would: a user's own, their groups', all of them for a
superuser, none for an inactive user; and a change shows on the user's next request."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User

from lending import roles
from lending.access import Perm, may

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)  # a new request: no permissions cached


def django_reads(user) -> set[str]:
    return ModelBackend().get_all_permissions(fresh(user))


def test_own_group_and_overlapping_permissions_as_django_reads_them(role_user):
    user = role_user(roles.FINANCE)
    own = Permission.objects.get(codename="change_loanproduct")
    shared = Permission.objects.get(codename="post_repayment")  # the role holds it too
    user.user_permissions.add(own, shared)
    user.groups.add(Group.objects.get(name=roles.AUDITOR))
    read = fresh(user).get_all_permissions()
    assert read == django_reads(user)
    assert {"lending.change_loanproduct", str(Perm.POST_REPAYMENT)} <= read


@pytest.mark.parametrize(
    "fields",
    [{"is_superuser": True}, {"is_active": False}, {}],
    ids=["superuser", "inactive", "none"],
)
def test_superuser_inactive_and_roleless_users(django_user_model, fields):
    user = django_user_model.objects.create_user(username="someone", **fields)
    read = fresh(user).get_all_permissions()
    assert read == django_reads(user)
    assert len(read) == (Permission.objects.count() if fields.get("is_superuser") else 0)


def test_a_permission_taken_from_the_role_is_refused_on_the_next_request(role_user):
    user = role_user(roles.FINANCE)
    assert may(fresh(user), Perm.POST_REPAYMENT)
    group = Group.objects.get(name=roles.FINANCE)
    group.permissions.remove(Permission.objects.get(codename="post_repayment"))
    assert not may(fresh(user), Perm.POST_REPAYMENT)
