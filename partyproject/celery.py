"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered.

Importing it also connects the worker's telemetry: metrics (partyproject.metrics), tracing
(partyproject.tracing) and structured task logs (django-structlog's worker step).
"""

import os
import time
from typing import Any

from celery import Celery, Task, signals
from django.conf import settings
from django.db import close_old_connections, connections
from django_structlog.celery.steps import DjangoStructLogInitStep

from partyproject import logs, metrics, tracing  # noqa: F401 - their Celery signal receivers

from .liveness import LivenessFile

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")

app = Celery("partyproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["worker"].add(DjangoStructLogInitStep)
app.autodiscover_tasks()
app.steps["consumer"].add(LivenessFile)


_healthy_at: dict[str, float] = {}


@signals.task_prerun.connect
def database_connections_recycle(sender: Task | None = None, **_: Any) -> None:
    """Before each task, what Django does before each request: keep the connection while CONN_MAX_AGE
    allows, drop one that is past it or saw an error, and check its health on next use. The check (a
    round trip) is skipped for a connection that ended a task without error within
    DATABASE_HEALTH_CHECK_GRACE_SECONDS: in a busy worker, the last task was the check. Eager tasks run
    inside their caller's transaction and are left alone."""
    if _is_eager(sender):
        return
    close_old_connections()
    grace = settings.DATABASE_HEALTH_CHECK_GRACE_SECONDS
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and now - _healthy_at.get(conn.alias, float("-inf")) < grace:
            conn.health_check_done = True


@signals.task_postrun.connect
def database_connections_release(sender: Task | None = None, **_: Any) -> None:
    """After each task: note which connections ended it healthy, and drop those past their age."""
    if _is_eager(sender):
        return
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.errors_occurred and not conn.needs_rollback:
            _healthy_at[conn.alias] = now
        else:
            _healthy_at.pop(conn.alias, None)
    close_old_connections()


def _is_eager(sender: Task | None) -> bool:
    return sender is not None and bool(getattr(sender.request, "is_eager", False))
