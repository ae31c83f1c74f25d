from django.urls import path

import config.api.converters  # noqa: F401 - registers <id:...>
from debt_collection.api import concessions, kpis, views

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
    path(CASE + "time-zone/", views.CaseTimeZone.as_view(), name="collections-case-time-zone"),
    path(CASE + "waivers/", concessions.CaseWaivers.as_view(), name="collections-case-waivers"),
    path(
        CASE + "settlements/",
        concessions.CaseSettlements.as_view(),
        name="collections-case-settlements",
    ),
    path("collections/waivers/", concessions.Waivers.as_view(), name="collections-waiver-list"),
    path(
        "collections/waivers/<id:pk>/",
        concessions.WaiverDetail.as_view(),
        name="collections-waiver-detail",
    ),
    path(
        "collections/waivers/<id:pk>/decide/",
        concessions.WaiverDecide.as_view(),
        name="collections-waiver-decide",
    ),
    path(
        "collections/settlements/",
        concessions.Settlements.as_view(),
        name="collections-settlement-list",
    ),
    path(
        "collections/settlements/<id:pk>/",
        concessions.SettlementDetail.as_view(),
        name="collections-settlement-detail",
    ),
    path(
        "collections/settlements/<id:pk>/decide/",
        concessions.SettlementDecide.as_view(),
        name="collections-settlement-decide",
    ),
    path(
        "collections/settlements/<id:pk>/settle/",
        concessions.SettlementSettleNow.as_view(),
        name="collections-settlement-settle",
    ),
    path(
        "collections/write-offs/",
        concessions.WriteOffs.as_view(),
        name="collections-write-off-list",
    ),
    path(
        "collections/write-offs/<id:pk>/",
        concessions.WriteOffDetail.as_view(),
        name="collections-write-off-detail",
    ),
    path(
        "collections/write-offs/<id:pk>/decide/",
        concessions.WriteOffDecide.as_view(),
        name="collections-write-off-decide",
    ),
    path(
        "collections/recoveries/",
        concessions.Recoveries.as_view(),
        name="collections-recovery-list",
    ),
    path("collections/kpis/", kpis.Kpis.as_view(), name="collections-kpis"),
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
