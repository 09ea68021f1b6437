"""Shared fixtures: users and tokens, the catalog, eager Celery for unit tests, a real worker for integration."""

import contextlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from rest_framework.test import APIClient

from partyproject.celery import app as celery_app
from partyproject.embedded import EmbeddedServices, free_port, port_in_use, wait_until
from partyproject.redis_client import redis_client

OUR_REDIS_KEYS = (
    "partyplanner:breaker:*", "partyplanner:faults", "partyplanner:provider-calls", "partyplanner:catalog:*",
)  # fmt: skip


def redis_keys_clear() -> None:
    """Forget breaker state, injected faults and the catalog version (never the broker's own keys)."""
    client = redis_client()
    for pattern in OUR_REDIS_KEYS:
        for key in client.scan_iter(match=pattern):
            client.delete(key)


@pytest.fixture(autouse=True)
def _clean_shared_state():
    caches["default"].clear()  # the cache has a Redis database of its own in tests (rate-limit counters)
    redis_keys_clear()
    from agents.breaker import breakers_reset
    from planning.catalog_cache import cache_clear

    breakers_reset()
    cache_clear()  # the catalog a test loads is rolled back with it
    yield
    redis_keys_clear()


@pytest.fixture
def catalog(db):
    """The shipped catalog, loaded into the test database."""
    from planning.services import catalog_seed

    return catalog_seed()


def user_create(username: str | None = None, **extra):
    username = username or f"user-{uuid.uuid4().hex[:8]}"
    return get_user_model().objects.create_user(username=username, password="a-long-test-password", **extra)


@pytest.fixture
def user(db):
    return user_create("alice")


@pytest.fixture
def other_user(db):
    return user_create("bob")


def client_for(user) -> APIClient:
    """An API client holding a real access token for `user`, got from the token endpoint."""
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": "a-long-test-password"}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


@pytest.fixture
def api(user):
    return client_for(user)


@pytest.fixture
def eager_celery():
    """Run tasks inline (unit tests only): eager mode skips the broker, acks and redelivery."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False
    yield celery_app
    celery_app.conf.task_always_eager = False


def child_process_env(**extra: str) -> dict[str, str]:
    """The environment of a child process (worker, ASGI server, relay) on the test database and test Redis."""
    database = connection.settings_dict
    return {
        "DJANGO_SETTINGS_MODULE": "partyproject.settings.test",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "DATABASE_CONN_MAX_AGE": "0",
        "AGENT_COUNT_PROVIDER_CALLS": "true",  # the lifecycle tests prove reused results called no provider
        **extra,
    }


@dataclass(frozen=True)
class WorkerTelemetry:
    """Where the test worker reports: its /metrics, its spans (JSON lines) and its JSON log."""

    directory: Path
    metrics_port: int

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def spans_path(self) -> Path:
        return self.directory / "spans.jsonl"

    @property
    def log_path(self) -> Path:
        return self.directory / "worker.log"

    def env(self) -> dict[str, str]:
        return {
            "PROMETHEUS_MULTIPROC_DIR": str(self.directory / "metrics"),
            "WORKER_METRICS_PORT": str(self.metrics_port),
            "TRACING_ENABLED": "true",
            "TRACING_EXPORT_FILE": str(self.spans_path),
            "LOG_FORMAT": "json",
        }


@pytest.fixture(scope="session")
def worker_telemetry(tmp_path_factory) -> WorkerTelemetry:
    return WorkerTelemetry(directory=Path(tmp_path_factory.mktemp("worker")), metrics_port=free_port())


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker, worker_telemetry):
    """A real Celery worker process (prefork, 2 children) on the test database and the test Redis,
    serving its metrics, writing its spans and logging JSON (see WorkerTelemetry)."""
    # The worker keeps its database connections from task to task, as in production.
    env = child_process_env(DATABASE_CONN_MAX_AGE="60", **worker_telemetry.env())
    celery_app.control.purge()
    services = EmbeddedServices(concurrency=2, log_dir=worker_telemetry.directory)
    services.start_worker(env=env)
    yield services
    services.stop()
    # Its pool processes kept their sessions; PostgreSQL ends them just after the processes exit, and the
    # test database can be dropped only once they are gone.
    with django_db_blocker.unblock(), contextlib.suppress(TimeoutError):  # best effort: the drop only warns
        wait_until(lambda: not other_sessions(), timeout=10, what="the worker's database sessions to end")


def other_sessions() -> set[tuple]:
    """The (pid, backend_start) of every session on the test database but this process's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return set(cursor.fetchall())


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, tmp_path_factory):
    """A real ASGI server process (uvicorn, as `bin/demo` runs it) on the test database; yields its base URL.

    Short heartbeat, poll and send timeouts keep the tests of those paths quick.
    """
    log_dir = Path(tmp_path_factory.mktemp("asgi-logs"))
    services = EmbeddedServices(log_dir=log_dir)
    port = free_port()
    env = child_process_env(EVENTS_HEARTBEAT_SECONDS="1", EVENTS_POLL_SECONDS="1", EVENTS_SEND_TIMEOUT_SECONDS="2")
    services.start_server(port=port, env=env)
    wait_until(lambda: port_in_use(port), timeout=30, what="the ASGI server")
    yield f"127.0.0.1:{port}"
    services.stop()
