"""The notes the system writes on its own postings read in the reader's language on the loan's
page (lending.transaction_notes), built from the kind and the transaction's figures — whatever
the stored English says; a person's note is shown as typed."""

import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import translation

from lending import roles
from lending.models import Loan, Transaction, TransactionKind
from lending.transaction_notes import SYSTEM_NOTES, note_text
from tests.lending.loan_helpers import active_loan


def txn(kind, **fields) -> Transaction:
    return Transaction(kind=kind, **{"value_date": date(2026, 3, 1), **fields})


def test_each_system_note_is_built_from_the_kind_not_the_stored_sentence():
    stored = "anything at all"  # the stored text plays no part
    loan = Loan(principal=D("10000.00"))
    payment = txn(TransactionKind.REPAYMENT, value_date=date(2026, 2, 10))
    with translation.override("en"):
        assert note_text(txn("penalty_accrual", note=stored)) == "nightly penalty accrual"
        disbursed = txn("disbursement", loan=loan, amount=D("9800.00"), note=stored)
        assert note_text(disbursed) == "origination fee 200.00 deducted"
        adjusted = txn("interest_adjustment", note=stored)
        assert note_text(adjusted) == "interest after March 1, 2026 is not earned"
        for kind in ("reaccrual", "reallocation"):
            relived = txn(kind, caused_by=payment, note=stored)
            assert note_text(relived) == "re-lived from Feb. 10, 2026"


def test_a_person_s_note_and_a_note_with_nothing_to_rebuild_from_stay_as_stored():
    loan = Loan(principal=D("10000.00"))
    assert note_text(txn("repayment", note="paid at the branch")) == "paid at the branch"
    assert note_text(txn("write_off", note="deceased")) == "deceased"
    assert note_text(txn("disbursement", loan=loan, amount=D("10000.00"), note="")) == ""
    assert note_text(txn("reaccrual", note="re-lived from 2026-02-10")) == (
        "re-lived from 2026-02-10"
    )


def test_the_system_notes_read_in_chinese_without_english_words():
    """Fails until the notes are in locale/ (makemessages, translate, compilemessages)."""
    loan = Loan(principal=D("10000.00"))
    payment = txn(TransactionKind.REPAYMENT)
    examples = {
        "penalty_accrual": txn("penalty_accrual"),
        "disbursement": txn("disbursement", loan=loan, amount=D("9800.00")),
        "interest_adjustment": txn("interest_adjustment"),
        "reaccrual": txn("reaccrual", caused_by=payment),
        "reallocation": txn("reallocation", caused_by=payment),
    }
    assert set(examples) == set(SYSTEM_NOTES)
    with translation.override("zh-hans"):
        english = {k: note_text(t) for k, t in examples.items()}
    assert {k: v for k, v in english.items() if re.search(r"[A-Za-z]{2,}", v)} == {}
    assert "200.00" in english["disbursement"] and "2026年3月1日" in english["interest_adjustment"]


@pytest.mark.django_db
def test_the_loan_page_shows_the_fee_kept_back_at_disbursement_in_words(client, role_user):
    loan = active_loan(fee_type="flat", fee_value=D("150.00"), fee_collection="upfront")
    disbursement = loan.transactions.get(kind=TransactionKind.DISBURSEMENT)
    assert disbursement.note == "origination fee 150.00 deducted"  # stored, for exports and logs
    client.force_login(role_user(roles.CREDIT_OFFICER))
    url = reverse("admin:lending_loan_change", args=[loan.pk])
    html = client.get(url, headers={"accept-language": "en"}).content.decode()
    cell = re.search(r'class="field-note_words">\s*<p>([^<]*)</p>', html)
    assert cell and cell.group(1) == "origination fee 150.00 deducted"
