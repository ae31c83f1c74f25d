"""Lending's spreadsheet import kinds: borrowers, loans (book migration) and repayments.

Thin adapters (DESIGN §3.2): each row is read into values and handed to the services
(borrower_create/borrower_update/emergency_contact_add, loan_book_approved/loan_disburse,
repayment_post) with the uploading user, so every rule and permission is the services'.
Registered in LendingConfig.ready; docs/imports.md describes the columns.
"""

from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports import values
from imports.engine import CellError, Fate, Outcome, Parsed, Row
from imports.reading import is_blank
from imports.registry import Column, Kind
from lending.access import Perm
from lending.errors import LendingError
from lending.identity import IdentityError, normalize_mobile, parse_national_id
from lending.models import Borrower, Loan, LoanProduct, LoanStatus
from lending.models.borrowers import ContactRelation, KycStatus
from lending.models.loans import LoanOrigin
from lending.pii import pii_digest
from lending.services.borrowers import (
    borrower_create,
    borrower_update,
    emergency_contact_add,
    emergency_contact_update,
)
from lending.services.loans import loan_book_approved, loan_disburse
from lending.services.repayments import repayment_post
from lending.services.repayments_many import Payment, repayments_post_many

RELATIONS = {
    **{c.value: c.value for c in ContactRelation},
    **{str(c.label): c.value for c in ContactRelation},
    "配偶": "spouse",
    "夫妻": "spouse",
    "丈夫": "spouse",
    "妻子": "spouse",
    "父母": "parent",
    "父亲": "parent",
    "母亲": "parent",
    "子女": "child",
    "儿子": "child",
    "女儿": "child",
    "兄弟姐妹": "sibling",
    "兄弟": "sibling",
    "姐妹": "sibling",
    "亲属": "relative",
    "亲戚": "relative",
    "朋友": "friend",
    "同事": "colleague",
}
KYC = {
    **{c.value: c.value for c in KycStatus},
    **{str(c.label): c.value for c in KycStatus},
    "已认证": "verified",
    "已验证": "verified",
    "已实名": "verified",
    "待认证": "pending",
    "待验证": "pending",
    "未认证": "pending",
    "认证失败": "rejected",
    "已拒绝": "rejected",
}


def national_id(row: Row, key: str = "national_id", *, required: bool = True) -> str | None:
    raw = row.get(key, values.identifier, required=required)
    if raw is None:
        return None
    try:
        return parse_national_id(raw).number
    except IdentityError as exc:
        raise CellError(key, exc.message, raw) from None


def mobile(row: Row, key: str) -> str | None:
    raw = row.get(key, values.identifier)
    if raw is None:
        return None
    try:
        return normalize_mobile(raw, field=key)
    except IdentityError as exc:
        raise CellError(key, exc.message, raw) from None


def borrower_by_national_id(number: str) -> Borrower | None:
    return Borrower.objects.filter(national_id_digest=pii_digest(number)).first()


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


# -- borrowers ---------------------------------------------------------------------------------


class BorrowerRows:
    """Keyed by national ID: a new one is created, a known one updated with the cells given
    (a blank cell changes nothing), its emergency contact added (or corrected, by phone)."""

    def __init__(self, acting_user):
        self.acting_user = acting_user

    def parse(self, row: Row) -> Parsed:
        number = national_id(row)
        contact = {
            "name": row.get("contact_name", values.text),
            "relation": row.get(
                "relation",
                lambda v: values.choice(v, RELATIONS, what=_("a relation")),
            ),
            "phone": mobile(row, "contact_mobile"),
        }
        if any(contact.values()):
            for key, column in (
                ("name", "contact_name"),
                ("relation", "relation"),
                ("phone", "contact_mobile"),
            ):
                if not contact[key]:
                    raise CellError(column, _("is required with an emergency contact"))
        income = row.get("monthly_income", values.amount)
        fields = {
            "full_name": row.get("name", values.text),
            "mobile": mobile(row, "mobile"),
            "monthly_income": income,
            "employer": row.get("employer", values.text),
            "kyc_status": row.get(
                "kyc_status", lambda v: values.choice(v, KYC, what=_("a KYC status"))
            ),
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        identity = {
            "name": fields.get("full_name"),
            "mobile": fields.get("mobile"),
            "monthly_income": money(income),
            "employer": fields.get("employer"),
            "kyc_status": fields.get("kyc_status"),
            "contact_name": contact["name"],
            "relation": contact["relation"],
            "contact_mobile": contact["phone"],
        }
        return Parsed(
            values={"national_id": number, "fields": fields, "contact": contact},
            key=number,
            identity=identity,
        )

    def apply(self, parsed: Parsed) -> Outcome:
        number, fields, contact = (parsed.values[k] for k in ("national_id", "fields", "contact"))
        borrower = borrower_by_national_id(number)
        if borrower is None:
            for key, column in (("full_name", "name"), ("mobile", "mobile")):
                if not fields.get(key):
                    raise CellError(column, _("is required for a new borrower"))
            contacts = [contact] if contact["name"] else []
            borrower_create(
                national_id=number,
                acting_user=self.acting_user,
                emergency_contacts=contacts,
                **fields,
            )
            return Outcome(Fate.NEW)
        changes = {k: v for k, v in fields.items() if getattr(borrower, k) != v}
        if changes:
            borrower = borrower_update(
                borrower_id=borrower.pk, acting_user=self.acting_user, **changes
            )
        contact_changed = contact["name"] and self._contact(borrower, contact)
        if changes or contact_changed:
            return Outcome(Fate.UPDATE)
        return Outcome(Fate.SKIP, _("unchanged"))

    def _contact(self, borrower: Borrower, contact: dict) -> bool:
        existing = next(
            (c for c in borrower.emergency_contacts.all() if c.phone == contact["phone"]), None
        )
        if existing is None:
            emergency_contact_add(borrower=borrower, acting_user=self.acting_user, **contact)
            return True
        if (existing.name, existing.relation) != (contact["name"], contact["relation"]):
            emergency_contact_update(
                contact_id=existing.pk, acting_user=self.acting_user, **contact
            )
            return True
        return False


BORROWERS = Kind(
    name="borrowers",
    label=gettext_lazy("Borrowers"),
    description=gettext_lazy(
        "Borrowers from partner channels, keyed by national ID: a new national ID creates the "
        "borrower, a known one updates the cells given (blank cells change nothing) and adds "
        "the emergency contact. Date of birth and sex come from the national ID."
    ),
    permission=Perm.ADD_BORROWER,
    handler=BorrowerRows,
    columns=(
        Column("name", "姓名", True, gettext_lazy("full name"), "张三", ("full_name",)),
        Column(
            "national_id",
            "身份证号",
            True,
            gettext_lazy("18-character resident ID number (the key)"),
            "110101199003070015",
            ("身份证", "身份证号码", "证件号码"),
        ),
        Column(
            "mobile", "手机号", True, gettext_lazy("11-digit mobile"), "13800138000", ("手机号码",)
        ),
        Column(
            "monthly_income", "月收入", False, gettext_lazy("verified monthly income"), "12,000.00"
        ),
        Column(
            "employer", "单位", False, gettext_lazy("employer"), "某某科技有限公司", ("工作单位",)
        ),
        Column(
            "kyc_status",
            "KYC状态",
            False,
            gettext_lazy("pending, verified or rejected (待认证/已认证/认证失败)"),
            "verified",
            ("实名状态",),
        ),
        Column(
            "contact_name",
            "联系人",
            False,
            gettext_lazy("emergency contact's name"),
            "李四",
            ("紧急联系人",),
        ),
        Column(
            "relation",
            "关系",
            False,
            gettext_lazy(
                "spouse, parent, child, sibling, relative, friend or colleague (配偶/父母/…)"
            ),
            "配偶",
            ("与借款人关系",),
        ),
        Column(
            "contact_mobile",
            "联系人手机号",
            False,
            gettext_lazy("emergency contact's mobile"),
            "13900139000",
            ("联系人电话",),
        ),
    ),
    fields={
        "full_name": "name",
        "national_id": "national_id",
        "date_of_birth": "national_id",
        "sex": "national_id",
        "mobile": "mobile",
        "monthly_income": "monthly_income",
        "employer": "employer",
        "kyc_status": "kyc_status",
        "name": "contact_name",
        "phone": "contact_mobile",
        "relation": "relation",
    },
)


# -- repayments --------------------------------------------------------------------------------


class RepaymentRows:
    """Money received from bank statements, keyed by the bank's transaction id (the
    idempotency key): posted by repayment_post on its value date."""

    PREFETCH_CHUNK = 2000

    def __init__(self, acting_user):
        self.acting_user = acting_user
        self.loans: dict[str, int] = {}

    def prepare(self, table) -> None:
        """The file's loan references looked up in bulk, once: a reference not found here is
        looked up again (and refused) by its row."""
        position = table.columns.get("loan")
        if position is None:
            return
        references = set()
        for _number, cells in table.rows:
            if not is_blank(cells[position]):
                references.add(values.identifier(cells[position]))
        references = sorted(references)
        for start in range(0, len(references), self.PREFETCH_CHUNK):
            chunk = references[start : start + self.PREFETCH_CHUNK]
            self.loans.update(
                Loan.objects.filter(reference__in_array=chunk).values_list("reference", "pk")
            )

    def parse(self, row: Row) -> Parsed:
        external_id = row.get("external_id", values.identifier, required=True)
        reference = row.get("loan", values.identifier)
        number = national_id(row, required=False) if not reference else None
        if not reference and not number:
            raise CellError(
                "loan" if "loan" in row.table.columns else "national_id",
                _("give the loan reference (贷款编号) or the borrower's national ID (身份证号)"),
            )
        amount = row.get("amount", values.amount, required=True)
        value_date = row.get("value_date", values.parse_date, required=True)
        channel = row.get("channel", values.text) or ""
        identity = {
            "loan" if reference else "national_id": reference or number,
            "amount": money(amount),
            "value_date": value_date.isoformat(),
        }
        return Parsed(
            values={
                "external_id": external_id,
                "reference": reference,
                "national_id": number,
                "amount": amount,
                "value_date": value_date,
                "channel": channel,
            },
            key=external_id,
            identity=identity,
        )

    def _loan_id(self, reference: str | None, number: str | None) -> int:
        if reference:
            if reference not in self.loans:
                found = Loan.objects.filter(reference=reference).values_list("pk", flat=True)
                if not found:
                    raise CellError("loan", _("no loan with this reference"), reference)
                self.loans[reference] = found[0]
            return self.loans[reference]
        borrower = borrower_by_national_id(number)
        if borrower is None:
            raise CellError("national_id", _("no borrower with this national ID"), number)
        active = list(
            Loan.objects.filter(borrower=borrower, status=LoanStatus.ACTIVE).values_list(
                "pk", "reference"
            )
        )
        if len(active) != 1:
            raise CellError(
                "national_id",
                _("the borrower has %(n)s active loans (%(refs)s); give the loan reference")
                % {"n": len(active), "refs": ", ".join(r for _pk, r in active) or "-"},
                number,
            )
        return active[0][0]

    def apply_many(self, batch: list[Parsed]) -> list:
        """The rows' payments through repayments_post_many (repayment_post's rules, a few
        statements per batch): per row an Outcome, or the error refusing it."""
        answers: list = [None] * len(batch)
        payments, rows = [], []
        for n, parsed in enumerate(batch):
            v = parsed.values
            try:
                loan_id = self._loan_id(v["reference"], v["national_id"])
            except CellError as exc:
                answers[n] = exc
                continue
            payments.append(
                Payment(
                    loan_id=loan_id,
                    amount=v["amount"],
                    value_date=v["value_date"],
                    idempotency_key=v["external_id"],
                    external_reference=v["external_id"],
                    channel=v["channel"],
                )
            )
            rows.append(n)
        posted = repayments_post_many(payments=payments, acting_user=self.acting_user)
        for n, result in zip(rows, posted, strict=True):
            answers[n] = (
                result if isinstance(result, LendingError) else self._fate(batch[n], result)
            )
        return answers

    def _fate(self, parsed: Parsed, result) -> Outcome | CellError:
        if not result.duplicate:
            return Outcome(Fate.NEW)
        v, posted = parsed.values, result.transaction
        if posted.value_date != v["value_date"]:
            return CellError(
                "external_id",
                _(
                    "%(id)s was already posted with value date %(date)s (%(amount)s to loan "
                    "%(loan)s); the same transaction id cannot have another date"
                )
                % {
                    "id": v["external_id"],
                    "date": posted.value_date,
                    "amount": posted.amount,
                    "loan": posted.loan.reference,
                },
                v["external_id"],
            )
        return Outcome(Fate.DUPLICATE, _("already posted (%(date)s)") % {"date": posted.value_date})


REPAYMENTS = Kind(
    name="repayments",
    label=gettext_lazy("Repayments"),
    description=gettext_lazy(
        "Money received, matched from bank statements: posted by the waterfall on its value "
        "date. The transaction id is the idempotency key: the same id, loan, amount and date "
        "again (an overlapping statement) is a duplicate, skipped; the same id with another "
        "loan, amount or date is an error."
    ),
    permission=Perm.POST_REPAYMENT,
    handler=RepaymentRows,
    columns=(
        Column(
            "loan",
            "贷款编号",
            False,
            gettext_lazy("loan reference (or give the national ID)"),
            "LN00000001",
            ("reference", "loan_reference"),
        ),
        Column(
            "national_id",
            "身份证号",
            False,
            gettext_lazy("borrower's national ID, when the borrower has one active loan"),
            "110101199003070015",
        ),
        Column("amount", "还款金额", True, gettext_lazy("amount received"), "1,234.56", ("金额",)),
        Column(
            "value_date",
            "还款日期",
            True,
            gettext_lazy("value date: 2024-10-28, 2024/10/28, 2024年10月28日, 20241028"),
            "2024-10-28",
            ("交易日期", "入账日期"),
        ),
        Column("channel", "渠道", False, gettext_lazy("payment channel"), "bank_transfer"),
        Column(
            "external_id",
            "流水号",
            True,
            gettext_lazy("the bank's transaction id (the key)"),
            "20241028123456",
            ("交易流水号", "transaction_id"),
        ),
    ),
    fields={
        "amount": "amount",
        "value_date": "value_date",
        "idempotency_key": "external_id",
        "external_reference": "external_id",
        "channel": "channel",
        "loan": "loan",
    },
)


# -- loans (book migration) --------------------------------------------------------------------


class LoanRows:
    """Loans contracted elsewhere, keyed by their reference: booked as migrated with that
    reference, disbursed on their start date (the schedule), and what was repaid before the
    migration posted as one repayment valued on the migration day, allocated by the waterfall."""

    def __init__(self, acting_user):
        self.acting_user = acting_user
        self.products: dict[str, LoanProduct | None] = {}

    def parse(self, row: Row) -> Parsed:
        v = {
            "reference": row.get("reference", values.identifier, required=True),
            "national_id": national_id(row),
            "product": row.get("product", values.identifier, required=True),
            "principal": row.get("principal", values.amount, required=True),
            "annual_rate": row.get("annual_rate", values.rate, required=True),
            "term_months": row.get(
                "term_months",
                lambda c: values.integer(c, what=_("a number of months")),
                required=True,
            ),
            "start_date": row.get("start_date", values.parse_date, required=True),
            "first_due_date": row.get("first_due_date", values.parse_date),
            "repaid_to_date": row.get("repaid_to_date", values.decimal) or Decimal("0"),
        }
        if v["repaid_to_date"] < 0:
            raise CellError("repaid_to_date", _("must not be negative"), v["repaid_to_date"])
        identity = {k: str(v[k]) if v[k] is not None else "" for k in v if k != "reference"}
        return Parsed(values=v, key=v["reference"], identity=identity)

    def _product(self, code: str) -> LoanProduct:
        if code not in self.products:
            self.products[code] = LoanProduct.objects.filter(code=code).first()
        if self.products[code] is None:
            raise CellError("product", _("no product with this code"), code)
        return self.products[code]

    def apply(self, parsed: Parsed) -> Outcome:
        v = parsed.values
        existing = Loan.objects.filter(reference=v["reference"]).select_related("borrower").first()
        if existing is not None:
            same = (
                existing.borrower.national_id == v["national_id"]
                and existing.principal == v["principal"]
                and existing.start_date == v["start_date"]
            )
            if same:
                return Outcome(Fate.SKIP, _("already on the book"))
            raise CellError(
                "reference",
                _("loan %(ref)s already exists for another borrower, amount or start date")
                % {"ref": v["reference"]},
                v["reference"],
            )
        borrower = borrower_by_national_id(v["national_id"])
        if borrower is None:
            raise CellError(
                "national_id",
                _("no borrower with this national ID: import the borrowers first"),
                v["national_id"],
            )
        loan = loan_book_approved(
            borrower=borrower,
            product=self._product(v["product"]),
            principal=v["principal"],
            annual_rate=v["annual_rate"],
            term_months=v["term_months"],
            acting_user=self.acting_user,
            origin=LoanOrigin.MIGRATED,
            reference=v["reference"],
            purpose=_("migrated from another book"),
        )
        loan_disburse(
            loan_id=loan.pk,
            disbursement_date=v["start_date"],
            first_due_date=v["first_due_date"],
            acting_user=self.acting_user,
        )
        if v["repaid_to_date"] > 0:
            self._repaid(loan, v["repaid_to_date"])
        return Outcome(Fate.NEW)

    def _repaid(self, loan: Loan, amount: Decimal) -> None:
        try:
            repayment_post(
                loan_id=loan.pk,
                amount=amount,
                value_date=max(timezone.localdate(), loan.start_date or date.min),
                acting_user=self.acting_user,
                idempotency_key=f"migration:{loan.reference}",
                channel="migration",
                note=_("repaid before the loan was migrated"),
            )
        except LendingError as exc:
            raise CellError("repaid_to_date", exc.message, amount) from None


LOANS = Kind(
    name="loans",
    label=gettext_lazy("Loans (book migration)"),
    description=gettext_lazy(
        "A loan book from another system, keyed by reference: each loan is booked as migrated "
        "with the file's reference (its own permission, lending.migrate_loan), disbursed on its "
        "start date with its schedule, and what was already repaid posted as a repayment valued "
        "on the day of the migration and allocated by the waterfall. Re-importing skips loans "
        "already on the book."
    ),
    permission=Perm.MIGRATE_LOAN,
    handler=LoanRows,
    columns=(
        Column(
            "reference",
            "贷款编号",
            True,
            gettext_lazy("the loan's reference in the old book (the key; not LN + 8 digits)"),
            "OLD-2023-0001",
            ("loan",),
        ),
        Column(
            "national_id",
            "身份证号",
            True,
            gettext_lazy("borrower's national ID"),
            "110101199003070015",
        ),
        Column(
            "product",
            "产品代码",
            True,
            gettext_lazy("product code"),
            "consumer12",
            ("product_code",),
        ),
        Column("principal", "本金", True, gettext_lazy("principal"), "10,000.00"),
        Column(
            "annual_rate",
            "年利率",
            True,
            gettext_lazy("annual rate: 0.18 or 18%"),
            "18%",
            ("rate",),
        ),
        Column("term_months", "期数", True, gettext_lazy("term in months"), "12", ("term",)),
        Column("start_date", "放款日期", True, gettext_lazy("disbursement date"), "2024-01-15"),
        Column(
            "first_due_date",
            "首次还款日",
            False,
            gettext_lazy("first due date (default: a month later)"),
            "2024-02-15",
        ),
        Column(
            "repaid_to_date",
            "已还金额",
            False,
            gettext_lazy("total repaid so far (0 allowed)"),
            "2,500.00",
        ),
    ),
    fields={
        "reference": "reference",
        "amount": "principal",
        "rate": "annual_rate",
        "term": "term_months",
        "disbursement_date": "start_date",
        "first_due_date": "first_due_date",
        "borrower": "national_id",
        "product": "product",
    },
)


IMPORT_KINDS = (BORROWERS, LOANS, REPAYMENTS)
