"""gunicorn settings for the web: uvicorn workers (ASGI), everything else from the environment.

Run: gunicorn -c partyproject/gunicorn.py partyproject.asgi:application
"""

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "uvicorn_worker.UvicornWorker"
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
accesslog = None  # django-structlog writes one structured line per request
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server) -> None:
    """Before the workers start: empty the metrics directory of a previous run."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)


def child_exit(server, worker) -> None:
    """A worker process ended: its live gauges no longer count."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(worker.pid)
