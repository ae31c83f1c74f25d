"""Links from a borrower's or a loan's page to the records it came from and leads to.

Lending imports neither risk nor collections (DESIGN §3.2), so the apps that hang records off a
borrower or a loan register what to show here (risk/admin/related.py); a page lists whatever was
registered and the reader may see."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Link:
    label: str  # what the record is ("credit limit")
    text: str  # the record in a few words ("8,000.00 · Active")
    url: str = ""  # empty: nothing to open (shown as text)


Provider = Callable[[object, object], list[Link]]  # (request, obj) -> links
_PROVIDERS: dict[str, list[Provider]] = {}


def register(model_label: str, provider: Provider) -> None:
    """`model_label` is "lending.borrower" or "lending.loan"; registering twice is harmless."""
    providers = _PROVIDERS.setdefault(model_label, [])
    if provider not in providers:
        providers.append(provider)


def related_links(request, obj) -> list[Link]:
    links: list[Link] = []
    for provider in _PROVIDERS.get(obj._meta.label_lower, []):
        links += provider(request, obj)
    return links


def _cases_link(request, obj) -> list[Link]:
    """The loan's or borrower's collection cases, for those who see cases (a collector's list
    holds only their own). Collections registers no provider of its own yet; this reads its
    reverse relation by name, without importing it."""
    if not request.user.has_perm("collections.view_case") or not hasattr(obj, "collection_cases"):
        return []
    field = "loan" if obj._meta.model_name == "loan" else "borrower"
    if not obj.collection_cases.exists():
        return []
    listed = reverse("admin:collections_case_changelist") + f"?{field}__id__exact={obj.pk}"
    if not request.user.has_perm("collections.view_all_cases"):
        # A collector may not open another collector's case: the list shows the ones they may.
        return [Link(_("collection cases"), _("cases you may see"), listed)]
    cases = list(obj.collection_cases.order_by("-id")[:2])
    if len(cases) == 1:
        case = cases[0]
        url = reverse("admin:collections_case_change", args=[case.pk])
        return [Link(_("collection case"), f"{case} · {case.get_status_display()}", url)]
    return [Link(_("collection cases"), _("all cases"), listed)]


register("lending.loan", _cases_link)
register("lending.borrower", _cases_link)
