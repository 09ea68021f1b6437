"""Orchestration: how a plan moves through the agents — accepted and analysed, dispatched through the
outbox, finalized by the FinalPlanner, rescued when Celery kills an agent, re-driven when it stalls, and
retried or replayed. The records and their state changes are `planning.services`'; this module decides
what happens next and talks to the broker.
"""

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

import pybreaker
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from partyproject.logs import plan_bind
from partyproject.tracing import plan_span
from planning import selectors
from planning import services as records
from planning.models import (
    AgentRun,
    AgentRunStatus,
    DeadLetter,
    Plan,
    PlanDispatch,
    PlanRevision,
    PlanStatus,
    RevisionSource,
)

from . import flags
from .analyzer import Brief, CatalogLimits, CityRef, InputAnalyzer, load_rules
from .analyzer.classifier import classifier_for
from .breaker import breaker_fresh
from .digests import input_digest
from .errors import TRANSIENT_ERRORS
from .graph import topological_order
from .pipeline import pipeline_dispatch
from .planner import AgentOutcome, FinalPlanner
from .registry import agent_classes, agent_names
from .strategies import arm_for_owner, strategy_get

logger = logging.getLogger(__name__)

BROKER_AWAY = "The broker is unavailable; the plan waits in the outbox."
KILLED = "The agent's task was stopped by the worker (hard time limit or lost worker) before it finished."


def analyzer_build() -> InputAnalyzer:
    """An InputAnalyzer with the configured rules and classifier, the catalog's cities and what it offers.

    Built once per process for each rules file version, catalog version, day and classifier (an analyzer
    does not change once built), so a request pays only the catalog version's read.
    """
    rules = load_rules(settings.ANALYZER_RULES_PATH)
    identity = (id(rules), selectors.catalog_version(), timezone.localdate(), settings.ANALYZER_CLASSIFIER)
    with _analyzers_lock:
        built = _analyzers.get(identity)
    if built is not None and built[0] is rules:
        return built[1]
    analyzer = _analyzer_new(rules=rules, version=identity[1], today=identity[2], classifier=identity[3])
    with _analyzers_lock:
        _analyzers[identity] = (rules, analyzer)
        while len(_analyzers) > 4:
            _analyzers.pop(next(iter(_analyzers)))
    return analyzer


_analyzers: dict[tuple, tuple[Any, InputAnalyzer]] = {}
_analyzers_lock = threading.Lock()


def _analyzer_new(*, rules, version: int, today, classifier: str) -> InputAnalyzer:
    cities = [
        CityRef(slug=slug, name=name, aliases=tuple(aliases or ()))
        for slug, name, aliases in selectors.city_rows(version=version)
    ]
    diets_by_city, largest = selectors.catalog_offer(version=version)
    anywhere = frozenset().union(*diets_by_city.values())
    return InputAnalyzer(
        rules=rules,
        cities=cities,
        catalog=CatalogLimits(dietary_options=anywhere or None, max_guests=largest, dietary_by_city=diets_by_city),
        today=today,
        classifier=classifier_for(classifier, rules),
    )


def plan_create(*, owner, text: str = "", fields: Mapping[str, Any] | None = None) -> Plan:
    """Persist a party request, analyse it and record the intent to run its agents, in one transaction;
    after commit the chord is published (or left in the outbox for the sweeper if the broker is away).

    Either the plan exists with its brief, agent runs, events and dispatch, or nothing was written:
    a request beyond the analyzer's limits raises BriefOutOfRange and leaves no trace.
    """
    request_fields = {key: value for key, value in (fields or {}).items() if value not in (None, "", [])}
    with transaction.atomic():
        plan = records.plan_record(owner=owner, text=text, fields=request_fields, selection_arm=arm_for_owner(owner.pk))
        plan_analyze(plan_id=plan.id, plan=plan)
    plan.refresh_from_db()
    return plan


def plan_analyze(*, plan_id: UUID, plan: Plan | None = None) -> Brief:
    """received → analyzing → running: write the brief and one pending run per agent of revision 1, and
    enqueue the dispatch. An agent the brief names but nobody registered fails at once, with the reason."""
    with transaction.atomic(savepoint=False):
        if plan is None:
            plan = Plan.objects.get(pk=plan_id)
        records.plan_transition(plan_id=plan_id, to=PlanStatus.ANALYZING, known=plan)
        brief = brief_analyze(text=plan.request_text, fields=plan.request_fields)
        unavailable, graph = _agents_available(brief)
        records.agent_runs_create(plan_id=plan_id, revision=1, graph=graph, unavailable=unavailable)
        records.plan_transition(
            plan_id=plan_id,
            to=PlanStatus.RUNNING,
            payload={"brief": brief.to_dict()},
            changes={"brief": brief.to_dict()},
            known=plan,
        )
        PlanRevision.objects.filter(plan_id=plan_id, number=1).update(brief=brief.to_dict(), reran=list(graph))
        admitted = records.plan_admission_decide(plan_id=plan_id, owner_id=plan.owner_id)
        dispatch_enqueue(plan_id=plan_id, revision=1, graph=graph, reason="initial", waiting=not admitted)
    return brief


def brief_analyze(*, text: str, fields: Mapping[str, Any]) -> Brief:
    """The brief for a request, without the agents switched off by flags; raises BriefOutOfRange."""
    return flags.brief_without_disabled(analyzer_build().analyze(text=text, fields=fields))


def _agents_available(brief: Brief) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The brief's agents nobody registered (agent → why), and the others' dependency graph."""
    registered = set(agent_names())
    unavailable = {
        agent: f"No agent named {agent!r} is registered." for agent in brief.agents if agent not in registered
    }
    graph = {
        agent: [dep for dep in brief.graph[agent] if dep not in unavailable]
        for agent in brief.agents
        if agent not in unavailable
    }
    return unavailable, graph


def dispatch_enqueue(
    *,
    plan_id: UUID,
    revision: int,
    graph: Mapping[str, list[str]],
    reason: str,
    attempt: int = 0,
    not_before: datetime | None = None,
    waiting: bool = False,
) -> None:
    """Write a dispatch into the outbox and publish it right after commit (best effort: the sweeper
    publishes whatever this could not, and what must wait until `not_before`). A `waiting` one (a plan not
    admitted yet) is published once admitted."""
    dispatch = records.dispatch_enqueue(
        plan_id=plan_id, revision=revision, graph=graph, reason=reason, attempt=attempt, not_before=not_before,
        waiting=waiting,
    )  # fmt: skip
    if not waiting and (not_before is None or not_before <= timezone.now()):
        transaction.on_commit(lambda: dispatch_publish(dispatch=dispatch), robust=True)


def dispatch_admit(*, owner_id: int | None = None) -> int:
    """Admit the waiting plans that may run now (fair order, caps) and publish them; returns how many.
    With `owner_id`: one of that user's plans has just ended."""
    admitted = records.dispatch_admit(owner_id=owner_id)
    for dispatch in admitted:
        transaction.on_commit(partial(dispatch_publish, dispatch=dispatch), robust=True)
    return len(admitted)


def dispatch_admit_after_end(*, owner_id: int, **_: Any) -> None:
    """A plan has ended (`planning.signals.plan_ended`): let a waiting plan take its slot now. A failure
    here costs only time: the sweeper admits within PLAN_DISPATCH_SWEEP_INTERVAL."""
    try:
        dispatch_admit(owner_id=owner_id)
    except Exception:
        logger.warning("Could not admit waiting plans after a plan of user %s ended", owner_id, exc_info=True)


def _dispatch_breaker() -> pybreaker.CircuitBreaker:
    """This process's breaker around publishing: after a failed publish, skip the broker for a while."""
    global _breaker
    if _breaker is None:
        _breaker = pybreaker.CircuitBreaker(
            fail_max=1,
            reset_timeout=settings.PLAN_DISPATCH_BREAKER_RESET,
            throw_new_error_on_trip=False,
            name="broker.publish",
        )
    return _breaker


_breaker: pybreaker.CircuitBreaker | None = None


def dispatch_publish(*, dispatch: PlanDispatch, force: bool = False) -> bool:
    """Publish one dispatch's chord and mark it sent; False (and left pending, to try again later) when
    the broker cannot take it. While this process's publish breaker is open only `force` (the sweeper)
    tries, so that requests made during a broker outage answer at their normal speed."""
    if not dispatch.graph:
        records.dispatch_mark_sent(dispatch=dispatch)
        return True
    breaker = _dispatch_breaker()
    try:
        with plan_span("plan.dispatch", plan_id=dispatch.plan_id, reason=dispatch.reason):
            if force:
                pipeline_dispatch(plan_id=str(dispatch.plan_id), revision=dispatch.revision, graph=dispatch.graph)
                breaker.close()
            else:
                breaker.call(
                    pipeline_dispatch, plan_id=str(dispatch.plan_id), revision=dispatch.revision, graph=dispatch.graph
                )
    except pybreaker.CircuitBreakerError:
        records.dispatch_mark_failed(
            dispatch=dispatch, error="The broker is unavailable; the plan waits in the outbox."
        )
        return False
    except Exception as exc:  # noqa: BLE001 - whatever the broker raised, the dispatch stays in the outbox
        logger.warning("Could not publish the %s dispatch of plan %s: %s", dispatch.reason, dispatch.plan_id, exc)
        if force:
            breaker.open()
        records.dispatch_mark_failed(dispatch=dispatch, error=f"{type(exc).__name__}: {exc}")
        return False
    records.dispatch_mark_sent(dispatch=dispatch)
    return True


def dispatch_sweep(*, limit: int = 200) -> dict[str, int]:
    """Admit the waiting plans that may run now, then publish the outbox's due dispatches (just admitted,
    the broker was down, or the process that wrote them died before publishing). Stops at the first
    failure: the broker is most likely still away."""
    counts = {"admitted": dispatch_admit(), "due": 0, "sent": 0, "failed": 0}
    lease = timedelta(seconds=settings.PLAN_DISPATCH_GRACE)
    for dispatch in records.dispatch_claim_due(limit=limit, lease=lease):
        counts["due"] += 1
        if dispatch_publish(dispatch=dispatch, force=True):
            counts["sent"] += 1
        else:
            counts["failed"] += 1
            break
    return counts


def plan_finalize(*, plan_id: UUID, revision: int | None = None) -> Plan | None:
    """The FinalPlanner's step: aggregate the current revision's agent runs into the plan and end it.

    One transaction under the plan's lock: runs that never finished are closed as failed, so the
    plan comes out partial, and no agent can change in between. Calling it again on an ended plan, or
    for a revision the plan no longer runs (`revision`, from a superseded chord), changes nothing; a
    plan that no longer exists gives None.
    """
    with transaction.atomic():
        plan = Plan.objects.select_for_update().filter(pk=plan_id).first()
        if plan is None or plan.status != PlanStatus.RUNNING or revision not in (None, plan.revision):
            return plan
        runs = list(AgentRun.objects.filter(plan_id=plan_id, revision=plan.revision))
        unfinished = [run for run in runs if not run.is_finished]
        if unfinished:
            abandoned = [run.agent for run in unfinished]
            records.agent_runs_abandon(plan_id, revision=plan.revision, agents=abandoned)
            for run in unfinished:
                run.status, run.error = AgentRunStatus.FAILED, records.ABANDONED
        outcomes = {run.agent: AgentOutcome(status=run.status, result=run.result, error=run.error) for run in runs}
        final = FinalPlanner(strategy=strategy_get(plan.selection_arm)).build(
            brief=Brief.from_dict(plan.brief), outcomes=outcomes, constraints=plan.constraints
        )
        records.plan_transition(
            plan_id=plan_id,
            to=final["status"],
            payload={"total_cost": final["costs"]["total"], "missing": final["missing"], "revision": plan.revision},
            changes={"result": final},
            known=plan,
        )
    return plan


def plan_rescue(*, plan_id: UUID, revision: int | None = None) -> Plan | None:
    """The chord's error callback: a header task ended in FAILURE (Celery killed it at its hard time
    limit, or its worker was lost for good), so the FinalPlanner will never run. Close the runs that
    were stopped and finalize the plan from the database at once."""
    with transaction.atomic():
        locked = records.plan_lock_values(plan_id)
        if locked is None or locked["status"] != PlanStatus.RUNNING:
            return Plan.objects.filter(pk=plan_id).first()
        if revision is not None and locked["revision"] != revision:
            return Plan.objects.filter(pk=plan_id).first()
        stopped = records.agent_runs_abandon(plan_id, revision=locked["revision"], reason=KILLED)
        if stopped:
            logger.warning("Plan %s: %s stopped by the worker; finalizing now", plan_id, ", ".join(stopped))
    return plan_finalize(plan_id=plan_id, revision=revision)


def plan_reconcile(
    *, stalled_after: timedelta, max_redrives: int, max_backlog: int | None = None, limit: int = 100
) -> dict[str, int]:
    """Drive on the plans that stopped making progress; the database is the source of truth.

    A plan is stalled when it is running, nothing has happened to it for `stalled_after`, and it has no
    dispatch waiting in the outbox (a message lost with the broker's queues, a worker killed past its
    redelivery). If all its runs have finished it is finalized; otherwise a new dispatch runs only the
    unfinished agents. After `max_redrives` attempts the plan is finalized with what it has. While the
    broker's backlog is over `max_backlog` no plan is re-driven (its messages are most likely waiting).

    Each plan is handled in its own short transaction, and a plan another process holds is skipped,
    never waited for. Running out of time (the task's soft limit) stops the loop; it fails no plan.
    """
    counts = {"stalled": 0, "redriven": 0, "finalized": 0, "skipped": 0, "deferred": 0, "errors": 0}
    stalled = selectors.plans_stalled(before=timezone.now() - stalled_after, limit=limit)
    counts["stalled"] = len(stalled)
    if stalled and max_backlog is not None and selectors.broker_backlog() > max_backlog:
        counts["deferred"] = len(stalled)
        return counts
    for plan_id in stalled:
        try:
            outcome = plan_redrive(plan_id=plan_id, stalled_after=stalled_after, max_redrives=max_redrives)
        except SoftTimeLimitExceeded:
            logger.warning("The reconciler ran out of time; the remaining plans wait for its next run")
            break
        except TRANSIENT_ERRORS:
            logger.warning("The reconciler could not drive plan %s now; it will try again", plan_id, exc_info=True)
            outcome = "errors"
        except Exception as exc:
            logger.exception("The reconciler could not drive plan %s", plan_id)
            records.plan_fail(plan_id=plan_id, error=f"The reconciler could not finish the plan: {exc}")
            outcome = "errors"
        counts[outcome] += 1
    return counts


def plan_redrive(*, plan_id: UUID, stalled_after: timedelta, max_redrives: int) -> str:
    """Re-enqueue a stalled plan's unfinished agents ("redriven"); finalize it instead when none are
    left or it has been re-driven `max_redrives` times ("finalized"). A plan that made progress within
    `stalled_after * 2**redrives` (re-drives so far), or that another process holds locked, is left
    alone ("skipped")."""
    with transaction.atomic():
        status = (
            Plan.objects.select_for_update(skip_locked=True).filter(pk=plan_id).values_list("status", flat=True).first()
        )
        if status != PlanStatus.RUNNING:
            return "skipped"
        redrives = PlanDispatch.objects.filter(plan_id=plan_id, reason="redrive").count()
        quiet_since = timezone.now() - stalled_after * 2**redrives
        if Plan.objects.filter(pk=plan_id, updated_at__gte=quiet_since).exists():
            return "skipped"
        revision = selectors.plan_revision(plan_id=plan_id)
        runs = selectors.agent_runs_by_agent(plan_id=plan_id, revision=revision)
        unfinished = [agent for agent, run in runs.items() if not run.is_finished]
        if not unfinished or redrives >= max_redrives:
            plan_finalize(plan_id=plan_id)
            return "finalized"
        graph = {agent: [dep for dep in runs[agent].depends_on if dep in unfinished] for agent in unfinished}
        Plan.objects.filter(pk=plan_id).update(updated_at=timezone.now())
        dispatch_enqueue(plan_id=plan_id, revision=revision, graph=graph, reason="redrive", attempt=redrives + 1)
    return "redriven"


@dataclass(frozen=True)
class RevisionOutcome:
    """A new revision: its number, the agents dispatched and those carried over, and when the dispatch
    may go out (None: at once)."""

    number: int
    reran: list[str]
    reused: list[str]
    waits_until: datetime | None = None


def plan_revise(
    *,
    plan_id: UUID,
    source: str,
    changes: Mapping[str, Any],
    request_fields: Mapping[str, Any],
    constraints: Mapping[str, Any],
    brief: Brief,
    forced: frozenset[str] = frozenset(),
    author=None,
    expected_version: int | None = None,
    not_before: datetime | None = None,
) -> RevisionOutcome:
    """Open a plan's next revision and run only what it needs: every agent whose inputs are unchanged
    since an earlier revision's successful run carries that result over; the others (and those in
    `forced`) run again in a chord of just them. An agent downstream of one that re-runs is dispatched,
    and still stops early at run time when what it reads turns out unchanged. When nothing needs to run,
    the plan is assembled at once. A running plan keeps its admission; an ended one that runs again is
    admitted anew and may wait for a slot.

    Raises ConcurrentUpdate (stale `expected_version`), IllegalTransition (a cancelled plan) and
    Plan.DoesNotExist.
    """
    plan_bind(plan_id)
    with transaction.atomic():
        number, revised_seq, superseded = records.revision_open(
            plan_id=plan_id, source=source, changes=changes, request_fields=request_fields,
            constraints=constraints, brief=brief.to_dict(), author=author, expected_version=expected_version,
        )  # fmt: skip
        unavailable, graph = _agents_available(brief)
        rerun, reused, digests = _runs_decide(
            plan_id=plan_id, number=number, brief=brief, constraints=constraints, graph=graph, forced=forced
        )
        records.agent_runs_create(
            plan_id=plan_id, revision=number, graph={agent: graph[agent] for agent in rerun},
            unavailable=unavailable, reused=reused, digests=digests,
        )  # fmt: skip
        records.revision_event_complete(
            plan_id=plan_id, number=number, seq=revised_seq, reran=rerun, reused=sorted(reused)
        )
        if rerun:
            chord_graph = {agent: [dep for dep in graph[agent] if dep in rerun] for agent in rerun}
            attempt = PlanDispatch.objects.filter(plan_id=plan_id).count()
            if superseded:  # still running: it keeps its slot, or its place in the queue
                waiting = Plan.objects.filter(pk=plan_id, admitted_at__isnull=True).exists()
            else:
                waiting = not records.plan_readmission_decide(plan_id=plan_id)
            dispatch_enqueue(
                plan_id=plan_id, revision=number, graph=chord_graph, reason=source, attempt=attempt,
                not_before=not_before, waiting=waiting,
            )  # fmt: skip
        else:
            plan_finalize(plan_id=plan_id, revision=number)
    waits = not_before if not_before is not None and not_before > timezone.now() else None
    return RevisionOutcome(number=number, reran=rerun, reused=sorted(reused), waits_until=waits)


def _runs_decide(
    *,
    plan_id: UUID,
    number: int,
    brief: Brief,
    constraints: Mapping[str, Any],
    graph: Mapping[str, list[str]],
    forced: frozenset[str],
) -> tuple[list[str], dict[str, AgentRun], dict[str, str]]:
    """Which of `graph`'s agents run again (in order), which carry an earlier run over, and the input
    digests of the latter. An agent is decided here only when everything it reads is known: agents
    downstream of a re-run are dispatched too (they may still stop early when they run)."""
    classes = agent_classes()
    earlier = selectors.agent_runs_earlier(plan_id=plan_id, before=number)
    catalog = selectors.catalog_version()
    brief_data = brief.to_dict()
    outputs: dict[str, str] = {}
    rerun: list[str] = []
    reused: dict[str, AgentRun] = {}
    digests: dict[str, str] = {}
    for agent in topological_order(graph):
        if agent in forced or any(dep in rerun for dep in graph[agent]):
            rerun.append(agent)
            continue
        wanted = input_digest(
            agent_class=classes[agent], brief=brief_data, constraints=constraints,
            upstream={dep: outputs[dep] for dep in graph[agent]}, catalog_version=catalog,
        )  # fmt: skip
        match = next((run for run in earlier.get(agent, []) if run.input_digest == wanted), None)
        if match is None:
            rerun.append(agent)
            continue
        reused[agent], digests[agent], outputs[agent] = match, wanted, match.output_digest
    return rerun, reused, digests


EDITABLE_FIELDS = (
    "party_type", "guest_count", "date", "city", "budget", "dietary_needs", "theme_preferences", "age_group", "setting",
)  # fmt: skip


def plan_edit(
    *,
    plan_id: UUID,
    author,
    fields: Mapping[str, Any] | None = None,
    pin: Mapping[str, int | None] | None = None,
    exclude: Mapping[str, list[int]] | None = None,
    expected_version: int | None = None,
) -> RevisionOutcome:
    """Change a plan's brief fields and/or its pins and exclusions, and re-plan incrementally (a new
    revision; see `plan_revise`). Fields replace the request's; a pin keeps one option of a category
    (None lifts it); exclusions add to those in force. Raises BriefOutOfRange for fields beyond the
    analyzer's limits, besides what `plan_revise` raises."""
    fields = {key: value for key, value in (fields or {}).items() if key in EDITABLE_FIELDS}
    plan = Plan.objects.only("request_text", "request_fields", "constraints").get(pk=plan_id)
    request_fields = {**plan.request_fields, **fields}
    request_fields = {key: value for key, value in request_fields.items() if value not in (None, "", [])}
    brief = brief_analyze(text=plan.request_text, fields=request_fields)
    constraints = constraints_merge(plan.constraints, pin=pin or {}, exclude=exclude or {})
    changes = {
        key: value
        for key, value in {"fields": dict(fields), "pin": dict(pin or {}), "exclude": dict(exclude or {})}.items()
        if value
    }
    return plan_revise(
        plan_id=plan_id, source=RevisionSource.EDIT, changes=changes, request_fields=request_fields,
        constraints=constraints, brief=brief, author=author, expected_version=expected_version,
    )  # fmt: skip


def constraints_merge(
    current: Mapping[str, Any], *, pin: Mapping[str, int | None], exclude: Mapping[str, list[int]]
) -> dict[str, Any]:
    """The plan's pins and exclusions after an edit, in a canonical form (sorted, no empty entries)."""
    pins = {**current.get("pin", {}), **pin}
    pins = {category: value for category, value in sorted(pins.items()) if value is not None}
    excluded = {category: set(ids) for category, ids in current.get("exclude", {}).items()}
    for category, ids in exclude.items():
        excluded.setdefault(category, set()).update(ids)
    excluded_sorted = {category: sorted(ids) for category, ids in sorted(excluded.items()) if ids}
    return {key: value for key, value in (("pin", pins), ("exclude", excluded_sorted)) if value}


def plan_cancel(*, plan_id: UUID, expected_version: int | None = None) -> list[str]:
    """Cancel a plan that has not ended (see planning.services.plan_cancel); returns the agents stopped."""
    return records.plan_cancel(plan_id=plan_id, expected_version=expected_version)


class NothingToRetry(Exception):
    """A retry was asked of a plan that has no failed or timed-out agent to run again."""


def plan_retry(
    *,
    plan_id: UUID,
    agents: list[str] | None = None,
    reason: str = RevisionSource.RETRY,
    author=None,
    expected_version: int | None = None,
) -> RevisionOutcome:
    """Run a partial or failed plan's failed or timed-out agents again (all of them, or those of
    `agents`) in a new revision that carries every other result over; the FinalPlanner then assembles
    the plan anew. The dispatch waits until the agents' circuit breakers let calls through again.

    Raises IllegalTransition for a plan that is not partial or failed, NothingToRetry when none of the
    agents failed.
    """
    plan = Plan.objects.only("status", "revision", "brief", "request_fields", "constraints").get(pk=plan_id)
    if plan.status not in (PlanStatus.PARTIAL, PlanStatus.FAILED):
        raise records.IllegalTransition(plan.status, PlanStatus.RUNNING)
    failed = {
        agent
        for agent, run in selectors.agent_runs_by_agent(plan_id=plan_id, revision=plan.revision).items()
        if run.status in (AgentRunStatus.FAILED, AgentRunStatus.TIMED_OUT) and (agents is None or agent in agents)
    }
    registered = set(agent_names())
    if not failed & registered:
        raise NothingToRetry("None of the plan's agents failed." if agents is None else "None of those agents failed.")
    return plan_revise(
        plan_id=plan_id, source=reason, changes={"agents": sorted(failed)}, request_fields=plan.request_fields,
        constraints=plan.constraints, brief=Brief.from_dict(plan.brief), forced=frozenset(failed), author=author,
        expected_version=expected_version, not_before=breakers_closed_at(sorted(failed & registered)),
    )  # fmt: skip


def breakers_closed_at(agents: list[str]) -> datetime | None:
    """When the circuit breakers of `agents` let calls through again (None when all are closed now)."""
    latest = None
    for agent in agents:
        breaker = breaker_fresh(f"catalog.{agent}")
        if breaker.current_state != pybreaker.STATE_OPEN:
            continue
        opened_at = breaker._state_storage.opened_at
        if opened_at is None:
            continue
        if opened_at.tzinfo is None:
            opened_at = opened_at.replace(tzinfo=UTC)
        at = opened_at + timedelta(seconds=breaker.reset_timeout)
        latest = at if latest is None else max(latest, at)
    return latest


def dead_letter_replay(*, dead_letter_id: int, actor=None) -> str:
    """Replay a dead letter once: an agent's letter re-runs that agent on its plan (through a retry
    when the plan has ended, or a re-drive when it still runs); any other task is sent again with its
    arguments. A letter already replayed is not replayed again. Returns what was done."""
    letter = records.dead_letter_claim(dead_letter_id=dead_letter_id, actor=actor)
    if letter is None:
        return "already replayed"
    outcome = _replay(letter)
    records.dead_letter_outcome(dead_letter_id=dead_letter_id, outcome=outcome)
    return outcome


def _replay(letter: DeadLetter) -> str:
    from .tasks import app

    if letter.agent and letter.plan_id:
        status = Plan.objects.filter(pk=letter.plan_id).values_list("status", flat=True).first()
        if status in (PlanStatus.PARTIAL, PlanStatus.FAILED):
            try:
                outcome = plan_retry(plan_id=letter.plan_id, agents=[letter.agent], reason=RevisionSource.REPLAY)
            except NothingToRetry:
                return "nothing to re-run: the agent has no failure"
            return f"re-ran {', '.join(outcome.reran)} on the plan (revision {outcome.number})"
        return f"nothing to do: the plan is {status or 'gone'}"
    app.send_task(letter.task_name, args=letter.args, kwargs=letter.kwargs)
    return f"re-sent {letter.task_name}"
