"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered.

Importing it also connects the worker's telemetry: metrics (partyproject.metrics), tracing
(partyproject.tracing) and structured task logs (django-structlog's worker step).
"""

import os

from celery import Celery
from django_structlog.celery.steps import DjangoStructLogInitStep

from partyproject import logs, metrics, tracing  # noqa: F401 - their Celery signal receivers

from .liveness import LivenessFile

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")

app = Celery("partyproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["worker"].add(DjangoStructLogInitStep)
app.autodiscover_tasks()
app.steps["consumer"].add(LivenessFile)
