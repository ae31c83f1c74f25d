"""Proxies of Case that only give the admin pages of their own (no table): the work list by
borrower and the KPI page. Their permissions let the roles table decide who sees them."""

from django.utils.translation import gettext_lazy as _

from debt_collection.models.cases import Case


class CaseByBorrower(Case):
    class Meta:
        proxy = True
        verbose_name = _("work list by borrower")
        verbose_name_plural = _("work list by borrower")


class CollectionsKpi(Case):
    class Meta:
        proxy = True
        verbose_name = _("KPIs")
        verbose_name_plural = _("KPIs")
