"""Readiness and the web's /metrics on the production web stack (gunicorn with uvicorn workers, ASGI),
with the database and the broker behind TCP proxies that the test cuts and restores."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from partyproject.embedded import BASE_DIR, free_port, wait_until
from tests.integration.test_observability import samples, value
from tests.proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

METRICS_TOKEN = "a-metrics-token-for-the-readiness-test"


def get(url: str, token: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def readiness(base: str) -> tuple[int, dict]:
    status, body = get(f"{base}/api/v1/ready/")
    return status, json.loads(body)


@pytest.fixture(scope="module")
def web(worker, tmp_path_factory):
    """gunicorn + uvicorn workers reaching PostgreSQL and Redis only through proxies."""
    redis_port = int(settings.REDIS_URL.split(":")[2].split("/")[0])
    database_settings = connection.settings_dict
    database = TcpProxy((database_settings["HOST"], int(database_settings["PORT"])), free_port()).start()
    broker = TcpProxy(("127.0.0.1", redis_port), free_port()).start()
    port, tmp_path = free_port(), Path(tmp_path_factory.mktemp("web"))
    redis_db = settings.REDIS_URL.rsplit("/", 1)[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "partyproject.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{database.port}/{connection.settings_dict['NAME']}",
        "REDIS_URL": f"redis://127.0.0.1:{broker.port}/{redis_db}",
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "METRICS_TOKEN": METRICS_TOKEN,
        "METRICS_ALLOWED_NETWORKS": "192.0.2.0/24",
        "READINESS_WORKER_CACHE": "0",
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "partyproject/gunicorn.py", "partyproject.asgi:application"]
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: get(f"{base}/api/v1/health/")[0] == 200, timeout=30, what="the web server")
        yield base, database, broker
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        database.stop()
        broker.stop()


def test_readiness_fails_while_the_broker_or_the_database_is_down_and_recovers(web):
    base, database, broker = web
    status, report = readiness(base)
    assert status == 200, report
    assert report["status"] == "ready" and report["checks"]["workers"]["answering"] >= 1
    assert report["agents"] == dict.fromkeys(("theme", "venue", "cake", "budget"), "closed")

    broker.stop()
    status, report = readiness(base)
    assert status == 503 and report["status"] == "not_ready"
    assert report["checks"]["broker"]["ok"] is False and report["checks"]["database"]["ok"] is True
    broker.start()
    wait_until(lambda: readiness(base)[0] == 200, timeout=15, what="readiness after the broker came back")

    database.stop()
    status, report = readiness(base)
    assert status == 503 and report["checks"]["database"]["ok"] is False
    database.start()
    wait_until(lambda: readiness(base)[0] == 200, timeout=15, what="readiness after the database came back")
    assert get(f"{base}/api/v1/health/")[0] == 200, "liveness never depended on them"


def test_the_web_metrics_endpoint_needs_the_token_and_adds_up_its_workers(web):
    base, _, _ = web
    assert get(f"{base}/metrics")[0] == 403
    for _ in range(3):
        readiness(base)
    time.sleep(0.1)
    status, text = get(f"{base}/metrics", token=METRICS_TOKEN)
    assert status == 200
    metrics = samples(text)
    assert value(metrics, "partyplanner_http_requests_total", route="/api/v1/ready/", method="GET", status="200") >= 3
    assert value(metrics, "partyplanner_http_requests_total", route="/metrics", method="GET", status="403") == 1
    assert value(metrics, "partyplanner_breaker_state", provider="catalog.cake", state="closed") == 1
