"""Services: every change of state a plan goes through, each one recorded as an event in the same
transaction as the change. Writes are conditional on the state they expect, so a redelivered or
duplicated task changes nothing."""

import json
import logging
import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from partyproject import metrics
from partyproject.logs import plan_bind
from partyproject.tracing import current_trace_id

from . import catalog_cache, selectors
from .models import (
    AgentRun,
    AgentRunStatus,
    Bakery,
    Cake,
    CatalogVersion,
    City,
    DeadLetter,
    DispatchState,
    Feedback,
    Plan,
    PlanDispatch,
    PlanEvent,
    PlanRevision,
    PlanStatus,
    RevisionSource,
    Theme,
    Venue,
)
from .signals import plan_ended, plan_events_committed

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
    """Another writer changed the plan first (or kept changing it); the change was refused rather than
    overwrite theirs. `current_version` is the plan's version when known."""

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


def events_announce(*, plan_id: UUID) -> None:
    """After commit: tell listeners (the live streams) that a plan has new events."""
    plan_events_committed.send(sender=PlanEvent, plan_id=plan_id)


def events_announce_on_commit(*, plan_id: UUID | str) -> None:
    """Announce the plan's new events once its transaction commits: once per transaction, however many
    events it appends (creating a plan appends four).

    An announcement already registered is enough when it cannot be rolled back without this change: it
    was registered outside every savepoint the current code runs in, or in one of them.
    """
    plan_id = str(plan_id)
    if connection.in_atomic_block:
        current = set(connection.savepoint_ids)
        for savepoints, hook, _robust in connection.run_on_commit:
            announces = getattr(hook, "func", None) is events_announce and hook.keywords == {"plan_id": plan_id}
            if announces and savepoints <= current:
                return
    transaction.on_commit(partial(events_announce, plan_id=plan_id), robust=True)


def plan_ended_announce(*, plan_id: UUID, owner_id: int) -> None:
    """After commit: a plan ended, so its owner's running slot is free (admission listens)."""
    plan_ended.send(sender=Plan, plan_id=plan_id, owner_id=owner_id)


_APPEND_SQL = """
WITH bumped AS (
    UPDATE planning_plan SET event_seq = event_seq + 1, updated_at = %(now)s
    WHERE id = %(plan)s::uuid{condition}
    RETURNING event_seq, revision, brief, constraints
), appended AS (
    INSERT INTO planning_planevent (plan_id, seq, revision, type, agent, payload, trace_id, created_at)
    SELECT %(plan)s::uuid, event_seq, revision, %(type)s, %(agent)s, %(payload)s::jsonb, %(trace)s, %(now)s FROM bumped
    RETURNING seq
)
SELECT appended.seq, bumped.brief, bumped.constraints FROM appended, bumped
"""
_APPEND_IF_RUNNING = " AND status = %(status)s AND revision = %(revision)s"


@dataclass(frozen=True)
class Appended:
    """An appended event's number, with the plan's brief and constraints as the append left them."""

    seq: int
    brief: dict[str, Any] | None
    constraints: dict[str, Any]


def event_append(*, plan_id: UUID, type: str, agent: str = "", payload: Mapping[str, Any] | None = None) -> int:
    """Append a plan's next event, tagged with the plan's current revision; returns its sequence number.

    Call it inside the transaction that makes the change it records. Raises Plan.DoesNotExist for a
    plan that is gone.
    """
    appended = _event_append(plan_id=plan_id, type=type, agent=agent, payload=payload)
    if appended is None:
        raise Plan.DoesNotExist(f"Plan {plan_id} does not exist.")
    return appended.seq


def _event_append(
    *,
    plan_id: UUID,
    type: str,
    agent: str = "",
    payload: Mapping[str, Any] | None = None,
    running_revision: int | None = None,
) -> Appended | None:
    """Append an event; with `running_revision`, only while the plan runs that revision (None otherwise).

    Bumping the plan's counter holds its row lock until commit, so writers take turns, the sequence has
    no gaps (a rollback undoes the increment with the event), every writer locks the plan before its
    runs, and `updated_at` records the plan's last progress (the reconciler reads it). On PostgreSQL
    this is one statement.
    """
    now = timezone.now()
    payload = dict(payload or {})
    trace_id = current_trace_id()
    if connection.vendor == "postgresql":
        params = {
            "now": now,
            "plan": str(plan_id),
            "type": type,
            "agent": agent,
            "payload": json.dumps(payload, cls=DjangoJSONEncoder),
            "trace": trace_id,
            "status": PlanStatus.RUNNING,
            "revision": running_revision,
        }
        sql = _APPEND_SQL.format(condition=_APPEND_IF_RUNNING if running_revision is not None else "")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        appended = Appended(seq=row[0], brief=_json(row[1]), constraints=_json(row[2]) or {}) if row else None
    else:
        plans = Plan.objects.filter(pk=plan_id)
        if running_revision is not None:
            plans = plans.filter(status=PlanStatus.RUNNING, revision=running_revision)
        if not plans.update(event_seq=F("event_seq") + 1, updated_at=now):
            return None
        seq, revision, brief, constraints = (
            Plan.objects.filter(pk=plan_id).values_list("event_seq", "revision", "brief", "constraints").get()
        )
        PlanEvent.objects.create(
            plan_id=plan_id, seq=seq, revision=revision, type=type, agent=agent, payload=payload, trace_id=trace_id
        )
        appended = Appended(seq=seq, brief=brief, constraints=constraints or {})
    if appended is not None:
        events_announce_on_commit(plan_id=plan_id)
    return appended


def _json(value: Any) -> Any:
    """A JSON column as read by a raw cursor (psycopg decodes jsonb; other drivers may give text)."""
    return json.loads(value) if isinstance(value, str) else value


TRANSITION_FIELDS = ("status", "version", "revision", "created_at", "owner_id")


def plan_transition(
    *,
    plan_id: UUID,
    to: str,
    payload: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    known: Plan | None = None,
) -> int:
    """Move a plan to `to` if its current state allows it, with an optimistic lock on `version`.

    `known` is the plan as the caller has just read or written it (its status, version and revision), to
    save reading them again; the optimistic lock still refuses a stale one. Returns the new version and
    keeps `known` in step. Raises IllegalTransition for a move the state machine refuses, and
    ConcurrentUpdate when `expected_version` is stale or other writers keep winning the race.
    """
    for attempt in range(OPTIMISTIC_LOCK_ATTEMPTS):
        if known is not None and attempt == 0:
            current = {field: getattr(known, field) for field in TRANSITION_FIELDS}
        else:
            current = Plan.objects.values(*TRANSITION_FIELDS).get(pk=plan_id)
        if expected_version is not None and current["version"] != expected_version:
            raise ConcurrentUpdate(
                f"Plan {plan_id} is at version {current['version']}, not {expected_version}.",
                current_version=current["version"],
            )
        if to not in Plan.TRANSITIONS[current["status"]]:
            raise IllegalTransition(current["status"], to)
        now = timezone.now()
        values = {"status": to, "version": current["version"] + 1, "updated_at": now, **(changes or {})}
        if to in Plan.TERMINAL:
            values["finished_at"] = now
        with transaction.atomic(savepoint=False):
            if Plan.objects.filter(pk=plan_id, version=current["version"]).update(**values):
                event_append(plan_id=plan_id, type=f"plan.{to}", payload=payload)
                if to in Plan.TERMINAL:
                    revision = {
                        "status": to,
                        "finished_at": now,
                        **({"result": values["result"]} if "result" in values else {}),
                    }
                    PlanRevision.objects.filter(plan_id=plan_id, number=current["revision"]).update(**revision)
                    transaction.on_commit(partial(metrics.plan_ended, outcome=to, created_at=current["created_at"]))
                    transaction.on_commit(
                        partial(plan_ended_announce, plan_id=plan_id, owner_id=current["owner_id"]), robust=True
                    )
                if known is not None:
                    for field, value in values.items():
                        setattr(known, field, value)
                return values["version"]
    raise ConcurrentUpdate(f"Plan {plan_id} kept changing; gave up after {OPTIMISTIC_LOCK_ATTEMPTS} attempts.")


def plan_lock(plan_id: UUID) -> str | None:
    """Lock a plan's row for the rest of the transaction and return its status (None if it is gone).

    Every change to a plan's agent runs takes this lock first, so writers queue in one order (the
    plan, then its runs) and each one sees the previous one's committed outcome.
    """
    return Plan.objects.select_for_update().filter(pk=plan_id).values_list("status", flat=True).first()


@dataclass(frozen=True)
class RunClaim:
    """An agent run this attempt now owns, with what the agent needs to do its work."""

    plan_id: UUID | str
    revision: int
    agent: str
    attempts: int
    started_at: datetime
    depends_on: list[str]
    brief: dict[str, Any] | None
    constraints: dict[str, Any]


STARTABLE = (AgentRunStatus.PENDING, AgentRunStatus.RETRYING, AgentRunStatus.RUNNING)
# The claim in one statement: the event (locking the plan row, only while it runs this revision), the run
# (locked second, as every writer does), and the event's row; nothing is returned when either condition
# fails, and the caller then rolls the counter's bump back.
# A run's claim in one statement, which changes nothing unless it claims (so it needs no transaction of
# its own): lock the plan's row while it runs this revision (every writer locks the plan before its runs),
# take the run only in a state it may leave, and only then number the event and append it.
_CLAIM_SQL = """
WITH locked AS (
    SELECT id, revision FROM planning_plan
    WHERE id = %(plan)s::uuid AND status = %(running)s AND revision = %(revision)s
    FOR UPDATE
), claimed AS (
    UPDATE planning_agentrun AS run
    SET status = %(running)s, attempts = run.attempts + 1, task_id = %(task)s, started_at = %(now)s
    FROM locked
    WHERE run.plan_id = locked.id AND run.revision = locked.revision AND run.agent = %(agent)s
      AND run.status = ANY(%(startable)s)
    RETURNING run.plan_id, run.attempts, run.depends_on
), bumped AS (
    UPDATE planning_plan AS plan SET event_seq = plan.event_seq + 1, updated_at = %(now)s
    FROM claimed
    WHERE plan.id = claimed.plan_id
    RETURNING plan.id, plan.event_seq, plan.revision, plan.brief, plan.constraints
), appended AS (
    INSERT INTO planning_planevent (plan_id, seq, revision, type, agent, payload, trace_id, created_at)
    SELECT bumped.id, bumped.event_seq, bumped.revision, 'agent.started', %(agent)s,
           jsonb_build_object('attempt', claimed.attempts), %(trace)s, %(now)s
    FROM bumped, claimed
    RETURNING seq
)
SELECT claimed.attempts, claimed.depends_on, bumped.brief, bumped.constraints FROM claimed, bumped, appended
"""


def agent_run_start(*, plan_id: UUID | str, revision: int, agent: str, task_id: str) -> RunClaim | None:
    """pending/retrying → running (also running → running for a redelivered task), for one revision.

    Returns the claim when this attempt should do the work; None when the run has already ended, or the
    plan no longer runs that revision (cancelled, superseded by an edit, finalized), so that a duplicate,
    late or stale task does nothing. One statement on PostgreSQL.
    """
    now = timezone.now()
    if connection.vendor == "postgresql":
        params = {
            "now": now, "plan": str(plan_id), "running": AgentRunStatus.RUNNING, "revision": revision,
            "task": task_id, "agent": agent, "startable": list(STARTABLE), "trace": current_trace_id(),
        }  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, params)
            row = cursor.fetchone()
        if row is None:
            return None
        attempts, depends_on, brief, constraints = row[0], _json(row[1]), _json(row[2]), _json(row[3]) or {}
        events_announce_on_commit(plan_id=plan_id)
    else:
        with transaction.atomic():
            appended = _event_append(plan_id=plan_id, type="agent.started", agent=agent, running_revision=revision)
            if appended is None:
                return None
            runs = AgentRun.objects.filter(plan_id=plan_id, revision=revision, agent=agent, status__in=STARTABLE)
            if not runs.update(
                status=AgentRunStatus.RUNNING, attempts=F("attempts") + 1, task_id=task_id, started_at=now
            ):
                transaction.set_rollback(True)
                return None
            attempts, depends_on = (
                runs.model.objects.filter(plan_id=plan_id, revision=revision, agent=agent)
                .values_list("attempts", "depends_on")
                .get()
            )
            PlanEvent.objects.filter(plan_id=plan_id, seq=appended.seq).update(payload={"attempt": attempts})
            brief, constraints = appended.brief, appended.constraints
    return RunClaim(
        plan_id=plan_id, revision=revision, agent=agent, attempts=attempts, started_at=now,
        depends_on=list(depends_on or []), brief=brief, constraints=constraints,
    )  # fmt: skip


def agent_run_retrying(*, plan_id: UUID | str, revision: int, agent: str, task_id: str, error: str) -> bool:
    """running → retrying, after a transient error that will be retried; only while `task_id` still
    owns the run (a re-driven copy may have claimed it since)."""
    return (
        _agent_run_move(
            plan_id=plan_id, revision=revision, agent=agent, to=AgentRunStatus.RETRYING, error=error, task_id=task_id
        )
        is not None
    )


def agent_run_finish(
    *,
    plan_id: UUID | str,
    revision: int,
    agent: str,
    status: str,
    result: Mapping[str, Any] | None = None,
    error: str = "",
    dead_letter: Mapping[str, Any] | None = None,
    claim: RunClaim | None = None,
    digests: tuple[str, str] | None = None,
    reused_from: int | None = None,
) -> str | None:
    """running (or retrying) → succeeded | failed | timed_out, storing the result once; a failure that
    carries `dead_letter` (task name, id, reason, traceback, attempts) is kept in the dead-letter store in
    the same transaction. `digests` are the run's (input, output) digests; `reused_from` the earlier run
    whose result this one carries over.

    Returns the run's status as stored: `status` when this call recorded it, what a duplicate recorded
    before, or None when the plan no longer runs this revision.
    """
    if status not in AgentRun.FINISHED:
        raise ValueError(f"{status!r} is not a finished agent status.")
    moved = _agent_run_move(
        plan_id=plan_id, revision=revision, agent=agent, to=status, error=error, result=result,
        dead_letter=dead_letter, claim=claim, digests=digests, reused_from=reused_from,
    )  # fmt: skip
    if moved is not None:
        return status
    return (
        AgentRun.objects.filter(plan_id=plan_id, revision=revision, agent=agent)
        .values_list("status", flat=True)
        .first()
    )


def _agent_run_move(
    *,
    plan_id: UUID | str,
    revision: int,
    agent: str,
    to: str,
    error: str = "",
    result: Mapping[str, Any] | None = None,
    task_id: str | None = None,
    dead_letter: Mapping[str, Any] | None = None,
    claim: RunClaim | None = None,
    digests: tuple[str, str] | None = None,
    reused_from: int | None = None,
) -> str | None:
    """Move a claimed run on; returns `to`, or None when the plan no longer runs this revision or the run
    is not (or no longer) this attempt's to move."""
    now = timezone.now()
    runs = AgentRun.objects.filter(plan_id=plan_id, revision=revision, agent=agent)
    if claim is None:
        claimed = runs.values("attempts", "started_at").first()
        if claimed is None:
            return None
        attempts, started_at = claimed["attempts"], claimed["started_at"]
    else:
        attempts, started_at = claim.attempts, claim.started_at
    values: dict[str, Any] = {"status": to, "error": error[:2000]}
    payload: dict[str, Any] = {"attempt": attempts, **({"error": error[:500]} if error else {})}
    if to in AgentRun.FINISHED:
        values.update(result=dict(result) if result is not None else None, finished_at=now)
        if started_at:
            values["duration_ms"] = payload["duration_ms"] = max(0, int((now - started_at).total_seconds() * 1000))
        if digests:
            values["input_digest"], values["output_digest"] = digests
        if reused_from:
            values["reused_from_id"] = reused_from
            payload["reused"] = True
    if result is not None:
        payload["summary"] = result.get("summary", "")
    movable = [AgentRunStatus.RUNNING] if to == AgentRunStatus.RETRYING else list(AgentRun.UNFINISHED_CLAIMED)
    one_statement = connection.vendor == "postgresql" and not dead_letter  # atomic alone: no transaction
    with nullcontext() if one_statement else transaction.atomic():
        if connection.vendor == "postgresql":
            moved = _run_move_sql(
                plan_id=plan_id, revision=revision, agent=agent, values=values, movable=movable, task_id=task_id,
                event_type=f"agent.{to}", payload=payload, now=now,
            )  # fmt: skip
        else:
            appended = _event_append(
                plan_id=plan_id, type=f"agent.{to}", agent=agent, payload=payload, running_revision=revision
            )
            owned = runs.filter(status__in=movable, **({"task_id": task_id} if task_id is not None else {}))
            moved = appended is not None and bool(owned.update(**values))
        if not moved:
            if not one_statement:
                transaction.set_rollback(True)
            return None
        events_announce_on_commit(plan_id=plan_id)
        if dead_letter:
            dead_letter_record(plan_id=plan_id, agent=agent, args=[str(plan_id)], error=error, **dead_letter)
    return to


# A run's move in one statement that, like the claim, changes nothing unless the run moves: the plan's row
# locked while it runs this revision, then the run (only in a state it may leave, and only this attempt's
# when `owner` says so), then the event numbered and appended.
_MOVE_SQL = """
WITH locked AS (
    SELECT id, revision FROM planning_plan
    WHERE id = %(plan)s::uuid AND status = %(running)s AND revision = %(revision)s
    FOR UPDATE
), moved AS (
    UPDATE planning_agentrun AS run SET {assignments}
    FROM locked
    WHERE run.plan_id = locked.id AND run.revision = locked.revision AND run.agent = %(agent)s
      AND run.status = ANY(%(movable)s){owner}
    RETURNING run.plan_id
), bumped AS (
    UPDATE planning_plan AS plan SET event_seq = plan.event_seq + 1, updated_at = %(now)s
    FROM moved
    WHERE plan.id = moved.plan_id
    RETURNING plan.id, plan.event_seq, plan.revision
)
INSERT INTO planning_planevent (plan_id, seq, revision, type, agent, payload, trace_id, created_at)
SELECT bumped.id, bumped.event_seq, bumped.revision, %(type)s, %(agent)s, %(payload)s::jsonb, %(trace)s, %(now)s
FROM bumped
RETURNING seq
"""


def _run_move_sql(
    *,
    plan_id: UUID | str,
    revision: int,
    agent: str,
    values: Mapping[str, Any],
    movable: list[str],
    task_id: str | None,
    event_type: str,
    payload: Mapping[str, Any],
    now: datetime,
) -> bool:
    """`_agent_run_move` on PostgreSQL: True when the run moved (and its event was appended)."""
    assignments = ", ".join(
        f"{column} = %(set_{column})s" + ("::jsonb" if column == "result" else "") for column in values
    )
    params: dict[str, Any] = {f"set_{column}": value for column, value in values.items()}
    if values.get("result") is not None:
        params["set_result"] = json.dumps(values["result"], cls=DjangoJSONEncoder)
    params.update(
        now=now, plan=str(plan_id), running=PlanStatus.RUNNING, revision=revision, agent=agent, movable=movable,
        task=task_id, type=event_type, payload=json.dumps(dict(payload), cls=DjangoJSONEncoder),
        trace=current_trace_id(),
    )  # fmt: skip
    owner = " AND run.task_id = %(task)s" if task_id is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(_MOVE_SQL.format(assignments=assignments, owner=owner), params)
        return cursor.fetchone() is not None


ABANDONED = "The agent did not finish before the plan was assembled."


def agent_runs_abandon(
    plan_id: UUID, *, revision: int, reason: str = ABANDONED, agents: list[str] | None = None
) -> list[str]:
    """Close a revision's unfinished runs as failed (call with the plan locked); returns their agents.
    `agents` are those runs when the caller has just read them."""
    unfinished = AgentRun.objects.filter(plan_id=plan_id, revision=revision).exclude(status__in=AgentRun.ENDED)
    if agents is None:
        agents = list(unfinished.values_list("agent", flat=True))
    for agent in agents:
        event_append(plan_id=plan_id, type="agent.failed", agent=agent, payload={"error": reason})
    if agents:
        unfinished.update(status=AgentRunStatus.FAILED, error=reason, finished_at=timezone.now())
    return agents


def plan_fail(*, plan_id: UUID, error: str, revision: int | None = None) -> bool:
    """End a plan as failed (e.g. the planner itself could not run), closing its unfinished runs;
    False if it had already ended or (with `revision`) no longer runs that revision."""
    with transaction.atomic():
        locked = plan_lock_values(plan_id)
        if locked is None or locked["status"] in Plan.TERMINAL:
            return False
        if revision is not None and locked["revision"] != revision:
            return False
        agent_runs_abandon(plan_id, revision=locked["revision"])
        plan_transition(plan_id=plan_id, to=PlanStatus.FAILED, payload={"error": error[:500]}, changes={"error": error})
    return True


def plan_lock_values(plan_id: UUID | str) -> dict[str, Any] | None:
    """Lock a plan's row for the rest of the transaction; its status, revision and version (None if gone)."""
    return Plan.objects.select_for_update().filter(pk=plan_id).values("status", "revision", "version").first()


def plan_lock_checked(plan_id: UUID | str, *, expected_version: int | None) -> dict[str, Any]:
    """`plan_lock_values` for a change based on `expected_version` (None: any): raises Plan.DoesNotExist
    for a missing plan and ConcurrentUpdate, with the current version, for a stale one."""
    locked = plan_lock_values(plan_id)
    if locked is None:
        raise Plan.DoesNotExist(f"Plan {plan_id} does not exist.")
    if expected_version is not None and locked["version"] != expected_version:
        raise ConcurrentUpdate(
            f"Plan {plan_id} is at version {locked['version']}, not {expected_version}.",
            current_version=locked["version"],
        )
    return locked


def plan_record(*, owner, text: str, fields: Mapping[str, Any], selection_arm: str = "") -> Plan:
    """A new plan as received, with its revision 1 (call inside the transaction that goes on to analyse it)."""
    plan = Plan.objects.create(owner=owner, request_text=text, request_fields=dict(fields), selection_arm=selection_arm)
    PlanRevision.objects.create(
        plan=plan, number=1, source=RevisionSource.REQUEST, request_fields=dict(fields), author=owner
    )
    plan_bind(plan.id, user_id=owner.pk)
    event_append(plan_id=plan.id, type="plan.received", payload={"text": text, "fields": dict(fields)})
    return plan


def agent_runs_create(
    *,
    plan_id: UUID,
    revision: int,
    graph: Mapping[str, list[str]],
    unavailable: Mapping[str, str],
    reused: Mapping[str, AgentRun] | None = None,
    digests: Mapping[str, str] | None = None,
) -> None:
    """A revision's runs: one pending run per agent of `graph` (agent → every agent it reads), one
    succeeded run per agent of `reused` carrying that earlier run's result over (with an `agent.reused`
    event; `digests` holds their input digests), and one failed run (with its event) per agent of
    `unavailable` (agent → why it cannot run), so that nothing the brief asked for is dropped silently."""
    now = timezone.now()
    reused = reused or {}
    runs = [
        AgentRun(plan_id=plan_id, revision=revision, agent=agent, depends_on=list(deps))
        for agent, deps in graph.items()
    ]
    runs += [
        AgentRun(
            plan_id=plan_id,
            revision=revision,
            agent=agent,
            status=AgentRunStatus.SUCCEEDED,
            depends_on=list(earlier.depends_on),
            result=earlier.result,
            input_digest=(digests or {}).get(agent, ""),
            output_digest=earlier.output_digest,
            reused_from_id=earlier.reused_from_id or earlier.pk,
            started_at=now,
            finished_at=now,
            duration_ms=0,
        )
        for agent, earlier in reused.items()
    ]
    runs += [
        AgentRun(
            plan_id=plan_id, revision=revision, agent=agent, status=AgentRunStatus.FAILED, error=why, finished_at=now
        )
        for agent, why in unavailable.items()
    ]
    AgentRun.objects.bulk_create(runs, ignore_conflicts=True)
    for agent, earlier in reused.items():
        payload = {"from_revision": earlier.revision, "summary": (earlier.result or {}).get("summary", "")}
        event_append(plan_id=plan_id, type="agent.reused", agent=agent, payload=payload)
    for agent, why in unavailable.items():
        event_append(plan_id=plan_id, type="agent.failed", agent=agent, payload={"error": why})


# --- Dispatch outbox ---------------------------------------------------------------------------------


def dispatch_enqueue(
    *,
    plan_id: UUID,
    revision: int,
    graph: Mapping[str, list[str]],
    reason: str,
    attempt: int = 0,
    not_before: datetime | None = None,
    waiting: bool = False,
) -> PlanDispatch:
    """Record the intent to run `graph`'s agents for one revision of a plan; call it in the transaction
    that decides it (a re-drive, retry or replay is recorded as a `plan.redriven` event there too).

    The caller publishes it after commit, unless `not_before` (e.g. when a breaker lets calls through
    again) is still ahead; the sweeper publishes it once it is due and nobody has. A `waiting` dispatch (a
    new plan not admitted yet) is published by neither: it is admitted first (`dispatch_admit`).
    """
    available_at = timezone.now() + timedelta(seconds=settings.PLAN_DISPATCH_GRACE)
    if not_before is not None:
        available_at = max(available_at, not_before)
    if reason not in ("initial", "edit"):
        payload = {"agents": list(graph), "attempt": attempt, "reason": reason}
        event_append(plan_id=plan_id, type="plan.redriven", payload=payload)
    return PlanDispatch.objects.create(
        plan_id=plan_id,
        revision=revision,
        graph={agent: list(deps) for agent, deps in graph.items()},
        reason=reason,
        attempt=attempt,
        available_at=available_at,
        state=DispatchState.WAITING if waiting else DispatchState.PENDING,
    )


ADMISSION_LOCK = 0x706C616E  # "plan": the advisory lock key of admission (with a user id: that user's)


def admission_enabled() -> bool:
    return bool(settings.PLAN_ADMISSION_PER_USER or settings.PLAN_ADMISSION_TOTAL)


def _admission_lock(*, owner_id: int | None) -> None:
    """Take the admission lock until the transaction ends, so that counting the running slots and taking
    one is atomic: one lock for everybody when slots are bounded in all (or for a pass over every user),
    else one per user. A transaction-scoped advisory lock on PostgreSQL; SQLite serialises writers anyway."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if settings.PLAN_ADMISSION_TOTAL or owner_id is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADMISSION_LOCK])
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADMISSION_LOCK, owner_id])


def plan_readmission_decide(*, plan_id: UUID) -> bool:
    """An ended plan runs again (an edit or a retry): it gave its slot up when it ended, so it is admitted
    anew like a new plan, and waits when its owner is at a cap (`plan_admission_decide`)."""
    owner_id = Plan.objects.filter(pk=plan_id).values_list("owner_id", flat=True).get()
    Plan.objects.filter(pk=plan_id).update(admitted_at=None)
    return plan_admission_decide(plan_id=plan_id, owner_id=owner_id)


def plan_admission_decide(*, plan_id: UUID, owner_id: int) -> bool:
    """Whether a new plan may run at once; if so it takes one of its owner's slots (`admitted_at`), else it
    waits (a `plan.waiting` event). Call it last in the transaction that creates the plan: it holds the
    admission lock until commit."""
    now = timezone.now()
    if admission_enabled():
        _admission_lock(owner_id=owner_id)
        if not selectors.admission_may_admit(owner_id=owner_id):
            payload = {"user_cap": selectors.admission_user_cap(), "total_cap": settings.PLAN_ADMISSION_TOTAL or None}
            event_append(plan_id=plan_id, type="plan.waiting", payload=payload)
            return False
    Plan.objects.filter(pk=plan_id).update(admitted_at=now)
    return True


def dispatch_admit(*, owner_id: int | None = None, limit: int = 100) -> list[PlanDispatch]:
    """Admit waiting plans while slots are free, in fair order across users (`selectors.admission_candidates`):
    each takes a slot (`admitted_at`, a `plan.admitted` event) and its dispatch becomes pending. Returns the
    dispatches, for the caller to publish after commit (the sweeper publishes them otherwise).

    With `owner_id` (one of that user's plans ended) only their plans are considered, unless slots are
    bounded in all: then everybody's. Without it (the sweeper), waiting dispatches of plans that ended are
    cancelled and every user is considered. Counting and taking slots happen under the admission lock, so
    caps hold with any number of admitters.
    """
    if settings.PLAN_ADMISSION_TOTAL:
        owner_id = None
    waiting = PlanDispatch.objects.filter(state=DispatchState.WAITING)
    mine = {"plan__owner_id": owner_id, "plan__status": PlanStatus.RUNNING, "plan__admitted_at__isnull": True}
    if not (waiting.filter(**mine) if owner_id else waiting).exists():
        return []
    if settings.PLAN_ADMISSION_TOTAL:
        return _dispatch_admit(owner_id=None, limit=limit)
    if owner_id is not None:
        return _dispatch_admit(owner_id=owner_id, limit=limit)
    waiting.exclude(plan__status=PlanStatus.RUNNING).update(state=DispatchState.CANCELLED)
    return [
        row for owner in selectors.admission_owners_waiting() for row in _dispatch_admit(owner_id=owner, limit=limit)
    ]


def _dispatch_admit(*, owner_id: int | None, limit: int) -> list[PlanDispatch]:
    now = timezone.now()
    with transaction.atomic():
        _admission_lock(owner_id=owner_id)
        if owner_id is None:
            PlanDispatch.objects.filter(state=DispatchState.WAITING).exclude(plan__status=PlanStatus.RUNNING).update(
                state=DispatchState.CANCELLED
            )
        slots = limit
        if settings.PLAN_ADMISSION_TOTAL:
            slots = min(limit, settings.PLAN_ADMISSION_TOTAL - selectors.admission_running_total())
        if slots <= 0:
            return []
        candidates = selectors.admission_candidates(slots=slots, owner_id=owner_id)
        admitted = sorted(
            PlanDispatch.objects.select_for_update(skip_locked=True).filter(
                pk__in=candidates, state=DispatchState.WAITING
            ),
            key=lambda row: candidates.index(row.pk),
        )
        available_at = now + timedelta(seconds=settings.PLAN_DISPATCH_GRACE)
        PlanDispatch.objects.filter(pk__in=[row.pk for row in admitted]).update(
            state=DispatchState.PENDING, available_at=available_at
        )
        Plan.objects.filter(pk__in=[row.plan_id for row in admitted]).update(admitted_at=now)
        for row in admitted:
            waited_ms = int((now - row.created_at).total_seconds() * 1000)
            event_append(plan_id=row.plan_id, type="plan.admitted", payload={"waited_ms": waited_ms})
            row.state, row.available_at = DispatchState.PENDING, available_at
    return admitted


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
        live = [row for row in due if row.plan.status == PlanStatus.RUNNING and row.revision == row.plan.revision]
        PlanDispatch.objects.filter(pk__in=[row.pk for row in live]).update(available_at=now + lease)
        ended = [row.pk for row in due if row not in live]
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


SUPERSEDED = "Superseded by revision {number} before it finished."
REVISABLE = frozenset({PlanStatus.RUNNING, PlanStatus.COMPLETE, PlanStatus.PARTIAL, PlanStatus.FAILED})


class OpenedRevision(NamedTuple):
    number: int
    seq: int  # of its `plan.revised` event
    superseded: bool  # the plan was running (it keeps its admission); else it had ended


def revision_open(
    *,
    plan_id: UUID,
    source: str,
    changes: Mapping[str, Any],
    request_fields: Mapping[str, Any],
    constraints: Mapping[str, Any],
    brief: Mapping[str, Any] | None,
    author=None,
    expected_version: int | None = None,
) -> OpenedRevision:
    """Start a plan's next revision; returns its number, the sequence number of its `plan.revised` event
    (whose payload the caller completes with what the revision runs) and whether it superseded a running
    revision. Call it in the transaction that goes on to create the revision's runs and dispatch.

    An ended plan (complete, partial, failed) runs again; a running one is superseded: its revision is
    marked so, its unfinished runs are cancelled and its pending dispatches dropped, so that its late
    results can never mix into the new revision (its tasks find the revision changed and do nothing).
    Raises ConcurrentUpdate when `expected_version` is stale, IllegalTransition for a cancelled plan.
    """
    locked = plan_lock_checked(plan_id, expected_version=expected_version)
    status, current = locked["status"], locked["revision"]
    if status not in REVISABLE:
        raise IllegalTransition(status, PlanStatus.RUNNING)
    now = timezone.now()
    number = current + 1
    superseded = status == PlanStatus.RUNNING
    if superseded:
        agent_runs_cancel(plan_id=plan_id, revision=current, reason=SUPERSEDED.format(number=number))
        PlanRevision.objects.filter(plan_id=plan_id, number=current).update(
            status=PlanStatus.CANCELLED, superseded=True, finished_at=now
        )
    PlanRevision.objects.create(
        plan_id=plan_id, number=number, source=source, changes=dict(changes), request_fields=dict(request_fields),
        constraints=dict(constraints), brief=dict(brief) if brief is not None else None, author=author,
    )  # fmt: skip
    fields = {
        "revision": number, "brief": dict(brief) if brief is not None else None, "constraints": dict(constraints),
        "request_fields": dict(request_fields), "result": None, "error": "", "finished_at": None,
    }  # fmt: skip
    if superseded:
        Plan.objects.filter(pk=plan_id).update(version=F("version") + 1, **fields)
    else:
        plan_transition(plan_id=plan_id, to=PlanStatus.RUNNING, payload={"revision": number}, changes=fields)
    payload = {
        "revision": number,
        "source": source,
        "changes": dict(changes),
        "superseded": current if superseded else None,
    }
    return OpenedRevision(number, event_append(plan_id=plan_id, type="plan.revised", payload=payload), superseded)


def revision_event_complete(*, plan_id: UUID, number: int, seq: int, reran: list[str], reused: list[str]) -> None:
    """Say in a `plan.revised` event, before it commits, which agents the revision runs and which it reuses."""
    event = PlanEvent.objects.filter(plan_id=plan_id, seq=seq)
    payload = event.values_list("payload", flat=True).get()
    event.update(payload={**payload, "reran": reran, "reused": reused})
    PlanRevision.objects.filter(plan_id=plan_id, number=number).update(reran=reran, reused=reused)


def agent_runs_cancel(*, plan_id: UUID, revision: int, reason: str) -> list[str]:
    """Cancel a revision's unfinished runs and the plan's pending dispatches (call with the plan locked):
    tasks already queued find their run ended and skip; running ones finish, but nothing they return is
    applied. Returns the agents cancelled."""
    unfinished = AgentRun.objects.filter(plan_id=plan_id, revision=revision).exclude(status__in=AgentRun.ENDED)
    agents = list(unfinished.values_list("agent", flat=True))
    unfinished.update(status=AgentRunStatus.CANCELLED, error=reason, finished_at=timezone.now())
    unsent = (DispatchState.PENDING, DispatchState.WAITING)
    PlanDispatch.objects.filter(plan_id=plan_id, state__in=unsent).update(state=DispatchState.CANCELLED)
    return agents


def plan_cancel(*, plan_id: UUID, expected_version: int | None = None) -> list[str]:
    """received | analyzing | running → cancelled: the current revision's unfinished runs are cancelled,
    queued tasks skip, running ones' results are not applied, and the planner leaves the plan alone.
    Returns the agents that were cancelled. Raises IllegalTransition for an ended plan, ConcurrentUpdate
    for a stale `expected_version`, Plan.DoesNotExist for a missing plan."""
    with transaction.atomic():
        locked = plan_lock_checked(plan_id, expected_version=expected_version)
        if PlanStatus.CANCELLED not in Plan.TRANSITIONS[locked["status"]]:
            raise IllegalTransition(locked["status"], PlanStatus.CANCELLED)
        agents = agent_runs_cancel(plan_id=plan_id, revision=locked["revision"], reason="The plan was cancelled.")
        plan_transition(plan_id=plan_id, to=PlanStatus.CANCELLED, payload={"cancelled_agents": agents})
    return agents


CATALOG_PATH = Path(__file__).resolve().parent / "catalog" / "catalog.json"


def catalog_seed(*, data: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Load the catalog (default: the dataset shipped in planning/catalog/), updating rows in place.

    Rows are matched on their natural keys, so running it again changes nothing but what changed.
    Returns how many rows of each kind the dataset holds.
    """
    if data is None:
        data = json.loads(CATALOG_PATH.read_text())
    with transaction.atomic():
        before = catalog_cache.catalog_digest()
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
        # Bulk upserts send no signals: bump the version here, and only when a row changed.
        if catalog_cache.catalog_digest() != before:
            catalog_version_bump()
    return {kind: len(data[kind]) for kind in ("cities", "venues", "themes", "bakeries", "cakes")}


def catalog_version_bump() -> int:
    """Move the catalog to a new version, in the caller's transaction (so the change and its version
    commit together); every process learns it after commit and reloads its cached catalog.

    The new version is the larger of the previous + 1 and the current time in microseconds, so it only
    grows and is never handed out twice, even after a rollback, a flush or a restore of the database.
    """
    new = Greatest(F("version") + 1, Value(time.time_ns() // 1000))
    with transaction.atomic():
        if not CatalogVersion.objects.filter(pk=1).update(version=new):
            _, created = CatalogVersion.objects.get_or_create(pk=1, defaults={"version": time.time_ns() // 1000})
            if not created:
                CatalogVersion.objects.filter(pk=1).update(version=new)
        version = catalog_cache.version_stored()
        transaction.on_commit(partial(catalog_cache.version_publish, version=version))
    return version


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
