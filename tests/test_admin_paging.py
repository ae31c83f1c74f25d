"""The bounded-count paginator for big admin lists: exact counts and pages while the list is
short, a count that stops at its limit instead of reading the whole table."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lending.admin.paging import BoundedCountPaginator


class SmallLimit(BoundedCountPaginator):
    count_limit = 3


@pytest.fixture
def users(db):
    return [User.objects.create_user(username=f"u{i}") for i in range(7)]


def test_a_list_under_the_limit_is_counted_exactly_and_paged_as_usual(users):
    paginator = BoundedCountPaginator(User.objects.order_by("username"), 3)
    assert paginator.count == 7
    assert paginator.num_pages == 3
    assert [u.username for u in paginator.page(3).object_list] == ["u6"]


def test_the_count_reads_no_more_rows_than_the_limit(users):
    paginator = BoundedCountPaginator(User.objects.order_by("username"), 3)
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 7
    assert len(queries) == 1
    assert "LIMIT" in queries[0]["sql"].upper()


def test_past_the_limit_the_count_is_never_below_the_limit_and_the_pages_stay_exact(users):
    paginator = SmallLimit(User.objects.order_by("username"), 3)
    # PostgreSQL answers the planner's estimate here; other databases the exact count.
    assert paginator.count >= 4
    assert [u.username for u in paginator.page(2).object_list] == ["u3", "u4", "u5"]


@pytest.mark.django_db
def test_postgresql_compiles_no_query_just_in_time(postgres):
    # JIT compiled the work list's plan for 3 s (config/settings.py): off for the app's
    # connections unless DATABASE_JIT asks for it.
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@pytest.mark.django_db
def test_a_big_list_s_row_checkbox_is_django_s_own_element(users):
    from django.contrib import admin
    from django.utils import translation

    from lending.admin.paging import BigListMixin
    from lending.models import AuditEvent

    class Plain(admin.ModelAdmin):
        pass

    class Big(BigListMixin, admin.ModelAdmin):
        pass

    event = AuditEvent.objects.create(action="t", object_type="test", object_id="1")
    for language in ("en", "zh-hans"):
        with translation.override(language):
            site = admin.AdminSite()
            expected = Plain(AuditEvent, site).action_checkbox(event)
            assert Big(AuditEvent, site).action_checkbox(event) == expected
