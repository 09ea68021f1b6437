"""The Celery tasks: one per registered agent (chord header), the FinalPlanner (chord callback), its
rescue (the chord's error callback), and the periodic outbox sweep and reconciler."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from celery import Task, shared_task, signals
from django.conf import settings
from redis.exceptions import LockError

from partyproject import metrics
from partyproject.celery import app
from partyproject.redis_client import redis_client
from planning import selectors
from planning import services as records

from . import services
from .base import agent_task, describe, planner_task
from .pipeline import PLANNER_TASK, RESCUE_TASK, agent_task_name
from .registry import agent_classes

logger = logging.getLogger(__name__)

AGENT_TASKS: dict[str, Task] = {name: agent_task(agent_class) for name, agent_class in agent_classes().items()}
planner = planner_task(
    finalize=lambda plan_id, revision: getattr(
        services.plan_finalize(plan_id=plan_id, revision=revision), "status", "missing"
    ),
    fail=lambda plan_id, revision, error: records.plan_fail(plan_id=plan_id, error=error, revision=revision),
)


@shared_task(name=RESCUE_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def plan_rescue(plan_id: str, revision: int | None = None) -> str:
    """The chord's error callback: finalize a plan whose agent Celery killed (its planner never runs)."""
    return getattr(services.plan_rescue(plan_id=plan_id, revision=revision), "status", "missing")


@contextmanager
def single_flight(name: str, *, ttl: int) -> Iterator[bool]:
    """Hold a Redis lock named `name` for at most `ttl` seconds; yields False when another process holds
    it, so that overlapping runs of a periodic task skip instead of piling up."""
    lock = redis_client().lock(f"partyplanner:lock:{name}", timeout=ttl, blocking=False)
    acquired = lock.acquire()
    try:
        yield acquired
    finally:
        if acquired:
            try:
                lock.release()
            except LockError:
                logger.warning("The %s lock expired before its holder finished", name)


def periodic(name: str) -> Callable[[Callable[[], dict[str, int]]], Task]:
    """Register a periodic task that runs in one process at a time (the others skip)."""

    def register(work: Callable[[], dict[str, int]]) -> Task:
        def run() -> dict[str, int]:
            with single_flight(name, ttl=settings.CELERY_TASK_TIME_LIMIT + 5) as mine:
                return work() if mine else {"skipped": 1}

        run.__name__ = run.__qualname__ = work.__name__
        run.__doc__ = work.__doc__
        return shared_task(name=f"agents.{name}", ignore_result=True, acks_late=False)(run)

    return register


@periodic("reconcile")
def reconcile() -> dict[str, int]:
    """Periodic (Celery beat): drive on the plans that stopped making progress."""
    counts = services.plan_reconcile(
        stalled_after=timedelta(seconds=settings.PLAN_STALLED_AFTER),
        max_redrives=settings.PLAN_MAX_REDRIVES,
        max_backlog=settings.PLAN_RECONCILE_MAX_BACKLOG,
    )
    metrics.reconciler_record(counts)
    return counts


@periodic("dispatch_sweep")
def dispatch_sweep() -> dict[str, int]:
    """Periodic (Celery beat): publish the dispatches the web process could not."""
    return services.dispatch_sweep()


@shared_task(name="agents.dead_letter_record", ignore_result=True, acks_late=True)
def dead_letter_record(*, task_name: str, task_id: str, args: list[Any], error: str, traceback: str = "") -> None:
    """Keep a task that Celery failed for good (killed at its hard time limit, say) in the dead-letter store."""
    plan_id = str(args[0]) if args else None
    agent = next((name for name in agent_classes() if agent_task_name(name) == task_name), "")
    records.dead_letter_record(
        task_name=task_name, task_id=task_id, reason="killed", error=error, plan_id=plan_id, agent=agent,
        args=args, traceback=traceback,
        attempts=selectors.agent_run_attempts(plan_id=plan_id, agent=agent) if plan_id and agent else 0,
    )  # fmt: skip


PIPELINE_TASKS = frozenset({PLANNER_TASK, *(agent_task_name(name) for name in agent_classes())})


@signals.task_failure.connect
def _task_failed(sender: Task | None = None, task_id: str = "", exception: BaseException | None = None,
                 args: Any = (), einfo: Any = None, **_: Any) -> None:  # fmt: skip
    """A pipeline task ended in FAILURE (only a kill does that: the agents return their failures). This
    may run in the worker's main process, so the letter is recorded by a task, not here."""
    if sender is None or sender.name not in PIPELINE_TASKS:
        return
    try:
        app.send_task(
            "agents.dead_letter_record",
            kwargs={
                "task_name": sender.name,
                "task_id": task_id,
                "args": list(args or ()),
                "error": describe(exception) if exception else "unknown",
                "traceback": str(einfo or ""),
            },
        )
    except Exception:
        logger.exception("Could not record the dead letter of %s[%s]", sender.name, task_id)
