"""gunicorn settings for the web: uvicorn workers (ASGI) by default, everything else from the environment.

Run: gunicorn -c partyproject/gunicorn.py partyproject.asgi:application
REST only: WEB_WORKER_CLASS=sync gunicorn -c partyproject/gunicorn.py partyproject.wsgi:application
"""

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# uvicorn workers (ASGI) serve the API and the WebSockets in one process. A web tier that serves only the REST
# API runs faster on sync workers (docs/benchmarks.md, API): WEB_WORKER_CLASS=sync with partyproject.wsgi.
worker_class = os.environ.get("WEB_WORKER_CLASS", "uvicorn_worker.UvicornWorker")
threads = int(os.environ.get("WEB_THREADS", "1"))
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
