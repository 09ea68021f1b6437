"""Services: every change of state a plan goes through, each one recorded as an event in the same
transaction as the change. Writes are conditional on the state they expect, so a redelivered or
duplicated task changes nothing."""

import json
import logging
from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from agents.analyzer import Brief, InputAnalyzer, load_rules
from agents.pipeline import pipeline_dispatch
from agents.planner import AgentOutcome, FinalPlanner
from events.notify import plan_wake

from . import selectors
from .models import AgentRun, AgentRunStatus, Bakery, Cake, City, Plan, PlanEvent, PlanStatus, Theme, Venue

logger = logging.getLogger(__name__)

OPTIMISTIC_LOCK_ATTEMPTS = 5
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)


class IllegalTransition(Exception):
    """A plan was asked to move to a state its current state does not allow."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"A {current} plan cannot become {target}.")
        self.current = current
        self.target = target


class ConcurrentUpdate(Exception):
    """Another writer kept changing the plan; the change was refused rather than overwrite theirs."""


def event_append(*, plan_id: UUID, type: str, agent: str = "", payload: Mapping[str, Any] | None = None) -> PlanEvent:
    """Append a plan's next event. Call it inside the transaction that makes the change it records."""
    # The UPDATE holds the plan row's lock until commit, so concurrent writers take turns and the
    # sequence has no gaps (a rollback undoes the increment together with the event). `updated_at`
    # thereby records the plan's last progress, which the reconciler reads.
    Plan.objects.filter(pk=plan_id).update(event_seq=F("event_seq") + 1, updated_at=timezone.now())
    seq = Plan.objects.filter(pk=plan_id).values_list("event_seq", flat=True).get()
    transaction.on_commit(partial(plan_wake, plan_id=plan_id), robust=True)
    return PlanEvent.objects.create(plan_id=plan_id, seq=seq, type=type, agent=agent, payload=dict(payload or {}))


def plan_transition(
    *,
    plan_id: UUID,
    to: str,
    payload: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> int:
    """Move a plan to `to` if its current state allows it, with an optimistic lock on `version`.

    Returns the new version. Raises IllegalTransition for a move the state machine refuses, and
    ConcurrentUpdate when `expected_version` is stale or other writers keep winning the race.
    """
    for _ in range(OPTIMISTIC_LOCK_ATTEMPTS):
        current = Plan.objects.values("status", "version").get(pk=plan_id)
        if expected_version is not None and current["version"] != expected_version:
            raise ConcurrentUpdate(f"Plan {plan_id} is at version {current['version']}, not {expected_version}.")
        if to not in Plan.TRANSITIONS[current["status"]]:
            raise IllegalTransition(current["status"], to)
        now = timezone.now()
        values = {"status": to, "version": current["version"] + 1, "updated_at": now, **(changes or {})}
        if to in Plan.TERMINAL:
            values["finished_at"] = now
        with transaction.atomic():
            if Plan.objects.filter(pk=plan_id, version=current["version"]).update(**values):
                event_append(plan_id=plan_id, type=f"plan.{to}", payload=payload)
                return values["version"]
    raise ConcurrentUpdate(f"Plan {plan_id} kept changing; gave up after {OPTIMISTIC_LOCK_ATTEMPTS} attempts.")


def analyzer_build() -> InputAnalyzer:
    """An InputAnalyzer with the configured rules and the catalog's cities."""
    return InputAnalyzer(
        rules=load_rules(settings.ANALYZER_RULES_PATH), cities=selectors.city_refs(), today=timezone.localdate()
    )


def plan_create(*, owner, text: str = "", fields: Mapping[str, Any] | None = None) -> Plan:
    """Persist a party request, analyse it and, once committed, start its agents.

    The whole step is one transaction: either the plan exists with its brief, agent runs and events,
    and its pipeline is enqueued after commit, or nothing was written.
    """
    request_fields = {key: value for key, value in (fields or {}).items() if value not in (None, "", [])}
    with transaction.atomic():
        plan = Plan.objects.create(owner=owner, request_text=text, request_fields=request_fields)
        event_append(plan_id=plan.id, type="plan.received", payload={"text": text, "fields": request_fields})
        plan_analyze(plan_id=plan.id)
    plan.refresh_from_db()
    return plan


def plan_analyze(*, plan_id: UUID) -> Brief:
    """received → analyzing → running: write the brief and one pending run per agent, then dispatch."""
    with transaction.atomic():
        plan_transition(plan_id=plan_id, to=PlanStatus.ANALYZING)
        plan = Plan.objects.only("request_text", "request_fields").get(pk=plan_id)
        brief = analyzer_build().analyze(text=plan.request_text, fields=plan.request_fields)
        AgentRun.objects.bulk_create(
            [AgentRun(plan_id=plan_id, agent=agent, depends_on=list(brief.graph[agent])) for agent in brief.agents],
            ignore_conflicts=True,
        )
        plan_transition(
            plan_id=plan_id,
            to=PlanStatus.RUNNING,
            payload={"brief": brief.to_dict()},
            changes={"brief": brief.to_dict(), "dispatched_at": timezone.now()},
        )
        graph = {agent: list(brief.graph[agent]) for agent in brief.agents}
        transaction.on_commit(lambda: plan_dispatch(plan_id=plan_id, graph=graph), robust=True)
    return brief


def plan_dispatch(*, plan_id: UUID, graph: Mapping[str, list[str]], redrive: int = 0) -> bool:
    """Enqueue a plan's chord (for a re-drive, `redrive` counts the attempts and is recorded as a
    `plan.redriven` event once the broker has taken it). If the broker cannot take it, the plan stays
    accepted and a `plan.dispatch_failed` event records why, so that the reconciler drives it again."""
    try:
        pipeline_dispatch(plan_id=str(plan_id), graph=graph)
    except Exception as exc:
        logger.exception("Could not enqueue plan %s", plan_id)
        event = ("plan.dispatch_failed", {"error": f"{type(exc).__name__}: {exc}"})
    else:
        if not redrive:
            return True
        event = ("plan.redriven", {"agents": list(graph), "attempt": redrive})
    with transaction.atomic():
        event_append(plan_id=plan_id, type=event[0], payload=event[1])
    return event[0] != "plan.dispatch_failed"


def _plan_lock(plan_id: UUID) -> str | None:
    """Lock a plan's row for the rest of the transaction and return its status (None if it is gone).

    Every change to a plan's agent runs takes this lock first, so writers queue in one order (the
    plan, then its runs) and each one sees the previous one's committed outcome.
    """
    return Plan.objects.select_for_update().filter(pk=plan_id).values_list("status", flat=True).first()


def agent_run_start(*, plan_id: UUID, agent: str, task_id: str) -> AgentRun | None:
    """pending/retrying → running (also running → running for a redelivered task).

    Returns the run, with its plan, when this attempt should do the work; None when the run has
    already finished or the plan is no longer running, so a duplicate does nothing.
    """
    startable = (AgentRunStatus.PENDING, AgentRunStatus.RETRYING, AgentRunStatus.RUNNING)
    with transaction.atomic():
        if _plan_lock(plan_id) != PlanStatus.RUNNING:
            return None
        claimed = AgentRun.objects.filter(plan_id=plan_id, agent=agent, status__in=startable).update(
            status=AgentRunStatus.RUNNING, attempts=F("attempts") + 1, task_id=task_id, started_at=timezone.now()
        )
        if not claimed:
            return None
        run = AgentRun.objects.select_related("plan").get(plan_id=plan_id, agent=agent)
        event_append(plan_id=plan_id, type="agent.started", agent=agent, payload={"attempt": run.attempts})
    return run


def agent_run_retrying(*, plan_id: UUID, agent: str, task_id: str, error: str) -> bool:
    """running → retrying, after a transient error that will be retried; only while `task_id` still
    owns the run (a re-driven copy may have claimed it since)."""
    return _agent_run_move(plan_id=plan_id, agent=agent, to=AgentRunStatus.RETRYING, error=error, task_id=task_id)


def agent_run_finish(
    *, plan_id: UUID, agent: str, status: str, result: Mapping[str, Any] | None = None, error: str = ""
) -> bool:
    """running (or retrying) → succeeded | failed | timed_out, storing the result once."""
    if status not in AgentRun.FINISHED:
        raise ValueError(f"{status!r} is not a finished agent status.")
    return _agent_run_move(plan_id=plan_id, agent=agent, to=status, error=error, result=result)


def _agent_run_move(
    *,
    plan_id: UUID,
    agent: str,
    to: str,
    error: str = "",
    result: Mapping[str, Any] | None = None,
    task_id: str | None = None,
) -> bool:
    values: dict[str, Any] = {"status": to, "error": error[:2000]}
    payload: dict[str, Any] = {"error": error[:500]} if error else {}
    with transaction.atomic():
        if _plan_lock(plan_id) != PlanStatus.RUNNING:
            return False
        now = timezone.now()
        if to in AgentRun.FINISHED:
            values.update(result=dict(result) if result is not None else None, finished_at=now)
        movable = [AgentRunStatus.RUNNING] if to == AgentRunStatus.RETRYING else AgentRun.UNFINISHED_CLAIMED
        runs = AgentRun.objects.filter(plan_id=plan_id, agent=agent, status__in=movable)
        if task_id is not None:
            runs = runs.filter(task_id=task_id)
        run = runs.values("id", "started_at", "attempts").first()
        if run is None:
            return False
        if to in AgentRun.FINISHED and run["started_at"]:
            values["duration_ms"] = max(0, int((now - run["started_at"]).total_seconds() * 1000))
            payload["duration_ms"] = values["duration_ms"]
        AgentRun.objects.filter(pk=run["id"]).update(**values)
        if result is not None:
            payload["summary"] = result.get("summary", "")
        event_append(plan_id=plan_id, type=f"agent.{to}", agent=agent, payload={"attempt": run["attempts"], **payload})
    return True


ABANDONED = "The agent did not finish before the plan was assembled."


def plan_finalize(*, plan_id: UUID) -> Plan | None:
    """The FinalPlanner's step: aggregate the agent runs into the plan and end it.

    One transaction under the plan's lock: runs that never finished are closed as failed, so the
    plan comes out partial, and no agent can change in between. Calling it again on an ended plan
    changes nothing; a plan that no longer exists gives None.
    """
    with transaction.atomic():
        if _plan_lock(plan_id) != PlanStatus.RUNNING:
            return Plan.objects.filter(pk=plan_id).first()
        _agent_runs_abandon(plan_id)
        plan = Plan.objects.get(pk=plan_id)
        outcomes = {
            run.agent: AgentOutcome(status=run.status, result=run.result, error=run.error)
            for run in AgentRun.objects.filter(plan_id=plan_id)
        }
        final = FinalPlanner().build(brief=Brief.from_dict(plan.brief), outcomes=outcomes)
        plan_transition(
            plan_id=plan_id,
            to=final["status"],
            payload={"total_cost": final["costs"]["total"], "missing": final["missing"]},
            changes={"result": final},
        )
    plan.refresh_from_db()
    return plan


def _agent_runs_abandon(plan_id: UUID) -> None:
    """Close a plan's unfinished runs as failed (call with the plan locked)."""
    unfinished = AgentRun.objects.filter(plan_id=plan_id).exclude(status__in=AgentRun.FINISHED)
    for agent in unfinished.values_list("agent", flat=True):
        event_append(plan_id=plan_id, type="agent.failed", agent=agent, payload={"error": ABANDONED})
    unfinished.update(status=AgentRunStatus.FAILED, error=ABANDONED, finished_at=timezone.now())


def plan_fail(*, plan_id: UUID, error: str) -> bool:
    """End a plan as failed (e.g. the planner itself could not run), closing its unfinished runs;
    False if it had already ended."""
    with transaction.atomic():
        if _plan_lock(plan_id) in (None, *Plan.TERMINAL):
            return False
        _agent_runs_abandon(plan_id)
        plan_transition(plan_id=plan_id, to=PlanStatus.FAILED, payload={"error": error[:500]}, changes={"error": error})
    return True


def plan_reconcile(
    *, stalled_after: timedelta, max_redrives: int, max_backlog: int | None = None, limit: int = 100
) -> dict[str, int]:
    """Drive on the plans that stopped making progress; the database is the source of truth.

    A plan is stalled when it is running and nothing has happened to it for `stalled_after` (a message
    lost with the broker's queues, a dispatch that failed, a worker killed past its redelivery). If
    all its runs have finished, it is finalized; otherwise a new chord runs only the unfinished
    agents (finished results are kept, and the tasks' idempotency makes a late original harmless).
    After `max_redrives` attempts the plan is finalized with what it has, so nothing stays running.
    Each re-drive of a plan waits twice as long as the one before, and while the broker's backlog is
    over `max_backlog` no plan is re-driven (its messages are most likely waiting in that queue).
    One plan that cannot be handled is failed and counted; it never stops the others.
    """
    cutoff = timezone.now() - stalled_after
    stalled = list(
        Plan.objects.filter(status=PlanStatus.RUNNING, updated_at__lt=cutoff)
        .order_by("updated_at")
        .values_list("id", flat=True)[:limit]
    )
    counts = {"stalled": len(stalled), "redriven": 0, "finalized": 0, "skipped": 0, "deferred": 0, "errors": 0}
    if stalled and max_backlog is not None and selectors.broker_backlog() > max_backlog:
        counts["deferred"] = len(stalled)
        return counts
    for plan_id in stalled:
        try:
            outcome = plan_redrive(plan_id=plan_id, stalled_after=stalled_after, max_redrives=max_redrives)
        except Exception as exc:
            logger.exception("The reconciler could not drive plan %s", plan_id)
            if not isinstance(exc, TRANSIENT_DATABASE_ERRORS):
                plan_fail(plan_id=plan_id, error=f"The reconciler could not finish the plan: {exc}")
            outcome = "errors"
        counts[outcome] += 1
    return counts


def plan_redrive(*, plan_id: UUID, stalled_after: timedelta, max_redrives: int) -> str:
    """Re-enqueue a stalled plan's unfinished agents ("redriven"); finalize it instead when none are
    left or it has been re-driven `max_redrives` times ("finalized"). A plan that made progress within
    `stalled_after * 2**redrives` (re-drives so far) is left alone ("skipped")."""
    with transaction.atomic():
        if _plan_lock(plan_id) != PlanStatus.RUNNING:
            return "skipped"
        redrives = PlanEvent.objects.filter(plan_id=plan_id, type="plan.redriven").count()
        quiet_since = timezone.now() - stalled_after * 2**redrives
        if Plan.objects.filter(pk=plan_id, updated_at__gte=quiet_since).exists():
            return "skipped"
        runs = {run.agent: run for run in AgentRun.objects.filter(plan_id=plan_id)}
        unfinished = [agent for agent, run in runs.items() if not run.is_finished]
        if not unfinished or redrives >= max_redrives:
            plan_finalize(plan_id=plan_id)
            return "finalized"
        graph = {agent: [dep for dep in runs[agent].depends_on if dep in unfinished] for agent in unfinished}
        Plan.objects.filter(pk=plan_id).update(updated_at=timezone.now())
        transaction.on_commit(lambda: plan_dispatch(plan_id=plan_id, graph=graph, redrive=redrives + 1), robust=True)
    return "redriven"


CATALOG_PATH = Path(__file__).resolve().parent / "catalog" / "catalog.json"


def catalog_seed(*, data: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Load the catalog (default: the dataset shipped in planning/catalog/), updating rows in place.

    Rows are matched on their natural keys, so running it again changes nothing but what changed.
    Returns how many rows of each kind the dataset holds.
    """
    if data is None:
        data = json.loads(CATALOG_PATH.read_text())
    with transaction.atomic():
        _upsert(City, data["cities"], unique=["slug"])
        city_ids = dict(City.objects.values_list("slug", "id"))
        _upsert(Theme, data["themes"], unique=["slug"])
        _upsert(Venue, [_with_city(row, city_ids) for row in data["venues"]], unique=["city", "name"])
        _upsert(Bakery, [_with_city(row, city_ids) for row in data["bakeries"]], unique=["city", "name"])
        bakery_ids = {(city, name): pk for pk, name, city in Bakery.objects.values_list("id", "name", "city__slug")}
        cakes = [
            {
                **{k: v for k, v in row.items() if k not in ("bakery", "city")},
                "bakery_id": bakery_ids[(row["city"], row["bakery"])],
            }
            for row in data["cakes"]
        ]
        _upsert(Cake, cakes, unique=["bakery", "name"])
    return {kind: len(data[kind]) for kind in ("cities", "venues", "themes", "bakeries", "cakes")}


def _with_city(row: Mapping[str, Any], city_ids: Mapping[str, int]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "city"}, "city_id": city_ids[row["city"]]}


def _upsert(model, rows: list[dict[str, Any]], *, unique: list[str]) -> None:
    if not rows:
        return
    fields = sorted({key for row in rows for key in row})
    unique_columns = {f"{name}_id" if f"{name}_id" in fields else name for name in unique}
    model.objects.bulk_create(
        [model(**row) for row in rows],
        update_conflicts=True,
        unique_fields=unique,
        update_fields=[field.removesuffix("_id") for field in fields if field not in unique_columns],
        batch_size=500,
    )
