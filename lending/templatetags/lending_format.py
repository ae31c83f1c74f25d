"""Template filters for money, rates, counts and dates (lending.formatting):

{% load lending_format %}
{{ loan.principal|money }}  {{ loan.principal|money:"currency" }}  {{ product.rate|rate }}
{{ run.business_date|local_date }}  {{ event.occurred_at|local_datetime }}  {{ n|count }}
"""

from django import template

from lending import formatting

register = template.Library()


@register.filter
def money(amount, currency=""):
    return formatting.money(amount, currency=True if currency == "currency" else currency or False)


@register.filter
def rate(fraction):
    return formatting.rate(fraction)


@register.filter
def count(number):
    return formatting.count(number)


@register.filter
def local_date(value):
    return formatting.local_date(value)


@register.filter
def local_datetime(value):
    return formatting.local_datetime(value)
