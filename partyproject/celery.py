"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered."""

import os

from celery import Celery

from .liveness import LivenessFile

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")

app = Celery("partyproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["consumer"].add(LivenessFile)
