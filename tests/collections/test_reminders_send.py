"""Sending the outbox: only inside the active policy's hours in the borrower's time zone, marked
sent with the text it went out with; the shipped templates in both languages state the amount,
the due date, the penalty and its rate, the cap and how to pay."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

from debt_collection import notices
from debt_collection.models import (
    Case,
    HoldKind,
    Reminder,
    ReminderKind,
    ReminderState,
    ReminderTemplate,
)
from debt_collection.services.contacts import contact_hold_place
from debt_collection.services.reminders import (
    reminder_render,
    reminder_template_save,
    reminder_write,
    reminders_send,
)
from lending.access import SYSTEM
from lending.errors import LendingError
from tests.collections.helpers import START, local
from tests.lending.loan_helpers import active_loan
from tests.lending.test_close_of_business import close

pytestmark = pytest.mark.django_db

DUE = date(2026, 9, 15)
NEW_YORK = ZoneInfo("America/New_York")


def due_today_reminder(**loan):
    """A loan whose first installment falls due on DUE, and its "due today" reminder."""
    active_loan(start=START, **loan)
    with transaction.atomic():
        reminder_write(business_date=DUE - timedelta(days=1))
    return Reminder.objects.get(kind=ReminderKind.DUE_TODAY)


def send_at(moment):
    return reminders_send(acting_user=SYSTEM, now=moment)


@pytest.mark.parametrize(
    "moment, state",
    [
        (local(2026, 9, 15, 7, 59, 59), ReminderState.PENDING),
        (local(2026, 9, 15, 8, 0, 0), ReminderState.SENT),
        (local(2026, 9, 15, 21, 59, 59), ReminderState.SENT),
        (local(2026, 9, 15, 22, 0, 0), ReminderState.PENDING),
        (local(2026, 9, 14, 12, 0, 0), ReminderState.PENDING),  # its day has not come
        (local(2026, 9, 16, 12, 0, 0), ReminderState.EXPIRED),  # its day has passed
    ],
)
def test_sent_only_inside_the_hours_on_its_day(moment, state):
    reminder = due_today_reminder()
    send_at(moment)
    reminder.refresh_from_db()
    assert reminder.state == state
    if state == ReminderState.SENT:
        assert reminder.sent_at == moment
        assert reminder.sender == "debt_collection.senders.LogSender"
        assert reminder.loan.reference in reminder.body
        assert reminder.attempts == 1


def test_the_hours_are_the_borrowers_own():
    late = active_loan(start=START)
    close(DUE + timedelta(days=1))
    Case.objects.filter(loan=late).update(time_zone="America/New_York")
    with transaction.atomic():
        reminder_write(business_date=DUE + timedelta(days=6))
    reminder = Reminder.objects.get(kind=ReminderKind.OVERDUE_7)
    # 21:59:59 in New York is 09:59:59 the next morning in Shanghai: the borrower's clock wins.
    held = datetime(2026, 9, 22, 22, 0, 0, tzinfo=NEW_YORK)
    allowed = datetime(2026, 9, 22, 21, 59, 59, tzinfo=NEW_YORK)
    assert send_at(held) == {"held": 1}
    assert send_at(allowed) == {"sent": 1}
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.SENT
    assert send_at(allowed) == {}  # nothing sent twice


def test_a_paid_installment_or_a_hold_cancels_instead_of_sending(manager):
    reminder = due_today_reminder()
    contact_hold_place(
        borrower_id=reminder.borrower_id,
        kind=HoldKind.DO_NOT_CONTACT,
        reason="asked in writing",
        acting_user=manager,
    )
    assert send_at(local(2026, 9, 15, 10, 0)) == {ReminderState.CANCELLED: 1}
    reminder.refresh_from_db()
    assert reminder.last_error == "the borrower is under a contact hold"


def test_a_failing_sender_is_retried_then_failed(settings):
    settings.COLLECTIONS_REMINDER_SENDER = "debt_collection.senders.EmailSender"
    settings.COLLECTIONS_REMINDER_EMAIL_DOMAIN = "sms.example.com"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reminder = due_today_reminder()
    assert send_at(local(2026, 9, 15, 9, 0)) == {ReminderState.SENT: 1}
    [message] = mail.outbox
    assert message.to == [f"{reminder.borrower.mobile}@sms.example.com"]
    assert reminder.loan.reference in message.subject

    settings.EMAIL_BACKEND = "tests.collections.test_reminders_send.BrokenBackend"
    Reminder.objects.filter(pk=reminder.pk).update(state=ReminderState.PENDING, attempts=0)
    for _ in range(4):
        assert send_at(local(2026, 9, 15, 9, 0)) == {"retry": 1}
    assert send_at(local(2026, 9, 15, 9, 0)) == {ReminderState.FAILED: 1}
    reminder.refresh_from_db()
    assert reminder.attempts == 5 and "gateway down" in reminder.last_error


class BrokenBackend:
    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionError("gateway down")


def test_the_command_sends(capsys):
    due_today_reminder()
    call_command("send_reminders")  # now: long after its day
    assert "expired 1" in capsys.readouterr().out


def test_only_a_user_with_the_permission_sends(collector):
    with pytest.raises(LendingError) as refused:
        reminders_send(acting_user=collector)
    assert refused.value.code == "permission_denied"


FACTS = notices.Facts(
    reference="LN000123",
    amount_due=Decimal("1234.50"),
    currency="CNY",
    due_date=date(2026, 9, 15),
    penalty_rate=Decimal("0.182500"),
    penalty_from=date(2026, 9, 15),
    grace_until=date(2026, 9, 18),
    cost_cap_rate=Decimal("0.240000"),
    send_on=date(2026, 9, 22),
)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("kind", ReminderKind.values)
def test_the_shipped_templates_state_what_the_borrower_must_know(kind, language):
    template = ReminderTemplate.objects.get(kind=kind, language=language)
    body = notices.render(template.body, FACTS)
    subject = notices.render(template.subject, FACTS)
    assert "1,234.50" in subject and "1,234.50" in body
    for text in ("2026-09-15", "18.25%", "24%", "2026-09-18", "LN000123"):
        assert text in body
    assert ("还款方式" if language == "zh-hans" else "How to pay") in body
    if kind == ReminderKind.OVERDUE_7:
        assert ("逾期7天" if language == "zh-hans" else "7 days overdue") in body


def test_the_reminder_renders_in_its_language_with_its_figures():
    reminder = due_today_reminder(rate="0.16", penalty_rate_value=Decimal("1.5"))
    subject, body = reminder_render(reminder)
    assert f"{reminder.amount_due:,.2f}" in subject
    assert "年化24%" in body  # 16 % × 1.5
    assert "综合成本上限" in body


def test_a_manager_edits_a_template_that_must_still_state_the_facts(manager, collector):
    body = "Pay {{ amount_due }} by {{ due_date }}."
    with pytest.raises(LendingError) as missing:
        reminder_template_save(
            acting_user=manager, kind="due_today", language="en", subject="Due", body=body
        )
    assert missing.value.field == "body" and "penalty_rate" in missing.value.message
    with pytest.raises(LendingError) as broken:
        reminder_template_save(
            acting_user=manager, kind="due_today", language="en", subject="{% if %}", body=body
        )
    assert broken.value.field == "subject"
    with pytest.raises(LendingError) as refused:
        reminder_template_save(
            acting_user=collector, kind="due_today", language="en", subject="Due", body=body
        )
    assert refused.value.code == "permission_denied"
    full = body + " {{ penalty_rate }}% from {{ penalty_from }}, cap {{ cost_cap_rate }}%."
    saved = reminder_template_save(
        acting_user=manager, kind="due_today", language="en", subject="Due", body=full
    )
    assert notices.render(saved.body, FACTS).endswith("cap 24%.")


# A broken template, what is wrong in English, and the same in Chinese.
SYNTAX_ERRORS = [
    (
        "{% if x %}Pay",
        "line 1: {% if x %} is not closed; add {% endif %}",
        "第 1 行：{% if x %} 没有结束，请加上 {% endif %}",
    ),
    (
        "Pay\n{% endif %}",
        "line 2: {% endif %} closes no open tag",
        "第 2 行：{% endif %} 前面没有需要它结束的标签",
    ),
    (
        "{% if a %}{% endfor %}",
        "line 1: {% endfor %} found where {% endif %} was expected",
        "第 1 行：此处应为 {% endif %}，却是 {% endfor %}",
    ),
    (
        "{% pay %}",
        "line 1: {% pay %} is not a tag a reminder template can use",
        "第 1 行：{% pay %} 不是提醒模板可用的标签",
    ),
    (
        "{{ amount_due|money }}",
        "line 1: {{ amount_due|money }} uses the filter “money”, which does not exist",
        "第 1 行：{{ amount_due|money }} 使用的过滤器“money”不存在",
    ),
    (
        "{{ amount_due|add }}",
        "line 1: {{ amount_due|add }} gives the filter “add” the wrong number of arguments",
        "第 1 行：{{ amount_due|add }} 给过滤器“add”的参数个数不对",
    ),
    ("{{ }}", "line 1: {{ }} is empty", "第 1 行：{{ }} 是空的"),
    (
        "{{ _secret }}",
        "line 1: {{ _secret }}: a variable may not begin with an underscore",
        "第 1 行：{{ _secret }}：变量名不能以下划线开头",
    ),
    (
        "{{ due date }}",
        "line 1: {{ due date }}: “date” cannot be read",
        "第 1 行：{{ due date }}：无法识别“date”",
    ),
    ("{% if %}", "line 1: {% if %} is incomplete", "第 1 行：{% if %} 不完整"),
    (
        "{% load humanize %}",
        "line 1: {% load humanize %}: a reminder template cannot load tag libraries",
        "第 1 行：{% load humanize %}：提醒模板不能加载标签库",
    ),
    (
        "{% block a %}{% block a %}{% endblock %}{% endblock %}",
        "line 1: {% block a %} cannot be read; check its spelling and its quotes",
        "第 1 行：无法识别 {% block a %}，请检查拼写和引号",
    ),
]


@pytest.mark.parametrize(("text", "english", "chinese"), SYNTAX_ERRORS)
def test_a_template_syntax_error_names_the_problem_in_the_readers_language(text, english, chinese):
    with translation.override("en"):
        assert notices.syntax_error(text) == english
    with translation.override("zh-hans"):
        assert notices.syntax_error(text) == chinese
    assert notices.syntax_error("Pay {{ amount_due }} by {{ due_date|default:'-' }}") is None


def test_a_broken_template_is_refused_in_the_managers_language(client, manager):
    body = "Pay {{ amount_due }} by {{ due_date }}, {{ penalty_rate }} {{ penalty_from }} "
    body += "{{ cost_cap_rate }}{% if days_overdue %}"
    with translation.override("zh-hans"), pytest.raises(LendingError) as refused:
        reminder_template_save(
            acting_user=manager, kind="due_today", language="en", subject="Due", body=body
        )
    assert refused.value.field == "body" and refused.value.code == "invalid"
    assert refused.value.message == "第 1 行：{% if days_overdue %} 没有结束，请加上 {% endif %}"
    template = ReminderTemplate.objects.get(kind="due_today", language="en")
    client.force_login(manager)
    page = client.post(
        f"/admin/collections/remindertemplate/{template.pk}/change/",
        {"subject": "Due", "body": body},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert page.status_code == 200
    assert "没有结束，请加上 {% endif %}" in page.text
    template.refresh_from_db()
    assert "{% if days_overdue %}" not in template.body


def test_the_outbox_and_templates_in_the_admin(client, manager, collector):
    reminder = due_today_reminder()
    client.force_login(manager)
    page = client.get("/admin/collections/reminder/?state__exact=pending&kind__exact=due_today")
    assert page.status_code == 200 and reminder.loan.reference in page.text
    detail = client.get(f"/admin/collections/reminder/{reminder.pk}/change/")
    assert "还款方式" in detail.text  # the preview of what it would say
    template = ReminderTemplate.objects.get(kind="due_today", language="en")
    url = f"/admin/collections/remindertemplate/{template.pk}/change/"
    refused = client.post(url, {"subject": "Due", "body": "Pay {{ amount_due }}"})
    assert refused.status_code == 200 and "penalty_rate" in refused.text
    body = template.body.replace("How to pay", "Ways to pay")
    assert client.post(url, {"subject": template.subject, "body": body}).status_code == 302
    template.refresh_from_db()
    assert "Ways to pay" in template.body and template.updated_by == manager
    client.force_login(collector)
    assert client.get("/admin/collections/reminder/").status_code == 403
