from django.urls import path

import config.api.converters  # noqa: F401 - registers <id:...>
from imports.api import views

urlpatterns = [
    path("imports/", views.Upload.as_view(), name="import-upload"),
    path("imports/templates/<slug:kind>/", views.Template.as_view(), name="import-template"),
    path("imports/<id:pk>/", views.Detail.as_view(), name="import-detail"),
    path("imports/<id:pk>/confirm/", views.Confirm.as_view(), name="import-confirm"),
    path("imports/<id:pk>/errors/", views.ErrorFile.as_view(), name="import-errors"),
]
