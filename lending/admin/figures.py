"""Read-only admin pages show their money and rate fields formatted (lending.admin.columns):
the field shapes of lending.models.fields say which is which, so a page lists its fields by name
and `shown()` swaps each figure for its column. Inputs on editable pages stay as typed.

Penalty rates, cost caps and fees are a rate or another figure depending on their type field:
`penalty_rate`, `cost_cap` and `fee` say them in words; the allocation order's codes are words."""

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lending import formatting
from lending.admin.columns import money_column, rate_column

# One column object per field: the admin tells a read-only field by identity.
_COLUMNS: dict[tuple[type, str], object] = {}


def _kind(field) -> str:
    if not isinstance(field, models.DecimalField):
        return ""
    if (field.max_digits, field.decimal_places) == (18, 2):
        return "money"
    if (field.max_digits, field.decimal_places) == (9, 6):
        return "rate"
    return ""


def column(model, name: str):
    """The formatted column for a money or rate field, else the name itself."""
    if name == "allocation_order":
        return allocation_words
    special = _SPECIAL.get(name)
    if special is not None and hasattr(model, f"{name.split('_value')[0]}_type"):
        return special
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a method or a display name: shown as it is
        return name
    kind = _kind(field)
    if not kind:
        return name
    key = (model, name)
    if key not in _COLUMNS:
        attribute = getattr(model, name)
        _COLUMNS[key] = money_column(attribute) if kind == "money" else rate_column(attribute)
    return _COLUMNS[key]


def shown(model, fields):
    """`fields` (names, or tuples of names on one line) with each figure as its column."""
    return tuple(
        tuple(column(model, n) for n in f) if isinstance(f, tuple | list) else column(model, f)
        for f in fields
    )


def shown_fieldsets(model, fieldsets):
    return tuple(
        (title, {**options, "fields": shown(model, options["fields"])})
        for title, options in fieldsets
    )


def columns_in(fieldsets) -> list:
    """The columns (not plain names) a set of fieldsets shows: they are read-only fields."""
    found = []
    for _title, options in fieldsets:
        for entry in options["fields"]:
            for item in entry if isinstance(entry, tuple | list) else (entry,):
                if callable(item):
                    found.append(item)
    return found


@admin.display(description=_("penalty rate"))
def penalty_rate(obj) -> str:
    """An annual rate (24.00 %) or a multiple of the contract rate (1.5 × the contract rate)."""
    if obj.penalty_rate_type == "contract_multiple":
        return gettext("%(multiple)s × the contract rate") % {
            "multiple": _multiple(obj.penalty_rate_value)
        }
    return formatting.rate(obj.penalty_rate_value)


@admin.display(description=_("cap value"))
def cost_cap(obj) -> str:
    """A fixed ceiling (24.00 %) or a multiple of the one-year LPR (4 × the one-year LPR)."""
    if obj.cost_cap_type == "lpr_multiple":
        return gettext("%(multiple)s × the one-year LPR") % {
            "multiple": _multiple(obj.cost_cap_value)
        }
    return formatting.rate(obj.cost_cap_value)


@admin.display(description=_("origination fee"))
def fee(obj) -> str:
    """A product's fee: an amount (flat), a share of the amount lent (percent), or none."""
    if obj.fee_type == "flat":
        return formatting.money(obj.fee_value)
    if obj.fee_type == "percent":
        return formatting.rate(obj.fee_value)
    return "—"


@admin.display(description=_("repayment allocation order"))
def allocation_words(obj) -> str:
    """Stored as codes ("penalty,fee,interest,principal"); read as words in that order."""
    words = {
        "penalty": gettext("penalty"),
        "fee": gettext("fee"),
        "interest": gettext("interest"),
        "principal": gettext("principal"),
    }
    codes = obj.allocation_order.split(",")
    return " → ".join(words.get(code.strip(), code) for code in codes)


def _multiple(value) -> str:
    return formatting.count(value) if value == value.to_integral_value() else f"{value.normalize()}"


_SPECIAL = {"penalty_rate_value": penalty_rate, "cost_cap_value": cost_cap, "fee_value": fee}
