"""The shipped reminder templates, in English and Chinese (managers edit them in the admin).

Each states what issue 10 asks a reminder to state: the amount due, the due date, the penalty
that starts and its rate, the all-in cost cap, and how to pay. Reversing leaves edited
templates alone and removes only untouched defaults.
"""

from django.db import migrations

HOW_TO_PAY_EN = (
    "How to pay: in the app under My loans > {{ reference }}, or by bank transfer quoting "
    "{{ reference }}."
)
HOW_TO_PAY_ZH = (
    "还款方式：在App“我的借款 > {{ reference }}”中还款，或银行转账并备注{{ reference }}。"
)
PENALTY_EN = (
    "If it is not paid by the end of the grace period ({{ grace_until }}), penalty interest of "
    "{{ penalty_rate }}% a year is charged on the overdue amount, counted from {{ penalty_from }}."
)
PENALTY_ZH = (
    "如宽限期（至{{ grace_until }}）结束仍未还清，将自{{ penalty_from }}起按年化"
    "{{ penalty_rate }}%对逾期金额计收罚息。"
)
CAP_EN = (
    "Interest, penalty and fees together never exceed {{ cost_cap_rate }}% a year of the amount "
    "you received (the all-in cost cap)."
)
CAP_ZH = "利息、罚息和费用合计不超过您实际到手金额的年化{{ cost_cap_rate }}%（综合成本上限）。"

OPENING = {
    ("before_due", "en"): (
        "Loan {{ reference }}: {{ amount_due }} {{ currency }} due on {{ due_date }}",
        "Your installment of {{ amount_due }} {{ currency }} on loan {{ reference }} is due on "
        "{{ due_date }}, in 3 days.",
    ),
    ("due_today", "en"): (
        "Loan {{ reference }}: {{ amount_due }} {{ currency }} due today",
        "Your installment of {{ amount_due }} {{ currency }} on loan {{ reference }} is due "
        "today, {{ due_date }}.",
    ),
    ("overdue_1", "en"): (
        "Loan {{ reference }}: {{ amount_due }} {{ currency }} is overdue",
        "Your installment of {{ amount_due }} {{ currency }} on loan {{ reference }} was due on "
        "{{ due_date }} and is {{ days_overdue }} day overdue.",
    ),
    ("overdue_7", "en"): (
        "Loan {{ reference }}: {{ amount_due }} {{ currency }} is {{ days_overdue }} days overdue",
        "Your installment of {{ amount_due }} {{ currency }} on loan {{ reference }} was due on "
        "{{ due_date }} and is {{ days_overdue }} days overdue. If you cannot pay in full, "
        "contact us to agree a plan.",
    ),
    ("before_due", "zh-hans"): (
        "借款{{ reference }}：{{ due_date }}应还{{ amount_due }}{{ currency }}",
        "您的借款{{ reference }}本期应还{{ amount_due }}{{ currency }}，还款日为{{ due_date }}（3天后）。",
    ),
    ("due_today", "zh-hans"): (
        "借款{{ reference }}：今日应还{{ amount_due }}{{ currency }}",
        "您的借款{{ reference }}本期应还{{ amount_due }}{{ currency }}，今日（{{ due_date }}）到期。",
    ),
    ("overdue_1", "zh-hans"): (
        "借款{{ reference }}：{{ amount_due }}{{ currency }}已逾期",
        "您的借款{{ reference }}本期{{ amount_due }}{{ currency }}已于{{ due_date }}到期，"
        "现已逾期{{ days_overdue }}天。",
    ),
    ("overdue_7", "zh-hans"): (
        "借款{{ reference }}：{{ amount_due }}{{ currency }}已逾期{{ days_overdue }}天",
        "您的借款{{ reference }}本期{{ amount_due }}{{ currency }}已于{{ due_date }}到期，"
        "现已逾期{{ days_overdue }}天。如无法一次还清，请联系我们协商还款计划。",
    ),
}


def templates():
    for (kind, language), (subject, opening) in OPENING.items():
        zh = language == "zh-hans"
        body = "\n".join(
            (
                opening,
                PENALTY_ZH if zh else PENALTY_EN,
                CAP_ZH if zh else CAP_EN,
                HOW_TO_PAY_ZH if zh else HOW_TO_PAY_EN,
            )
        )
        yield kind, language, subject, body


def add(apps, schema_editor):
    Template = apps.get_model("collections", "ReminderTemplate")
    for kind, language, subject, body in templates():
        Template.objects.get_or_create(
            kind=kind, language=language, defaults={"subject": subject, "body": body}
        )


def remove(apps, schema_editor):
    Template = apps.get_model("collections", "ReminderTemplate")
    for kind, language, subject, body in templates():
        Template.objects.filter(kind=kind, language=language, subject=subject, body=body).delete()


class Migration(migrations.Migration):
    dependencies = [("collections", "0003_reminders_and_views")]
    operations = [migrations.RunPython(add, remove)]
