"""Admin columns for money and rates, formatted by lending.formatting: one entry each in
`list_display` or `readonly_fields` (or `fields`), labelled and sorted by the model field.

    list_display = ("reference", money_column(Loan.principal), rate_column(Loan.annual_rate))
    list_display = (..., money_column("loan__principal", _("principal")))  # across a relation

and `note` for a cell's second line, so that a list stays narrow (the borrower under the loan).
"""

from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.utils.html import format_html

from lending import formatting


def _column(field, description, show):
    if isinstance(field, str):
        if description is None:
            raise TypeError("a column named by a path needs its description")
        path = field
    else:  # a model attribute such as Loan.principal: its field gives the label
        path = field.field.name
        description = description or field.field.verbose_name

    def value(obj):
        for part in path.split("__"):
            try:
                obj = getattr(obj, part)
            except ObjectDoesNotExist:
                obj = None
            if obj is None:
                return None  # the admin shows its empty-value mark
        return show(obj)

    value.__name__ = path.replace("__", "_")
    value.__qualname__ = value.__name__
    return admin.display(description=description, ordering=path)(value)


def money_column(field, description=None, *, currency: bool = False):
    """1,234.50 (or ¥1,234.50 with `currency`) for a money field."""
    return _column(field, description, lambda v: formatting.money(v, currency))


def rate_column(field, description=None):
    """24.00 % for an annual-rate field stored as a fraction."""
    return _column(field, description, formatting.rate)


def note(content) -> str:
    """A cell's second line, quieter and free to wrap (class cell-note, admin/base_site.html)."""
    return format_html('<span class="cell-note">{}</span>', content)
