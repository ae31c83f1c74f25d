"""The product's URLs plus /bench/ping/: the ceiling of bench/api.py, the cheapest request the
API stack can answer — token authentication, the permission check, the throttles, content
negotiation and rendering, and no work. Only bench/api_settings.py uses it."""

from django.urls import path
from rest_framework.response import Response

from config.api.base import ApiView
from config.urls import handler404, handler500
from config.urls import urlpatterns as product_urlpatterns


class Ping(ApiView):
    def get(self, request):
        return Response({"pong": True})


urlpatterns = [path("bench/ping/", Ping.as_view()), *product_urlpatterns]
__all__ = ["handler404", "handler500", "urlpatterns"]
