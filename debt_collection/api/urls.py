from django.urls import path

import config.api.converters  # noqa: F401 - registers <id:...>
from debt_collection.api import views

CASE = "collections/cases/<id:pk>/"

urlpatterns = [
    path("collections/cases/", views.Cases.as_view(), name="collections-case-list"),
    path(
        "collections/cases/reassign/",
        views.Reassign.as_view(),
        name="collections-case-reassign",
    ),
    path(CASE, views.CaseDetail.as_view(), name="collections-case-detail"),
    path(CASE + "contacts/", views.CaseContacts.as_view(), name="collections-case-contacts"),
    path(CASE + "promises/", views.CasePromises.as_view(), name="collections-case-promises"),
    path("collections/queues/", views.Queues.as_view(), name="collections-queue-list"),
    path(
        "collections/queues/<id:pk>/",
        views.QueueDetail.as_view(),
        name="collections-queue-detail",
    ),
    path(
        "collections/queues/<id:pk>/members/",
        views.QueueMembers.as_view(),
        name="collections-queue-members",
    ),
    path("collections/policies/", views.Policies.as_view(), name="collections-policy-list"),
    path(
        "collections/policies/<id:version>/",
        views.PolicyDetail.as_view(),
        name="collections-policy-detail",
    ),
    path(
        "collections/policies/<id:version>/activate/",
        views.PolicyActivate.as_view(),
        name="collections-policy-activate",
    ),
    path("collections/holds/", views.Holds.as_view(), name="collections-hold-list"),
    path(
        "collections/holds/<id:pk>/lift/",
        views.HoldLift.as_view(),
        name="collections-hold-lift",
    ),
]
