"""ASGI entry point (uvicorn workers under gunicorn in production)."""

from django.core.asgi import get_asgi_application

from partyproject.tracing import web_tracing_setup

web_tracing_setup()
application = get_asgi_application()
