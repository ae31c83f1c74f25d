from django.urls import path

import config.api.converters  # noqa: F401 - registers <id:...>
from risk.api import limits, views

urlpatterns = [
    path("applications/", views.Applications.as_view(), name="application-list"),
    path("applications/<id:pk>/", views.ApplicationDetail.as_view(), name="application-detail"),
    path(
        "applications/<id:pk>/review/",
        views.ApplicationReview.as_view(),
        name="application-review",
    ),
    path("credit-limits/", views.CreditLimits.as_view(), name="credit-limit-list"),
    path("credit-limits/<id:pk>/", views.CreditLimitDetail.as_view(), name="credit-limit-detail"),
    path(
        "credit-limits/<id:pk>/history/",
        views.CreditLimitHistory.as_view(),
        name="credit-limit-history",
    ),
    path(
        "limit-increase-proposals/",
        limits.LimitProposals.as_view(),
        name="limit-proposal-list",
    ),
    path(
        "limit-increase-proposals/<id:pk>/",
        limits.LimitProposalDetail.as_view(),
        name="limit-proposal-detail",
    ),
    path(
        "limit-increase-proposals/<id:pk>/decide/",
        limits.LimitProposalDecide.as_view(),
        name="limit-proposal-decide",
    ),
    path("policies/", views.Policies.as_view(), name="policy-list"),
    path("policies/<id:version>/", views.PolicyDetail.as_view(), name="policy-detail"),
    path(
        "policies/<id:version>/simulate/",
        views.PolicySimulation.as_view(),
        name="policy-simulate",
    ),
    path(
        "policies/<id:version>/activate/",
        views.PolicyActivate.as_view(),
        name="policy-activate",
    ),
    path("policies/<id:version>/copy/", views.PolicyCopy.as_view(), name="policy-copy"),
]
