"""The admin as the back office uses it: borrower → quote; then, on a loan approved through its
application or a book migration (no admin page books or approves one), finance disburses, takes
repayments and writes off — each operation behind its own permission."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse

from lending import roles
from lending.access import SYSTEM
from lending.identity import generate_national_id
from lending.models import AuditEvent, Borrower, Loan, LoanStatus, Transaction
from lending.models.loans import LoanOrigin
from lending.services.loans import loan_book_approved
from tests.factories import BorrowerFactory, ProductFactory
from tests.lending.loan_helpers import active_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    client.force_login(user)
    return client


def inline_management(prefix: str, total: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def borrower_post(**overrides) -> dict:
    data = {
        "full_name": "王小明",
        "national_id": generate_national_id(date_of_birth=date(1991, 5, 20), sex="M"),
        "mobile": "+86 139-1234-5678",
        "address": "北京市朝阳区",
        "employer": "某科技有限公司",
        "monthly_income": "15000.00",
        "kyc_status": "verified",
        "blacklist_reason": "",
        **inline_management("emergency_contacts", 1),
        "emergency_contacts-0-name": "王大明",
        "emergency_contacts-0-relation": "parent",
        "emergency_contacts-0-phone": "13700001111",
        **inline_management("loans"),
    }
    data.update(overrides)
    return data


def test_borrower_created_in_admin_gets_identity_from_the_id(admin_client):
    response = admin_client.post(reverse("admin:lending_borrower_add"), borrower_post())
    assert response.status_code == 302, response.content.decode()[:2000]
    borrower = Borrower.objects.get()
    assert borrower.date_of_birth == date(1991, 5, 20)
    assert borrower.sex == "M"
    assert borrower.mobile == "13912345678"
    assert borrower.emergency_contacts.get().phone == "13700001111"
    assert AuditEvent.objects.filter(action="borrower.create").count() == 1


def test_bad_national_id_is_shown_on_the_field_and_nothing_is_saved(admin_client):
    bad = generate_national_id(date_of_birth=date(1991, 5, 20), sex="M")
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    response = admin_client.post(
        reverse("admin:lending_borrower_add"), borrower_post(national_id=bad)
    )
    assert response.status_code == 200
    assert "checksum" in response.context["adminform"].form.errors["national_id"][0]
    assert not Borrower.objects.exists()


def wrong_check_character() -> tuple[str, str, str]:
    """A national ID with the last character changed: (number, expected, given)."""
    good = generate_national_id(date_of_birth=date(1991, 5, 20), sex="M")
    given = "0" if good[-1] != "0" else "1"
    return good[:-1] + given, good[-1], given


def test_identity_errors_in_the_borrower_form_read_in_the_officers_language(admin_client):
    bad, expected, given = wrong_check_character()
    post = borrower_post(national_id=bad, mobile="139 1234 567")
    post["emergency_contacts-0-phone"] = "12700001111"
    add = reverse("admin:lending_borrower_add")
    response = admin_client.post(add, post, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["national_id"] == [
        f"身份证号校验码错误：最后一位应为 {expected}，而不是 {given}"
    ]
    assert form.errors["mobile"] == ["手机号须为 11 位数字，实际为 10 位"]
    contact = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert contact.errors["phone"] == ["不是中国大陆手机号：须以 13–19 开头"]
    # In English the words are the ones the imports and the API give (lending.identity).
    response = admin_client.post(add, post, HTTP_ACCEPT_LANGUAGE="en")
    form = response.context["adminform"].form
    assert form.errors["national_id"] == [
        f"national ID checksum is wrong: the last character should be {expected}, not {given}"
    ]
    assert form.errors["mobile"] == ["mobile number must have 11 digits, got 10"]
    assert not Borrower.objects.exists()


def test_borrower_list_masks_id_and_phone_and_the_posted_find_gets_the_full_number(admin_client):
    borrower = BorrowerFactory(mobile="13812345678")
    page = admin_client.get(reverse("admin:lending_borrower_changelist"))
    html = page.content.decode()
    assert borrower.national_id not in html
    assert "138****5678" in html
    found = admin_client.post(reverse("admin:lending_borrower_find"), {"identifier": "13812345678"})
    assert found.url == reverse("admin:lending_borrower_change", args=[borrower.pk])


def test_quote_page_shows_schedule_and_apr(admin_client):
    product = ProductFactory(code="phone12")
    page = admin_client.get(
        reverse("admin:lending_loanproduct_quote"),
        {
            "product": product.pk,
            "amount": "10000",
            "rate": "0.18",
            "term": "12",
            "start_date": "2026-01-15",
        },
    )
    html = page.content.decode()
    assert page.context["quote"].apr == Decimal("0.1800")
    assert "18.00 %" in html
    assert "916.80" in html and "1,001.61" in html


def test_quote_page_names_the_field_for_an_out_of_range_rate(admin_client):
    product = ProductFactory(code="phone12", max_rate=Decimal("0.18"))
    page = admin_client.get(
        reverse("admin:lending_loanproduct_quote"),
        {
            "product": product.pk,
            "amount": "10000",
            "rate": "0.30",
            "term": "12",
            "start_date": "2026-01-15",
        },
    )
    assert "outside product phone12" in page.context["form"].errors["rate"][0]


def test_no_admin_page_books_or_approves_a_loan(admin_client):
    """Even a superuser: a loan is approved only through its application or a book migration."""
    assert admin_client.get(reverse("admin:lending_loan_add")).status_code == 403
    with pytest.raises(NoReverseMatch):
        reverse("admin:lending_loan_approve", args=[1])
    changelist = admin_client.get(reverse("admin:lending_loan_changelist"))
    assert "approve_selected" not in changelist.content.decode()


def test_full_loan_journey_moves_every_balance_to_the_cent(client, finance_user):
    loan = loan_book_approved(
        borrower=BorrowerFactory(),
        product=ProductFactory(code="std"),
        principal="10000.00",
        annual_rate="0.18",
        term_months=12,
        purpose="phone",
        origin=LoanOrigin.MIGRATED,
        acting_user=SYSTEM,
    )
    assert loan.status == LoanStatus.APPROVED
    client.force_login(finance_user)

    page = client.get(reverse("admin:lending_loan_change", args=[loan.pk]))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False  # read-only: operations only
    html = page.content.decode()
    assert reverse("admin:lending_loan_disburse", args=[loan.pk]) in html
    assert reverse("admin:lending_loan_cancel", args=[loan.pk]) not in html  # not finance's

    client.post(
        reverse("admin:lending_loan_disburse", args=[loan.pk]),
        {"disbursement_date": "2026-01-15"},
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert loan.principal_outstanding == Decimal("10000.00")
    assert loan.interest_outstanding == Decimal("1001.61")

    page = client.get(reverse("admin:lending_loan_change", args=[loan.pk]))
    html = page.content.decode()
    assert "916.80" in html and "2026-02-15" in html.replace("Feb. 15, 2026", "2026-02-15")
    assert reverse("admin:lending_loan_repay", args=[loan.pk]) in html
    assert reverse("admin:lending_loan_write_off", args=[loan.pk]) in html

    repay = client.get(reverse("admin:lending_loan_repay", args=[loan.pk]))
    assert repay.context["preview"].amount > Decimal("10000")
    client.post(
        reverse("admin:lending_loan_repay", args=[loan.pk]),
        {"amount": "916.80", "value_date": "2026-02-15", "idempotency_key": "pay-1"},
    )
    loan.refresh_from_db()
    assert loan.principal_outstanding == Decimal("9233.20")
    assert loan.interest_outstanding == Decimal("851.61")
    assert loan.next_due_date == date(2026, 3, 15)

    # The same payment submitted again (a double click) is recorded once.
    client.post(
        reverse("admin:lending_loan_repay", args=[loan.pk]),
        {"amount": "916.80", "value_date": "2026-02-15", "idempotency_key": "pay-1"},
    )
    assert Transaction.objects.filter(kind="repayment").count() == 1

    client.post(
        reverse("admin:lending_loan_write_off", args=[loan.pk]),
        {"reason": "fraud confirmed", "value_date": "2026-03-01"},
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF
    assert loan.total_outstanding == Decimal("0.00")
    write_off = loan.transactions.get(kind="write_off")
    # 10,000.00 − 766.80 principal; 9,233.20 × 18 % × 14 / 360 = 64.63 interest earned.
    assert (write_off.principal, write_off.interest) == (Decimal("9233.20"), Decimal("64.63"))
    assert {t.posted_by for t in loan.transactions.all()} == {finance_user}


@pytest.mark.parametrize(
    "role, forbidden",
    [
        (roles.CREDIT_OFFICER, ["disburse", "repay", "write_off", "reverse"]),
        (roles.FINANCE, ["cancel", "reject"]),
        (roles.AUDITOR, ["cancel", "reject", "disburse", "repay", "write_off", "reverse"]),
    ],
)
def test_loan_operations_are_forbidden_without_their_permission(client, role_user, role, forbidden):
    loan = active_loan()
    payment = loan.transactions.get()
    client.force_login(role_user(role))
    before = Transaction.objects.count(), Loan.objects.values().get(pk=loan.pk)
    for operation in forbidden:
        args = [loan.pk, payment.pk] if operation == "reverse" else [loan.pk]
        url = reverse(f"admin:lending_loan_{operation}", args=args)
        assert client.get(url).status_code == 403, operation
        forged = {
            "reason": "x",
            "amount": "100.00",
            "value_date": "2026-02-15",
            "disbursement_date": "2026-01-20",
        }
        assert client.post(url, forged).status_code == 403, operation
    assert (Transaction.objects.count(), Loan.objects.values().get(pk=loan.pk)) == before


def test_repayment_error_is_shown_and_nothing_is_written(admin_client):
    loan = active_loan()
    before = Transaction.objects.count()
    page = admin_client.post(
        reverse("admin:lending_loan_repay", args=[loan.pk]),
        {"amount": "100.00", "value_date": "2025-01-01"},
    )
    assert page.status_code == 200
    assert "before the loan was disbursed" in page.context["form"].errors["value_date"][0]
    # The banner points to the field; it does not repeat the refusal as "value_date: …".
    banners = [str(m) for m in page.context["messages"]]
    assert banners == ["Please correct the error below."]
    assert Transaction.objects.count() == before


def test_reverse_and_write_off_from_the_admin(admin_client):
    loan = active_loan()
    admin_client.post(
        reverse("admin:lending_loan_repay", args=[loan.pk]),
        {"amount": "500.00", "value_date": "2026-02-15"},
    )
    payment = Transaction.objects.get(kind="repayment")
    admin_client.post(
        reverse("admin:lending_loan_reverse", args=[loan.pk, payment.pk]),
        {"reason": "cheque bounced"},
    )
    loan.refresh_from_db()
    assert loan.principal_outstanding == Decimal("10000.00")
    assert loan.interest_outstanding == Decimal("1001.61")

    page = admin_client.post(reverse("admin:lending_loan_write_off", args=[loan.pk]), {})
    assert "reason" in page.context["form"].errors
    admin_client.post(
        reverse("admin:lending_loan_write_off", args=[loan.pk]),
        {"reason": "uncollectable", "value_date": "2026-03-01"},
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF
    assert loan.total_outstanding == Decimal("0.00")


def test_disbursing_twice_reports_the_error(admin_client):
    loan = active_loan()
    page = admin_client.post(
        reverse("admin:lending_loan_disburse", args=[loan.pk]),
        {"disbursement_date": "2026-01-20"},
        follow=True,
    )
    assert "cannot be disbursed" in page.content.decode()
    assert loan.installments.count() == 12


def test_product_above_its_apr_ceiling_is_refused_on_save(admin_client):
    product = ProductFactory.build(
        code="pricey", max_rate=Decimal("0.30"), apr_ceiling=Decimal("0.24")
    )
    data = {
        f.name: getattr(product, f.name)
        for f in product._meta.fields
        if f.editable and f.name != "id"
    }
    data["is_active"] = "on"
    page = admin_client.post(reverse("admin:lending_loanproduct_add"), data)
    assert page.status_code == 200
    assert "above its ceiling of 24.00 %" in str(page.context["adminform"].form.errors)


def test_admin_speaks_simplified_chinese_when_the_browser_asks(admin_client):
    page = admin_client.get(
        reverse("admin:lending_loan_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    html = page.content.decode()
    assert "借款人" in html  # the borrower column, from the glossary
    assert "贷款产品" in html


def test_a_contact_collections_has_called_cannot_be_removed_in_the_admin(admin_client):
    # The collector's attempts on this emergency contact are the record of what happened: the
    # inline refuses the removal with the reason (Django's protected-objects check), nothing
    # saved; the service refuses the same for the API (`in_use`, field `contact`).
    from zoneinfo import ZoneInfo

    from debt_collection.models import CompliancePolicy, ContactAttempt
    from tests.collections.helpers import open_case, overdue_loans

    (loan,) = overdue_loans(1)
    borrower = loan.borrower
    contact = borrower.emergency_contacts.create(
        name="王大明", relation="parent", phone="13700001111"
    )
    ContactAttempt.objects.create(
        case=open_case(loan), borrower=borrower, channel="call", party="emergency_contact",
        emergency_contact=contact, contacted_at=datetime(2026, 9, 17, 10, tzinfo=ZoneInfo("UTC")),
        outcome="no_answer", policy=CompliancePolicy.objects.get(status="active"),
    )  # fmt: skip
    data = borrower_post(
        full_name=borrower.full_name,
        national_id=borrower.national_id,
        mobile=borrower.mobile,
        **{
            "emergency_contacts-INITIAL_FORMS": "1",
            "emergency_contacts-0-id": str(contact.pk),
            "emergency_contacts-0-borrower": str(borrower.pk),
            "emergency_contacts-0-DELETE": "on",
        },
    )
    response = admin_client.post(reverse("admin:lending_borrower_change", args=[borrower.pk]), data)
    assert response.status_code == 200
    (contacts,) = [
        f.formset
        for f in response.context["inline_admin_formsets"]
        if f.formset.prefix == "emergency_contacts"
    ]
    assert "protected related objects: contact attempt" in str(contacts.non_form_errors())
    assert borrower.emergency_contacts.filter(pk=contact.pk).exists()
    assert not AuditEvent.objects.filter(action="borrower.contact_remove").exists()


def test_the_repayment_message_says_what_the_payment_did(admin_client):
    # Finance reads one message per posting, and it says where the money went: paid what was
    # due, kept (partly or wholly) as credit, paid the loan off, or nothing new on a replay.
    from django.contrib.messages import get_messages

    loan = active_loan()  # first installment due 2026-02-15
    url = reverse("admin:lending_loan_repay", args=[loan.pk])

    def post(**data):
        response = admin_client.post(url, {"value_date": "2026-01-20", **data}, follow=True)
        return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)] or [
            (m.level_tag, str(m)) for m in response.context["messages"]
        ]

    ahead = post(amount="300.00", idempotency_key="k1")
    assert ahead == [
        (
            "success",
            f"300.00 posted to {loan} as credit: nothing was due yet; it pays the next "
            "installment on its due date.",
        )
    ]
    assert post(amount="300.00", idempotency_key="k1") == [
        ("warning", "This payment was posted before; nothing new.")
    ]
    from lending.selectors import loan_payoff_quote

    payoff = loan_payoff_quote(Loan.objects.get(pk=loan.pk), date(2026, 1, 20)).amount
    closed = post(amount=str(payoff), idempotency_key="k2")
    assert closed == [("success", f"{payoff:,} posted to {loan}: the loan is paid off.")]
