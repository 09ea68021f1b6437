"""ASGI routes of the live streams (both accept a token or the signed-in session)."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from .streams import PlanEventsConsumer, PlanEventsSse


class BrowserOriginValidator(OriginValidator):
    """Refuse WebSockets opened by other sites' pages, which could ride on the visitor's session cookie.

    Browsers always send `Origin`; a client without one (a script with a token) has no cookie to abuse.
    """

    def valid_origin(self, parsed_origin) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)


def websocket_application():
    """The WebSocket side of the ASGI application."""
    from channels.routing import URLRouter

    routes = URLRouter([path("ws/v1/plans/<uuid:plan_id>/", PlanEventsConsumer.as_asgi())])
    return BrowserOriginValidator(AuthMiddlewareStack(routes), settings.ALLOWED_HOSTS)


sse_urlpatterns = [path("api/v1/plans/<uuid:plan_id>/stream/", AuthMiddlewareStack(PlanEventsSse()))]
