"""Prometheus metrics: what is measured, where it is recorded, and the two `/metrics` endpoints.

Recorded where it happens, in every process: API requests (a middleware), agent task attempts
(Celery's task_prerun/task_postrun signals in the worker), plans that end (the plan's terminal
transition, on commit) and the reconciler's actions. With several processes on one host (gunicorn
workers, a prefork pool) prometheus-client's multiprocess mode is used: each process writes its
samples to files in PROMETHEUS_MULTIPROC_DIR and the endpoint adds them up at scrape time.

Computed at scrape time, on the web's endpoint only (they describe the whole system, not one host):
queue depth and the age of the oldest message per queue, circuit breaker states, unreplayed dead
letters, running plans and the load-shedding bound.

Endpoints: the web serves `/metrics` to a bearer token (METRICS_TOKEN) or a client inside
METRICS_ALLOWED_NETWORKS; each worker host serves its own on WORKER_METRICS_PORT.
"""

import hmac
import ipaddress
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from celery import signals
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_ENV):
    # Samples are written to files there from the first metric on; a fresh (empty) directory per
    # host and start is the deployment's job (a tmpfs in compose, an emptyDir in Kubernetes).
    Path(os.environ[MULTIPROC_ENV]).mkdir(parents=True, exist_ok=True)
SENT_AT_HEADER = "partyplanner_sent_at"
BREAKER_STATES = ("closed", "open", "half-open")

HTTP_REQUESTS = Counter(
    "partyplanner_http_requests", "API requests by route, method and status.", ["route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "partyplanner_http_request_duration_seconds",
    "API request latency by route, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
AGENT_TASKS = Counter(
    "partyplanner_agent_tasks",
    "Agent task attempts by how they ended: succeeded, failed, timed_out, retried, error (raised), "
    "and for the planner the plan's status.",
    ["agent", "outcome"],
)
AGENT_TASK_DURATION = Histogram(
    "partyplanner_agent_task_duration_seconds",
    "Duration of one agent task attempt, by outcome.",
    ["agent", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
)
PLANS_ENDED = Counter("partyplanner_plans_ended", "Plans that ended, by outcome.", ["outcome"])
PLAN_LATENCY = Histogram(
    "partyplanner_plan_latency_seconds",
    "From the accepted request to the ended plan, by outcome.",
    ["outcome"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
)
RECONCILER_PLANS = Counter(
    "partyplanner_reconciler_plans",
    "Stalled plans the reconciler handled, by action: redriven, finalized, skipped, deferred, errors.",
    ["action"],
)
PLANS_SHED = Counter("partyplanner_plans_shed", "Plan requests refused with 503 because the backlog was too long.")


# --- Recording ----------------------------------------------------------------------------------------


class RequestMetricsMiddleware:
    """Counts and times every request by its route pattern (not its path), method and status."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self._acall(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self._record(request, response, started)
        return response

    async def _acall(self, request: HttpRequest):
        started = time.perf_counter()
        response = await self.get_response(request)
        self._record(request, response, started)
        return response

    @staticmethod
    def _record(request: HttpRequest, response: HttpResponse, started: float) -> None:
        match = getattr(request, "resolver_match", None)
        labels = (
            f"/{match.route}" if match and match.route else "unmatched",
            request.method,
            str(response.status_code),
        )
        HTTP_REQUESTS.labels(*labels).inc()
        HTTP_LATENCY.labels(*labels).observe(time.perf_counter() - started)


def plan_ended(*, outcome: str, created_at: datetime) -> None:
    """A plan reached a terminal state (call on commit)."""
    PLANS_ENDED.labels(outcome).inc()
    PLAN_LATENCY.labels(outcome).observe(max(0.0, (timezone.now() - created_at).total_seconds()))


def reconciler_record(counts: Mapping[str, int]) -> None:
    """Add one reconciler pass's counts (without the `stalled` total)."""
    for action, count in counts.items():
        if action != "stalled" and count:
            RECONCILER_PLANS.labels(action).inc(count)


def agent_names() -> list[str]:
    """The registered domain agents (each has a catalog breaker)."""
    from agents.registry import agent_names as registered

    return registered()


def pipeline_agents() -> list[str]:
    """The agents and the planner: every task of a plan's pipeline."""
    return [*agent_names(), "planner"]


def agent_of(task_name: str | None) -> str | None:
    """The agent a Celery task name belongs to (`agents.venue` → `venue`), or None."""
    prefix, _, agent = (task_name or "").partition(".")
    return agent if prefix == "agents" and agent in pipeline_agents() else None


def task_outcome(*, state: str | None, retval: Any) -> str:
    """How an agent task attempt ended, from what Celery's task_postrun reports."""
    if state == "RETRY":
        return "retried"
    if state != "SUCCESS":
        return "error"
    if isinstance(retval, Mapping):
        return str(retval.get("status") or "missing")
    return str(retval) if isinstance(retval, str) else "unknown"


_attempts_started: dict[str, float] = {}


@signals.task_prerun.connect
def _attempt_started(task_id: str | None = None, task=None, **_: Any) -> None:
    if task_id and agent_of(getattr(task, "name", None)):
        _attempts_started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _attempt_ended(task_id: str | None = None, task=None, retval: Any = None, state: str | None = None, **_: Any):
    agent = agent_of(getattr(task, "name", None))
    started = _attempts_started.pop(task_id or "", None)
    if agent is None:
        return
    outcome = task_outcome(state=state, retval=retval)
    AGENT_TASKS.labels(agent, outcome).inc()
    if started is not None:
        AGENT_TASK_DURATION.labels(agent, outcome).observe(time.perf_counter() - started)


@signals.before_task_publish.connect
def _stamp_sent_at(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Every message carries when it was sent, so the age of a queue's oldest message can be read."""
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


# --- Computed at scrape time --------------------------------------------------------------------------


def queue_names() -> list[str]:
    """The queues the workers consume."""
    from partyproject.celery import app

    return sorted({app.conf.task_default_queue, *(queue.name for queue in app.conf.task_queues or ())})


def queue_oldest_age(queue: str) -> float:
    """Seconds since the oldest waiting message of `queue` was sent (0 when it is empty or unknown).

    Redis transport: a queue is a list written with LPUSH and read from the right, so the oldest
    message is the last element.
    """
    from partyproject.celery import app

    with app.connection_for_read() as connection:
        client = getattr(connection.default_channel, "client", None)
        raw = client.lindex(queue, -1) if client is not None else None
    if not raw:
        return 0.0
    sent_at = json.loads(raw).get("headers", {}).get(SENT_AT_HEADER)
    return max(0.0, time.time() - float(sent_at)) if sent_at else 0.0


def dead_letters_unreplayed() -> dict[str, int]:
    """Dead letters not replayed yet, per task (`agents.venue` counts as `venue`)."""
    from django.db.models import Count

    from planning.models import DeadLetter

    rows = DeadLetter.objects.filter(replayed_at__isnull=True).values("task_name").annotate(count=Count("id"))
    return {row["task_name"].removeprefix("agents."): row["count"] for row in rows}


def breaker_states() -> dict[str, str]:
    """Each agent's catalog breaker: closed, open or half-open (shared state, read from Redis)."""
    from agents.breaker import breaker_for

    return {f"catalog.{agent}": breaker_for(f"catalog.{agent}").current_state for agent in agent_names()}


class OperationsCollector(Collector):
    """System-wide gauges, read when Prometheus scrapes; a part that cannot be read is reported as down."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        parts = GaugeMetricFamily(
            "partyplanner_scrape_part_up", "Whether a system-wide gauge could be read.", labels=["part"]
        )
        for part, read in (
            ("queues", self._queues),
            ("breakers", self._breakers),
            ("dead_letters", self._dead_letters),
            ("plans", self._plans),
        ):
            try:
                yield from read()
                parts.add_metric([part], 1)
            except Exception:
                logger.exception("Could not read the %s metrics", part)
                parts.add_metric([part], 0)
        yield parts
        yield GaugeMetricFamily(
            "partyplanner_load_shed_backlog_limit",
            "Backlog above which new plans are refused with 503 (0: never).",
            value=settings.PLAN_SHED_BACKLOG,
        )

    def _queues(self) -> Iterable[GaugeMetricFamily]:
        from planning.selectors import broker_backlog

        depth = GaugeMetricFamily("partyplanner_queue_depth", "Messages waiting in a queue.", labels=["queue"])
        age = GaugeMetricFamily(
            "partyplanner_queue_oldest_message_age_seconds",
            "Age of a queue's oldest waiting message.",
            labels=["queue"],
        )
        for queue in queue_names():
            depth.add_metric([queue], broker_backlog(queue))
            age.add_metric([queue], queue_oldest_age(queue))
        return depth, age

    def _breakers(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "partyplanner_breaker_state", "1 for a breaker's current state.", labels=["provider", "state"]
        )
        for provider, current in breaker_states().items():
            for state in BREAKER_STATES:
                family.add_metric([provider, state], 1 if current == state else 0)
        return (family,)

    def _dead_letters(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "partyplanner_dead_letters", "Dead letters not replayed yet, per agent.", labels=["agent"]
        )
        counts = dead_letters_unreplayed()
        for agent in sorted({*pipeline_agents(), *counts}):
            family.add_metric([agent], counts.get(agent, 0))
        return (family,)

    def _plans(self) -> Iterable[GaugeMetricFamily]:
        from planning.models import Plan, PlanStatus

        running = Plan.objects.filter(status=PlanStatus.RUNNING).count()
        return (GaugeMetricFamily("partyplanner_plans_running", "Plans whose agents are at work.", value=running),)


@cache
def _operations_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OperationsCollector())
    return registry


def process_registry() -> CollectorRegistry:
    """This host's recorded metrics: every process's (multiprocess mode) or this process's."""
    if MULTIPROC_ENV not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def exposition(*, operations: bool) -> bytes:
    """The text exposition: the recorded metrics, and with `operations` the system-wide gauges."""
    output = generate_latest(process_registry())
    return output + generate_latest(_operations_registry()) if operations else output


# --- Endpoints --------------------------------------------------------------------------------------------


def metrics_allowed(request: HttpRequest) -> bool:
    """A bearer token equal to METRICS_TOKEN, or a client address inside METRICS_ALLOWED_NETWORKS."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and hmac.compare_digest(given.encode(), token.encode()):
        return True
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED_NETWORKS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: Prometheus text format, for the monitoring network only."""
    if not metrics_allowed(request):
        return JsonResponse(
            {"error": {"code": "forbidden", "message": "Metrics are for the monitoring system only."}}, status=403
        )
    return HttpResponse(exposition(operations=True), content_type=CONTENT_TYPE_LATEST)


@signals.worker_ready.connect
def _worker_metrics_serve(**_: Any) -> None:
    """Serve this worker host's /metrics (main process; the pool's children write their samples to files)."""
    if settings.WORKER_METRICS_PORT:
        start_http_server(settings.WORKER_METRICS_PORT, addr=settings.WORKER_METRICS_ADDR, registry=process_registry())
        logger.info("Worker metrics on %s:%s/metrics", settings.WORKER_METRICS_ADDR, settings.WORKER_METRICS_PORT)


@signals.worker_process_shutdown.connect
def _worker_process_gone(pid: int | None = None, **_: Any) -> None:
    if MULTIPROC_ENV in os.environ:
        multiprocess.mark_process_dead(pid or os.getpid())
