"""ASGI entry point: Django for HTTP, the live event streams for WebSocket and SSE (uvicorn workers under
gunicorn in production)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")

from partyproject.tracing import web_tracing_setup

web_tracing_setup()
django_application = get_asgi_application()  # sets Django up before the imports below

from importlib import import_module  # noqa: E402

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

# The streams' app is named by a setting, as ROOT_URLCONF names the URLs: the project wires its apps in
# by name and never imports them, so the apps can import the project's shared modules.
streams = import_module(settings.ASGI_STREAM_ROUTING)

application = ProtocolTypeRouter(
    {
        "http": URLRouter([*streams.sse_urlpatterns, re_path(r"", django_application)]),
        "websocket": streams.websocket_application(),
    }
)
