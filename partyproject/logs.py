"""Structured logs: JSON in production, readable console lines in development.

Every stdlib and structlog record goes through one `ProcessorFormatter`, which adds what is bound in
the current context (django-structlog binds `request_id` and `user_id` per request and `task_id`
per Celery task; `plan_id` is bound where a plan is served) and the current trace and span ids.
"""

import logging
from typing import Any

import structlog
import structlog.tracebacks
from django.dispatch import receiver
from django_structlog.celery.signals import bind_extra_task_metadata
from opentelemetry import trace

RENDERERS = ("json", "console")


def add_trace_ids(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the current OpenTelemetry trace and span ids, when a span is recording."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


def reason_as_text(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: an exception given as `reason` (django-structlog's task_retrying) as its message,
    e.g. "Retry in 2s: …", rather than its repr."""
    if isinstance(event_dict.get("reason"), BaseException):
        event_dict["reason"] = str(event_dict["reason"])
    return event_dict


SHARED_PROCESSORS: tuple[Any, ...] = (
    structlog.contextvars.merge_contextvars,
    reason_as_text,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    add_trace_ids,
)


def logging_config(*, level: str, renderer: str) -> dict[str, Any]:
    """The LOGGING dictConfig for `renderer` ("json" or "console"); also configures structlog."""
    if renderer not in RENDERERS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(RENDERERS)}, not {renderer!r}.")
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # Tracebacks without local variables: rendering every frame's locals is slow and large (a request's
    # frames hold the settings and the whole request) and would write secrets into the logs.
    final = (
        [
            structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ]
        if renderer == "json"
        else [structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)]
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
                "foreign_pre_chain": [*SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django_structlog": {"level": level},
            "celery": {"level": level},
            # "Task received" and "Task succeeded" repeat django-structlog's task_started and task_succeeded.
            **{name: {"level": _celery_task_lines(level)} for name in ("celery.worker.strategy", "celery.app.trace")},
        },
    }


def _celery_task_lines(level: str) -> str:
    """The level of Celery's own per-task lines: all of them at DEBUG, otherwise warnings and worse."""
    level = level.upper()
    return level if level == "DEBUG" or logging.getLevelName(level) >= logging.WARNING else "WARNING"


def plan_bind(plan_id: Any, *, user_id: Any = None) -> None:
    """Put `plan_id` (and the user's id, once known) on every log line written from here on in this context."""
    structlog.contextvars.bind_contextvars(plan_id=str(plan_id))
    if user_id is not None:
        structlog.contextvars.bind_contextvars(user_id=user_id)


@receiver(bind_extra_task_metadata)
def _task_bind(sender: Any, task: Any = None, **_: Any) -> None:
    """In a worker, before a task's first line: bind its name, its plan (agent tasks take only a plan id) and
    the trace its message carries (the task's own span starts only after this)."""
    name, args = getattr(task, "name", ""), getattr(task.request, "args", None)
    structlog.contextvars.bind_contextvars(task=name)  # so that the outcome line names the task
    if name.startswith("agents.") and args:
        plan_bind(args[0])
    parts = str(getattr(task.request, "traceparent", "") or "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        structlog.contextvars.bind_contextvars(trace_id=parts[1])
