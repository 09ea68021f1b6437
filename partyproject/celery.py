"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered.

Importing it also connects the worker's telemetry: metrics (partyproject.metrics), tracing
(partyproject.tracing) and structured task logs (django-structlog's worker step).
"""

import os
from typing import Any

from celery import Celery, Task, signals
from django.db import close_old_connections
from django_structlog.celery.steps import DjangoStructLogInitStep

from partyproject import logs, metrics, tracing  # noqa: F401 - their Celery signal receivers

from .liveness import LivenessFile

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")

app = Celery("partyproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["worker"].add(DjangoStructLogInitStep)
app.autodiscover_tasks()
app.steps["consumer"].add(LivenessFile)


@signals.task_prerun.connect
@signals.task_postrun.connect
def database_connections_recycle(sender: Task | None = None, **_: Any) -> None:
    """Around each task, what Django does around each request: keep the connection while CONN_MAX_AGE
    allows, drop one that is past it or saw an error (its health is checked on next use). Eager tasks
    run inside their caller's transaction and are left alone."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    close_old_connections()
