"""The dashboard on the admin home (templates/admin/index.html): the index view is Django's,
so the charts come in through this tag rather than its context."""

from django import template

from portfolio import dashboard

register = template.Library()


@register.inclusion_tag("admin/portfolio/_dashboard.html", takes_context=True)
def portfolio_dashboard(context):
    user = context["request"].user
    if not user.has_perm("portfolio.view_dashboard"):
        return {"charts": None}
    as_of, charts = dashboard.build_all()
    return {"as_of": as_of, "charts": charts, "on_home": True}
