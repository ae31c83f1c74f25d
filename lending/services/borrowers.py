"""Borrower profiles: created and edited here so identity rules hold everywhere."""

from datetime import date

from django.db import IntegrityError, router, transaction
from django.db.models import ProtectedError
from django.db.models.deletion import Collector
from django.utils.translation import gettext as _

from lending.access import Perm, require
from lending.errors import LendingError, LendingErrorCode, translated
from lending.identity import IdentityError, normalize_mobile, parse_national_id
from lending.models import Borrower, EmergencyContact
from lending.pii import masked
from lending.services.audit import audit_log

EDITABLE = {
    "full_name",
    "mobile",
    "address",
    "employer",
    "monthly_income",
    "kyc_status",
    "is_blacklisted",
    "blacklist_reason",
}


def _identity_error(exc: IdentityError) -> LendingError:
    return LendingError(LendingErrorCode.INVALID, translated(exc), field=exc.field)


def _apply_identity(borrower: Borrower, national_id: str, dob: date | None, sex: str | None):
    """Date of birth and sex come from the ID; values given with it must agree."""
    try:
        parsed = parse_national_id(national_id)
    except IdentityError as exc:
        raise _identity_error(exc) from None
    if dob and dob != parsed.date_of_birth:
        raise LendingError(
            LendingErrorCode.INVALID,
            _("does not match the national ID, which gives %(date)s")
            % {"date": parsed.date_of_birth},
            field="date_of_birth",
        )
    if sex and sex != parsed.sex:
        raise LendingError(
            LendingErrorCode.INVALID, _("does not match the national ID"), field="sex"
        )
    borrower.national_id = parsed.number
    borrower.date_of_birth = parsed.date_of_birth
    borrower.sex = parsed.sex


def borrower_validate(borrower: Borrower) -> None:
    """The profile rules every write checks; forms call it to show a refusal on its field."""
    if not borrower.full_name.strip():
        raise LendingError(LendingErrorCode.REQUIRED, _("is required"), field="full_name")
    try:
        borrower.mobile = normalize_mobile(borrower.mobile)
    except IdentityError as exc:
        raise _identity_error(exc) from None
    if borrower.monthly_income is not None and borrower.monthly_income < 0:
        raise LendingError(
            LendingErrorCode.INVALID, _("must not be negative"), field="monthly_income"
        )
    if borrower.is_blacklisted and not borrower.blacklist_reason.strip():
        raise LendingError(
            LendingErrorCode.REQUIRED,
            _("a blacklisted borrower needs a reason"),
            field="blacklist_reason",
        )


PII_FIELDS = {"national_id", "mobile", "address"}


def _audited(name: str, value) -> str:
    """How a changed value is kept in audit data: personal data only masked."""
    return masked(name, value) if name in PII_FIELDS else str(value)


def _save(borrower: Borrower) -> None:
    try:
        with transaction.atomic():
            borrower.save()
    except IntegrityError:
        raise LendingError(
            LendingErrorCode.DUPLICATE,
            _("a borrower with this national ID already exists"),
            field="national_id",
        ) from None


@transaction.atomic
def borrower_create(
    *,
    full_name: str,
    national_id: str,
    mobile: str,
    acting_user,
    date_of_birth: date | None = None,
    sex: str | None = None,
    emergency_contacts: list[dict] | None = None,
    **profile,
) -> Borrower:
    require(acting_user, Perm.ADD_BORROWER, to=_("add borrowers"))
    unknown = set(profile) - EDITABLE
    if unknown:
        raise LendingError(LendingErrorCode.INVALID, _("unknown field"), field=sorted(unknown)[0])
    borrower = Borrower(full_name=full_name.strip(), mobile=mobile, **profile)
    _apply_identity(borrower, national_id, date_of_birth, sex)
    borrower_validate(borrower)
    _save(borrower)
    for contact in emergency_contacts or []:
        emergency_contact_add(borrower=borrower, acting_user=acting_user, **contact)
    audit_log(actor=acting_user, action="borrower.create", obj=borrower, summary=borrower.full_name)
    return borrower


@transaction.atomic
def borrower_update(*, borrower_id: int, acting_user, **changes) -> Borrower:
    require(acting_user, Perm.CHANGE_BORROWER, to=_("change borrowers"))
    borrower = Borrower.objects.select_for_update().get(pk=borrower_id)
    unknown = set(changes) - EDITABLE - {"national_id", "date_of_birth", "sex"}
    if unknown:
        raise LendingError(
            LendingErrorCode.INVALID, _("cannot be changed"), field=sorted(unknown)[0]
        )
    before = {name: _audited(name, getattr(borrower, name)) for name in changes}
    for name in EDITABLE & set(changes):
        setattr(borrower, name, changes[name])
    if {"national_id", "date_of_birth", "sex"} & set(changes):
        _apply_identity(
            borrower,
            changes.get("national_id", borrower.national_id),
            changes.get("date_of_birth"),
            changes.get("sex"),
        )
    borrower_validate(borrower)
    _save(borrower)
    after = {name: _audited(name, getattr(borrower, name)) for name in changes}
    changed = {k: [before[k], after[k]] for k in changes if before[k] != after[k]}
    audit_log(
        actor=acting_user,
        action="borrower.update",
        obj=borrower,
        summary=", ".join(sorted(changed)),
        data={"changes": changed},
    )
    return borrower


def contact_fields(borrower: Borrower, name: str, phone: str) -> tuple[str, str]:
    """An emergency contact's name and phone as stored, or the LendingError naming the field
    (the admin's inline calls it to show the error on the field before anything is saved)."""
    if not name.strip():
        raise LendingError(LendingErrorCode.REQUIRED, _("is required"), field="name")
    try:
        phone = normalize_mobile(phone, field="phone")
    except IdentityError as exc:
        raise _identity_error(exc) from None
    if phone == borrower.mobile:
        raise LendingError(
            LendingErrorCode.INVALID, _("is the borrower's own number"), field="phone"
        )
    return name.strip(), phone


def _audit_contact(action: str, contact: EmergencyContact, acting_user, **data) -> None:
    audit_log(
        actor=acting_user,
        action=action,
        obj=contact.borrower,
        summary=f"emergency contact {contact.name} ({contact.get_relation_display()})",
        data={"contact": contact.pk, **data},
    )


@transaction.atomic
def emergency_contact_add(
    *, borrower: Borrower, name: str, relation: str, phone: str, acting_user
) -> EmergencyContact:
    require(acting_user, Perm.CHANGE_BORROWER, to=_("change borrowers"))
    name, phone = contact_fields(borrower, name, phone)
    contact = EmergencyContact.objects.create(
        borrower=borrower, name=name, relation=relation, phone=phone
    )
    _audit_contact("borrower.contact_add", contact, acting_user, phone=masked("phone", phone))
    return contact


@transaction.atomic
def emergency_contact_update(
    *, contact_id: int, name: str, relation: str, phone: str, acting_user
) -> EmergencyContact:
    """Correct a contact: the same rules as adding one; the change is audited (phones masked)."""
    require(acting_user, Perm.CHANGE_BORROWER, to=_("change borrowers"))
    contact = (
        EmergencyContact.objects.select_for_update().select_related("borrower").get(pk=contact_id)
    )
    name, phone = contact_fields(contact.borrower, name, phone)
    before = (contact.name, contact.relation, masked("phone", contact.phone))
    contact.name, contact.relation, contact.phone = name, relation, phone
    contact.save()
    after = (contact.name, contact.relation, masked("phone", contact.phone))
    changes = {
        field: [old, new]
        for field, old, new in zip(("name", "relation", "phone"), before, after, strict=True)
        if old != new
    }
    _audit_contact("borrower.contact_update", contact, acting_user, changes=changes)
    return contact


@transaction.atomic
def emergency_contact_remove(*, contact_id: int, acting_user) -> None:
    """Remove a contact the borrower no longer names; the removal is audited."""
    require(acting_user, Perm.CHANGE_BORROWER, to=_("change borrowers"))
    contact = EmergencyContact.objects.select_related("borrower").get(pk=contact_id)
    refusal = emergency_contact_in_use(contact)
    if refusal:
        raise refusal
    _audit_contact(
        "borrower.contact_remove", contact, acting_user, phone=masked("phone", contact.phone)
    )
    contact.delete()


def emergency_contact_in_use(contact: EmergencyContact) -> LendingError | None:
    """The refusal to remove a contact other records name (collections' contact attempts, kept
    as they happened), or None. Found through the foreign keys' PROTECT, so lending need not
    know who refers to it."""
    try:
        Collector(using=router.db_for_write(EmergencyContact)).collect([contact])
    except ProtectedError:
        return LendingError(
            LendingErrorCode.IN_USE,
            _("%(name)s has been contacted; the contact is kept with those records")
            % {"name": contact.name},
            field="contact",
        )
    return None


@transaction.atomic
def borrower_reveal_pii(*, borrower_id: int, acting_user) -> Borrower:
    """Show one borrower's personal data unmasked: a deliberate step, permission-checked and
    audited (who looked at whose data, and when)."""
    require(acting_user, Perm.VIEW_PII, to=_("see personal data unmasked"))
    borrower = Borrower.objects.filter(pk=borrower_id).first()
    if borrower is None:
        raise LendingError(LendingErrorCode.NOT_FOUND, _("no such borrower"), field="borrower")
    audit_log(
        actor=acting_user,
        action="borrower.reveal_pii",
        obj=borrower,
        summary="national ID, mobile, address and contact phones shown unmasked",
    )
    return borrower
