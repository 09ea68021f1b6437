"""ASGI entry point: Django for HTTP, the live event streams for WebSocket and SSE (uvicorn workers under
gunicorn in production)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")

from partyproject.tracing import web_tracing_setup

web_tracing_setup()
django_application = get_asgi_application()  # sets Django up before the imports below

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from events.routing import sse_urlpatterns, websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": URLRouter([*sse_urlpatterns, re_path(r"", django_application)]),
        "websocket": websocket_application(),
    }
)
