"""Field shapes every money model uses (DESIGN §4): amounts 18,2 and annual rates 9,6."""

from decimal import Decimal

from django.db import models


def MoneyField(verbose_name=None, **kwargs):
    kwargs.setdefault("default", Decimal("0.00"))
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=2, **kwargs)


def RateField(verbose_name=None, **kwargs):
    return models.DecimalField(verbose_name, max_digits=9, decimal_places=6, **kwargs)
