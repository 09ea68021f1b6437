"""OpenTelemetry tracing: off by default, on with TRACING_ENABLED.

One trace per plan: the Django instrumentation opens a span for the HTTP request; the Celery
instrumentation opens a span for every publish and every task run and carries the context in the
message headers, so the chord's agents, their retries and the planner (published by the worker
that finished the header) all join the request's trace. `plan.dispatch` marks the hand-over.

Spans go over OTLP/HTTP (endpoint from the standard OTEL_EXPORTER_OTLP_* variables), or as JSON
lines to TRACING_EXPORT_FILE (development and tests). The web sets tracing up when its application
is loaded (asgi.py, wsgi.py); a worker in each pool process after the fork (worker_process_init),
as the Celery instrumentation requires.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import signals
from django.conf import settings
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, SpanExporter

tracer = trace.get_tracer("partyplanner")
_provider: TracerProvider | None = None


def tracing_setup(*, role: str, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install a tracer provider and instrument Django and Celery, once per process.

    Does nothing (returns None) unless TRACING_ENABLED or an `exporter` is given (tests pass the
    SDK's in-memory exporter). `role` ("web", "worker") is recorded on every span.
    """
    global _provider
    if _provider is not None:
        return _provider
    if exporter is None and not settings.TRACING_ENABLED:
        return None
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    resource = Resource.create({"service.name": settings.OTEL_SERVICE_NAME, "partyplanner.role": role})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(span_processor(exporter))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(tracer_provider=provider)
    CeleryInstrumentor().instrument(tracer_provider=provider)
    _provider = provider
    return provider


def span_processor(exporter: SpanExporter | None):
    """Where spans go: `exporter` (tests), TRACING_EXPORT_FILE as JSON lines, or OTLP/HTTP (production)."""
    if exporter is not None:
        return SimpleSpanProcessor(exporter)
    if settings.TRACING_EXPORT_FILE:
        out = open(settings.TRACING_EXPORT_FILE, "a", encoding="utf-8")  # noqa: SIM115 - lives with the process
        return SimpleSpanProcessor(
            ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return BatchSpanProcessor(OTLPSpanExporter())


def tracing_shutdown() -> None:
    """Flush and remove what `tracing_setup` installed (tests; a process exiting)."""
    global _provider
    if _provider is None:
        return
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    DjangoInstrumentor().uninstrument()
    CeleryInstrumentor().uninstrument()
    _provider.shutdown()
    _provider = None


def current_trace_id() -> str:
    """The current trace id as 32 hex digits, or "" outside a recorded trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


@contextmanager
def plan_span(name: str, *, plan_id: Any, **attributes: Any) -> Iterator[None]:
    """A span about one plan (a no-op span while tracing is off)."""
    with tracer.start_as_current_span(name, attributes={"plan.id": str(plan_id), **attributes}):
        yield


@signals.task_postrun.connect
def _task_plan_attribute(task=None, args: Any = None, **_: Any) -> None:
    """Mark an agent task's run span with its plan (connected before the Celery instrumentation,
    so this runs while the run span is still current)."""
    if getattr(task, "name", "").startswith("agents.") and args:
        trace.get_current_span().set_attribute("plan.id", str(args[0]))


@signals.worker_process_init.connect
def _worker_process_tracing(**_: Any) -> None:
    tracing_setup(role="worker")


@signals.worker_process_shutdown.connect
def _worker_process_flush(**_: Any) -> None:
    if _provider is not None:
        _provider.force_flush()


def web_tracing_setup() -> None:
    """Called by asgi.py and wsgi.py before the application (and its middleware) is built."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")
    import django

    django.setup()
    tracing_setup(role="web")
