"""The search box of the lists that show a loan reference beside a borrower's name (loans,
borrowers, collections cases, the work list by borrower).

Django's admin search ORs every search field for every word: `reference ILIKE '%x%' OR
borrower.full_name ILIKE '%x%'`. An OR across a join can use neither column's index, so at a
million loans each search scanned loans joined to borrowers (4–8 s). What an officer types is
one or the other, and the term says which: a reference is one word of letters, digits and
`_ . / -` with a digit in it (the book's LN00012345, a migrated ABC-2024/7); a name has no digit.
So a reference is matched by prefix on the (indexed) reference alone, a name by its words on the
trigram-indexed `UPPER(full_name)` alone (lending 0017).
"""

import re
from collections.abc import Callable

from django.db.models import QuerySet
from django.utils.text import smart_split, unescape_string_literal

# The characters a reference may have (lending.services.loans._given_reference's rule).
_REFERENCE_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]*")


def reference_shaped(term: str) -> bool:
    """One word of the characters a reference may have: a reference, or a Latin name."""
    return bool(_REFERENCE_SHAPE.fullmatch(term))


def looks_like_reference(term: str) -> bool:
    """A reference-shaped word with a digit in it: no name has one."""
    return reference_shaped(term) and any(c.isdigit() for c in term)


def name_search(queryset: QuerySet, term: str, *, name: str) -> QuerySet:
    """Every word of the term in the name, as Django's search does for one field (quoted
    phrases kept whole)."""
    for word in smart_split(term):
        if word[:1] in "\"'" and word[-1:] == word[:1] and len(word) > 1:
            word = unescape_string_literal(word)
        queryset = queryset.filter(**{f"{name}__icontains": word})
    return queryset


def reference_or_name_search(
    queryset: QuerySet,
    term: str,
    *,
    reference: str | Callable[[str, str], QuerySet],
    name: str,
) -> QuerySet:
    """The rows of `queryset` the term finds, by reference or by name, never both at once.

    `reference` is the lookup path of the reference (`"reference"`, `"loan__reference"`), or a
    callable `(lookup, term) -> rows` for lists that find a reference some other way (lookup is
    `"istartswith"` or `"iexact"`). A term with a digit is a reference, matched by prefix; a
    word without one may still be a migrated loan's reference, so it is tried as an exact
    reference first (one indexed probe) and is a name only when no row has it.
    """
    term = term.strip()
    if not term:
        return queryset

    def by_reference(lookup: str) -> QuerySet:
        if callable(reference):
            return reference(lookup, term)
        return queryset.filter(**{f"{reference}__{lookup}": term})

    if looks_like_reference(term):
        return by_reference("istartswith")
    if reference_shaped(term):
        found = by_reference("iexact")
        if found.exists():
            return found
    return name_search(queryset, term, name=name)


class ReferenceOrNameSearchMixin:
    """`get_search_results` by `reference_or_name_search` for a ModelAdmin whose rows have the
    reference at `search_reference` and the name at `search_name`. Keep `search_fields` (the
    search box shows only with them; they name what the box finds)."""

    search_reference: str = "reference"
    search_name: str = "borrower__full_name"

    def get_search_results(self, request, queryset, search_term):
        found = reference_or_name_search(
            queryset, search_term, reference=self.search_reference, name=self.search_name
        )
        return found, False
