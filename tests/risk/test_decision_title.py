"""A decision's title (the admin's page title, breadcrumbs, links) says its outcome in words in
the reader's language: 转人工审核, not the code "refer"."""

from datetime import date

from django.utils import translation

from lending.identity import generate_national_id
from lending.models import Borrower
from risk.models import CreditPolicy, Decision


def decision(outcome: str) -> Decision:
    national_id = generate_national_id(date_of_birth=date(1990, 6, 15), sex="F", sequence=7)
    borrower = Borrower(full_name="王芳", national_id=national_id)
    return Decision(borrower=borrower, policy=CreditPolicy(version=3), outcome=outcome, grade="B")


def test_the_title_names_the_outcome_in_the_reader_s_language():
    with translation.override("zh-hans"):
        title = str(decision("refer"))
    assert title.startswith("王芳 (") and title.endswith(" 转人工审核 B (v3)")
    assert "refer" not in title
    with translation.override("en"):
        assert str(decision("decline")).endswith(" Decline B (v3)")
