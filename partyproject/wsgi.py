"""WSGI entry point."""

from django.core.wsgi import get_wsgi_application

from partyproject.tracing import web_tracing_setup

web_tracing_setup()
application = get_wsgi_application()
