"""The agents' side of the metrics (see partyproject/metrics.py): agent task attempts, recorded from
Celery's task signals, and the system-wide gauges read when Prometheus scrapes the web — queues, circuit
breakers, unreplayed dead letters, running plans and the load-shedding bound."""

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from celery import signals
from django.conf import settings
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from partyproject.metrics import AGENT_TASK_DURATION, AGENT_TASKS, BREAKER_STATES, queue_names, queue_oldest_age
from planning.models import DeadLetter, Plan, PlanStatus
from planning.selectors import broker_backlog

from .breaker import breaker_for
from .registry import agent_names

logger = logging.getLogger(__name__)


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


def dead_letters_unreplayed() -> dict[str, int]:
    """Dead letters not replayed yet, per task (`agents.venue` counts as `venue`)."""
    rows = DeadLetter.objects.filter(replayed_at__isnull=True).values("task_name").annotate(count=Count("id"))
    return {row["task_name"].removeprefix("agents."): row["count"] for row in rows}


def breaker_states() -> dict[str, str]:
    """Each agent's catalog breaker: closed, open or half-open (shared state, read from Redis)."""
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
        running = Plan.objects.filter(status=PlanStatus.RUNNING).count()
        return (GaugeMetricFamily("partyplanner_plans_running", "Plans whose agents are at work.", value=running),)
