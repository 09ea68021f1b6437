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

from partyproject import metrics
from partyproject.logs import plan_bind
from partyproject.tracing import current_trace_id

from .models import (
    AgentRun,
    AgentRunStatus,
    Bakery,
    Cake,
    City,
    DeadLetter,
    DispatchState,
    Feedback,
    Plan,
    PlanDispatch,
    PlanEvent,
    PlanStatus,
    Theme,
    Venue,
)
from .signals import plan_events_committed

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


def events_announce(*, plan_id: UUID) -> None:
    """After commit: tell listeners (the live streams) that a plan has new events."""
    plan_events_committed.send(sender=PlanEvent, plan_id=plan_id)


def event_append(*, plan_id: UUID, type: str, agent: str = "", payload: Mapping[str, Any] | None = None) -> PlanEvent:
    """Append a plan's next event. Call it inside the transaction that makes the change it records."""
    # The UPDATE holds the plan row's lock until commit, so concurrent writers take turns and the
    # sequence has no gaps (a rollback undoes the increment together with the event). `updated_at`
    # thereby records the plan's last progress, which the reconciler reads.
    Plan.objects.filter(pk=plan_id).update(event_seq=F("event_seq") + 1, updated_at=timezone.now())
    seq = Plan.objects.filter(pk=plan_id).values_list("event_seq", flat=True).get()
    transaction.on_commit(partial(events_announce, plan_id=plan_id), robust=True)
    return PlanEvent.objects.create(
        plan_id=plan_id, seq=seq, type=type, agent=agent, payload=dict(payload or {}), trace_id=current_trace_id()
    )


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
        current = Plan.objects.values("status", "version", "created_at").get(pk=plan_id)
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
                if to in Plan.TERMINAL:
                    transaction.on_commit(partial(metrics.plan_ended, outcome=to, created_at=current["created_at"]))
                return values["version"]
    raise ConcurrentUpdate(f"Plan {plan_id} kept changing; gave up after {OPTIMISTIC_LOCK_ATTEMPTS} attempts.")


def plan_lock(plan_id: UUID) -> str | None:
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
        if plan_lock(plan_id) != PlanStatus.RUNNING:
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
    *,
    plan_id: UUID,
    agent: str,
    status: str,
    result: Mapping[str, Any] | None = None,
    error: str = "",
    dead_letter: Mapping[str, Any] | None = None,
) -> bool:
    """running (or retrying) → succeeded | failed | timed_out, storing the result once; a failure that
    carries `dead_letter` (task name, id, reason, traceback, attempts) is kept in the dead-letter store in
    the same transaction."""
    if status not in AgentRun.FINISHED:
        raise ValueError(f"{status!r} is not a finished agent status.")
    return _agent_run_move(plan_id=plan_id, agent=agent, to=status, error=error, result=result, dead_letter=dead_letter)


def _agent_run_move(
    *,
    plan_id: UUID,
    agent: str,
    to: str,
    error: str = "",
    result: Mapping[str, Any] | None = None,
    task_id: str | None = None,
    dead_letter: Mapping[str, Any] | None = None,
) -> bool:
    values: dict[str, Any] = {"status": to, "error": error[:2000]}
    payload: dict[str, Any] = {"error": error[:500]} if error else {}
    with transaction.atomic():
        if plan_lock(plan_id) != PlanStatus.RUNNING:
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
        if dead_letter:
            dead_letter_record(plan_id=plan_id, agent=agent, args=[str(plan_id)], error=error, **dead_letter)
    return True


ABANDONED = "The agent did not finish before the plan was assembled."


def agent_runs_abandon(plan_id: UUID, *, reason: str = ABANDONED) -> list[str]:
    """Close a plan's unfinished runs as failed (call with the plan locked); returns their agents."""
    unfinished = AgentRun.objects.filter(plan_id=plan_id).exclude(status__in=AgentRun.FINISHED)
    agents = list(unfinished.values_list("agent", flat=True))
    for agent in agents:
        event_append(plan_id=plan_id, type="agent.failed", agent=agent, payload={"error": reason})
    unfinished.update(status=AgentRunStatus.FAILED, error=reason, finished_at=timezone.now())
    return agents


def plan_fail(*, plan_id: UUID, error: str) -> bool:
    """End a plan as failed (e.g. the planner itself could not run), closing its unfinished runs;
    False if it had already ended."""
    with transaction.atomic():
        if plan_lock(plan_id) in (None, *Plan.TERMINAL):
            return False
        agent_runs_abandon(plan_id)
        plan_transition(plan_id=plan_id, to=PlanStatus.FAILED, payload={"error": error[:500]}, changes={"error": error})
    return True


def plan_record(*, owner, text: str, fields: Mapping[str, Any], selection_arm: str = "") -> Plan:
    """A new plan as received (call inside the transaction that goes on to analyse it)."""
    plan = Plan.objects.create(owner=owner, request_text=text, request_fields=dict(fields), selection_arm=selection_arm)
    plan_bind(plan.id, user_id=owner.pk)
    event_append(plan_id=plan.id, type="plan.received", payload={"text": text, "fields": dict(fields)})
    return plan


def agent_runs_create(*, plan_id: UUID, graph: Mapping[str, list[str]], unavailable: Mapping[str, str]) -> None:
    """One pending run per agent of `graph`, and one failed run (with its event) per agent of
    `unavailable` (agent → why it cannot run), so that nothing the brief asked for is dropped silently."""
    now = timezone.now()
    runs = [AgentRun(plan_id=plan_id, agent=agent, depends_on=list(deps)) for agent, deps in graph.items()]
    runs += [
        AgentRun(plan_id=plan_id, agent=agent, status=AgentRunStatus.FAILED, error=why, finished_at=now)
        for agent, why in unavailable.items()
    ]
    AgentRun.objects.bulk_create(runs, ignore_conflicts=True)
    for agent, why in unavailable.items():
        event_append(plan_id=plan_id, type="agent.failed", agent=agent, payload={"error": why})


# --- Dispatch outbox ---------------------------------------------------------------------------------


def dispatch_enqueue(*, plan_id: UUID, graph: Mapping[str, list[str]], reason: str, attempt: int = 0) -> PlanDispatch:
    """Record the intent to run `graph`'s agents for a plan; call it in the transaction that decides it
    (a re-drive, retry or replay is recorded as a `plan.redriven` event there too).

    The caller publishes it after commit; the sweeper publishes it after PLAN_DISPATCH_GRACE seconds if
    nobody has by then.
    """
    available_at = timezone.now() + timedelta(seconds=settings.PLAN_DISPATCH_GRACE)
    if reason != "initial":
        payload = {"agents": list(graph), "attempt": attempt, "reason": reason}
        event_append(plan_id=plan_id, type="plan.redriven", payload=payload)
    return PlanDispatch.objects.create(
        plan_id=plan_id,
        graph={agent: list(deps) for agent, deps in graph.items()},
        reason=reason,
        attempt=attempt,
        available_at=available_at,
    )


def dispatch_claim_due(*, limit: int, lease: timedelta) -> list[PlanDispatch]:
    """Take up to `limit` pending dispatches that are due, for `lease` (rows another sweeper holds are
    skipped, and a sweeper that dies mid-way leaves them due again when the lease ends). Dispatches of
    plans that are no longer running are cancelled instead: nothing should run for them any more."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            PlanDispatch.objects.select_for_update(skip_locked=True)
            .filter(state=DispatchState.PENDING, available_at__lte=now)
            .select_related("plan")
            .order_by("available_at")[:limit]
        )
        live = [row for row in due if row.plan.status == PlanStatus.RUNNING]
        PlanDispatch.objects.filter(pk__in=[row.pk for row in live]).update(available_at=now + lease)
        ended = [row.pk for row in due if row.plan.status != PlanStatus.RUNNING]
        PlanDispatch.objects.filter(pk__in=ended).update(state=DispatchState.CANCELLED)
    return live


def dispatch_mark_sent(*, dispatch: PlanDispatch) -> bool:
    """pending → sent, once the broker has taken the chord; records when the plan was first dispatched,
    and a `plan.dispatched` event when that happened only after failed attempts."""
    now = timezone.now()
    with transaction.atomic():
        if not PlanDispatch.objects.filter(pk=dispatch.pk, state=DispatchState.PENDING).update(
            state=DispatchState.SENT, sent_at=now
        ):
            return False
        # A change to what a reader sees bumps the version (the plan's ETag), as every other change does.
        Plan.objects.filter(pk=dispatch.plan_id, dispatched_at__isnull=True).update(
            dispatched_at=now, version=F("version") + 1
        )
        if dispatch.publish_attempts and plan_lock(dispatch.plan_id) == PlanStatus.RUNNING:
            event_append(plan_id=dispatch.plan_id, type="plan.dispatched", payload={"after": dispatch.publish_attempts})
    return True


def dispatch_mark_failed(*, dispatch: PlanDispatch, error: str) -> None:
    """A publish failed: try again later (backing off up to a minute); the first failure of a dispatch
    is recorded as a `plan.dispatch_failed` event, so a client sees why its plan waits."""
    attempts = dispatch.publish_attempts + 1
    delay = min(60, settings.PLAN_DISPATCH_SWEEP_INTERVAL * 2 ** (attempts - 1))
    with transaction.atomic():
        updated = PlanDispatch.objects.filter(pk=dispatch.pk, state=DispatchState.PENDING).update(
            publish_attempts=attempts, last_error=error[:2000], available_at=timezone.now() + timedelta(seconds=delay)
        )
        if updated and attempts == 1 and plan_lock(dispatch.plan_id) == PlanStatus.RUNNING:
            event_append(plan_id=dispatch.plan_id, type="plan.dispatch_failed", payload={"error": error[:500]})
    dispatch.publish_attempts = attempts


# --- Dead letters ------------------------------------------------------------------------------------


def dead_letter_record(
    *,
    task_name: str,
    task_id: str,
    reason: str,
    error: str,
    plan_id: UUID | str | None = None,
    agent: str = "",
    args: list[Any] | tuple[Any, ...] = (),
    kwargs: Mapping[str, Any] | None = None,
    traceback: str = "",
    attempts: int = 0,
) -> DeadLetter:
    """Keep a task that ended for good without doing its work; once per task id (a redelivered failure
    does not add a second letter)."""
    values = {
        "task_name": task_name,
        "plan_id": plan_id if plan_id and Plan.objects.filter(pk=plan_id).exists() else None,
        "agent": agent,
        "args": list(args),
        "kwargs": dict(kwargs or {}),
        "reason": reason,
        "error": error[:4000],
        "traceback": traceback[-20000:],
        "attempts": attempts,
    }
    if not task_id:
        return DeadLetter.objects.create(task_id="", **values)
    letter, _ = DeadLetter.objects.get_or_create(task_id=task_id, reason=reason, defaults=values)
    return letter


def dead_letter_claim(*, dead_letter_id: int, actor=None) -> DeadLetter | None:
    """Mark a letter replayed (by `actor`) and return it; None if it was replayed already, so that
    two replay requests replay it once."""
    if not DeadLetter.objects.filter(pk=dead_letter_id, replayed_at__isnull=True).update(
        replayed_at=timezone.now(), replayed_by=actor
    ):
        return None
    return DeadLetter.objects.get(pk=dead_letter_id)


def dead_letter_outcome(*, dead_letter_id: int, outcome: str) -> None:
    """Record what a replay did."""
    DeadLetter.objects.filter(pk=dead_letter_id).update(replay_outcome=outcome[:200])


def plan_reopen(*, plan_id: UUID, agents: list[str], reason: str) -> dict[str, list[str]]:
    """partial | failed → running for a retry of `agents` (those of them that failed or timed out): their
    runs go back to pending and the plan's result is cleared; the caller enqueues their dispatch in the
    same transaction.

    Returns the graph to run (empty, and nothing changed, when none of `agents` had failed). Raises
    IllegalTransition for a plan that is not partial or failed.
    """
    with transaction.atomic():
        status = plan_lock(plan_id)
        if status not in (PlanStatus.PARTIAL, PlanStatus.FAILED):
            raise IllegalTransition(str(status), PlanStatus.RUNNING)
        failed = {AgentRunStatus.FAILED, AgentRunStatus.TIMED_OUT}
        runs = {run.agent: run for run in AgentRun.objects.filter(plan_id=plan_id, agent__in=agents, status__in=failed)}
        if not runs:
            return {}
        graph = {agent: [dep for dep in run.depends_on if dep in runs] for agent, run in runs.items()}
        AgentRun.objects.filter(pk__in=[run.pk for run in runs.values()]).update(
            status=AgentRunStatus.PENDING, attempts=0, task_id="", result=None, error="", started_at=None,
            finished_at=None, duration_ms=None,
        )  # fmt: skip
        plan_transition(
            plan_id=plan_id,
            to=PlanStatus.RUNNING,
            payload={"agents": sorted(runs), "reason": reason},
            changes={"result": None, "error": "", "finished_at": None},
        )
    return graph


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


class FeedbackRefused(Exception):
    """Feedback that cannot be taken (the plan is not finished, or names a pick it does not have)."""


def feedback_create(
    *, plan: Plan, author, pick: str = "", verdict: str = "", rating: int | None = None, comment: str = ""
) -> Feedback:
    """Record the owner's word on a finished plan: a pick accepted or rejected, and/or a rating 1-5."""
    if plan.status not in (PlanStatus.COMPLETE, PlanStatus.PARTIAL):
        raise FeedbackRefused(f"A {plan.status} plan has nothing to give feedback on yet.")
    if pick and not (plan.result or {}).get(pick):
        raise FeedbackRefused(f"The plan has no {pick} to accept or reject.")
    return Feedback.objects.create(
        plan=plan, author=author, arm=plan.selection_arm, pick=pick, verdict=verdict, rating=rating, comment=comment
    )
