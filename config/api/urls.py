"""/api/v1/: the token login and every app's endpoints (namespace "api")."""

from django.urls import include, path

from config.api.auth import TokenLogin

app_name = "api"

urlpatterns = [
    path("auth/token/", TokenLogin.as_view(), name="token"),
    path("", include("lending.api.urls")),
    path("", include("risk.api.urls")),
    path("", include("debt_collection.api.urls")),
    path("", include("imports.api.urls")),
]
