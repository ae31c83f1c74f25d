from django.urls import path

import config.api.converters  # noqa: F401 - registers <id:...>
from risk.api import views

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
    path("policies/", views.Policies.as_view(), name="policy-list"),
    path("policies/<id:version>/", views.PolicyDetail.as_view(), name="policy-detail"),
    path(
        "policies/<id:version>/simulate/",
        views.PolicySimulation.as_view(),
        name="policy-simulate",
    ),
]
