"""Selectors: read-only queries for the API, the agents and the planner."""

import datetime
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from . import catalog_cache
from .catalog_cache import CakeRow, ThemeRow, VenueRow, catalog_snapshot
from .models import (
    AgentRun,
    AgentRunStatus,
    DeadLetter,
    DispatchState,
    Feedback,
    FeedbackVerdict,
    Plan,
    PlanDispatch,
    PlanEvent,
    PlanRevision,
    PlanStatus,
)


def plan_list(*, user, columns: Sequence[str] = ()) -> QuerySet:
    """The plans a user may see: their own; with `columns`, rows of only those columns (dicts, as the list
    shows a few and builds no models)."""
    plans = Plan.objects.filter(owner_id=user.pk)
    return plans.values(*columns) if columns else plans


def plan_head(*, plan_id: UUID) -> dict[str, Any] | None:
    """What tells whether a plan's rendering changed, and who may read it: owner, version, last event,
    status, admission (None when there is no such plan)."""
    # Every plan read pays for this query, so it skips the ORM's query building (a quarter of a cached read).
    with connection.cursor() as cursor:
        cursor.execute(_PLAN_HEAD_SQL, [Plan._meta.pk.get_db_prep_value(plan_id, connection)])
        row = cursor.fetchone()
    return None if row is None else dict(zip(_PLAN_HEAD_COLUMNS, row, strict=True))


_PLAN_HEAD_COLUMNS = ("owner_id", "version", "event_seq", "status", "admitted_at")
_PLAN_HEAD_SQL = f"SELECT {', '.join(_PLAN_HEAD_COLUMNS)} FROM {Plan._meta.db_table} WHERE id = %s"


def plan_get(*, user, plan_id: UUID, any_owner: bool = False) -> Plan:
    """One plan with its current revision's agent runs (as `current_runs`): the user's own, or anyone's
    with `any_owner` (support staff).

    Raises Plan.DoesNotExist for a plan the user may not see.
    """
    plans = Plan.objects.all() if any_owner else plan_list(user=user)
    return plan_with_current_runs(plan=plans.get(pk=plan_id))


def plan_get_any(*, plan_id: UUID) -> Plan:
    """A plan with its current revision's agent runs, whoever owns it (the caller has checked who may see it)."""
    return plan_with_current_runs(plan=Plan.objects.get(pk=plan_id))


def plan_with_current_runs(*, plan: Plan) -> Plan:
    """`plan` with its current revision's agent runs loaded (as `current_runs`)."""
    plan.current_runs = list(AgentRun.objects.filter(plan_id=plan.pk, revision=plan.revision).order_by("id"))
    return plan


def plan_revisions(*, plan: Plan) -> QuerySet[PlanRevision]:
    """A plan's revisions, oldest first."""
    return PlanRevision.objects.filter(plan=plan).order_by("number")


def plan_revision_get(*, plan: Plan, number: int) -> PlanRevision:
    """One revision of a plan with its agent runs (as `runs`); raises PlanRevision.DoesNotExist."""
    revision = PlanRevision.objects.get(plan=plan, number=number)
    revision.runs = list(AgentRun.objects.filter(plan=plan, revision=number).order_by("id"))
    return revision


def plan_revision(*, plan_id: UUID | str) -> int:
    """A plan's current revision number (1 for a plan that is gone: its tasks then find nothing to do)."""
    return Plan.objects.filter(pk=plan_id).values_list("revision", flat=True).first() or 1


def plan_events(*, plan_id: UUID, after: int = 0) -> QuerySet[PlanEvent]:
    """A plan's events after sequence number `after`, in order."""
    return PlanEvent.objects.filter(plan_id=plan_id, seq__gt=after).order_by("seq")


def dead_letters() -> QuerySet[DeadLetter]:
    """Every dead letter (newest first), for operators."""
    return DeadLetter.objects.all()


def agent_runs_by_agent(*, plan_id: UUID, revision: int | None = None) -> dict[str, AgentRun]:
    """The agent runs of a plan's revision (default: the current one), keyed by agent name."""
    if revision is None:
        revision = plan_revision(plan_id=plan_id)
    return {run.agent: run for run in AgentRun.objects.filter(plan_id=plan_id, revision=revision)}


def agent_runs_earlier(*, plan_id: UUID, before: int) -> dict[str, list[AgentRun]]:
    """The succeeded runs of a plan's revisions before `before`, per agent, newest first."""
    runs: dict[str, list[AgentRun]] = {}
    rows = AgentRun.objects.filter(plan_id=plan_id, revision__lt=before, status=AgentRunStatus.SUCCEEDED)
    for run in rows.exclude(input_digest="").order_by("-revision"):
        runs.setdefault(run.agent, []).append(run)
    return runs


def agent_run_reusable(*, plan_id: UUID | str, agent: str, input_digest: str, before: int) -> AgentRun | None:
    """The newest succeeded run of `agent` on the plan, in a revision before `before`, that read exactly
    `input_digest`; None when there is none."""
    runs = AgentRun.objects.filter(
        plan_id=plan_id, agent=agent, revision__lt=before, status=AgentRunStatus.SUCCEEDED, input_digest=input_digest
    )
    return runs.only("id", "result", "output_digest", "reused_from_id", "revision").order_by("-revision").first()


def catalog_version() -> int:
    """The catalog's current version (one Redis GET; the database when Redis has none)."""
    return catalog_cache.version_current()


def city_rows(*, version: int | None = None) -> list[tuple[str, str, tuple[str, ...]]]:
    """The catalog's cities as (slug, name, aliases), for the analyzer.

    Like every catalog selector it reads the process's cached catalog at `version` (default: the current
    one; pass the version you already read to save the lookup).
    """
    return [(city.slug, city.name, city.aliases) for city in catalog_snapshot(version=version).cities]


def plans_stalled(*, before: datetime.datetime, limit: int) -> list[UUID]:
    """Running plans with no progress since `before` and no dispatch waiting in the outbox or for admission,
    oldest first. A plan waiting for admission is not stalled: nothing of it was ever handed to the broker."""
    return list(
        Plan.objects.filter(status=PlanStatus.RUNNING, updated_at__lt=before)
        .exclude(dispatches__state__in=(DispatchState.PENDING, DispatchState.WAITING))
        .order_by("updated_at")
        .values_list("id", flat=True)[:limit]
    )


# --- Admission ---------------------------------------------------------------------------------------
# A plan holds one of its owner's running slots from its admission until it ends. Waiting dispatches are
# admitted in fair order: each is given the slot it would take among its owner's (running plans + its turn
# in the owner's queue), the lowest slot first and, among equal slots, the oldest; so users take turns, and
# the one running least goes first (round robin over users, weighted by what each already runs).


def _admission_sql(select: str, *, owner_filter: bool = False) -> str:
    plan, dispatch = Plan._meta.db_table, PlanDispatch._meta.db_table
    owner = "AND p.owner_id = %(owner)s" if owner_filter else ""
    return f"""
        WITH running AS (
            SELECT owner_id, COUNT(*) AS n FROM {plan}
            WHERE status = 'running' AND admitted_at IS NOT NULL GROUP BY owner_id
        ), waiting AS (
            SELECT d.id, d.plan_id, d.created_at, p.owner_id,
                   ROW_NUMBER() OVER (PARTITION BY p.owner_id ORDER BY d.created_at, d.id) AS turn,
                   COUNT(*) OVER (PARTITION BY p.owner_id) AS queued
            FROM {dispatch} d JOIN {plan} p ON p.id = d.plan_id
            WHERE d.state = 'waiting' AND p.status = 'running' {owner}
        ), ordered AS (
            SELECT w.id, w.plan_id, w.owner_id, w.turn, w.queued, COALESCE(r.n, 0) AS running,
                   COALESCE(r.n, 0) + w.turn AS slot,
                   ROW_NUMBER() OVER (ORDER BY COALESCE(r.n, 0) + w.turn, w.created_at, w.id) AS position
            FROM waiting w LEFT JOIN running r ON r.owner_id = w.owner_id
        )
        {select}
    """


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def admission_user_cap() -> int | None:
    """Running plans allowed per user (None: no cap)."""
    return settings.PLAN_ADMISSION_PER_USER or None


def admission_running_total() -> int:
    """Admitted plans that are running, all users together."""
    return Plan.objects.filter(status=PlanStatus.RUNNING, admitted_at__isnull=False).count()


def admission_candidates(*, slots: int, owner_id: int | None = None) -> list[int]:
    """The waiting dispatches to admit now, in fair order: at most `slots`, none beyond its owner's cap."""
    cap = admission_user_cap()
    where = "WHERE slot <= %(cap)s" if cap else ""
    sql = _admission_sql(
        f"SELECT id FROM ordered {where} ORDER BY position LIMIT %(slots)s", owner_filter=bool(owner_id)
    )
    return [row[0] for row in _fetch(sql, {"cap": cap, "slots": slots, "owner": owner_id})]


def admission_owners_waiting() -> list[int]:
    """Users with a running plan waiting for admission."""
    return list(
        PlanDispatch.objects.filter(state=DispatchState.WAITING, plan__status=PlanStatus.RUNNING)
        .values_list("plan__owner_id", flat=True)
        .distinct()
        .order_by("plan__owner_id")
    )


# A user's admitted running plans, and whether any of their plans waits (a waiting dispatch's plan was never
# admitted, so the `plan_waiting` index finds one at once, however long the backlog).
ADMISSION_OWNER_SQL = f"""
    SELECT (SELECT COUNT(*) FROM {Plan._meta.db_table}
            WHERE owner_id = %(owner)s AND status = 'running' AND admitted_at IS NOT NULL),
           EXISTS (SELECT 1 FROM {Plan._meta.db_table} p JOIN {PlanDispatch._meta.db_table} d ON d.plan_id = p.id
                   WHERE p.owner_id = %(owner)s AND p.status = 'running' AND p.admitted_at IS NULL
                     AND d.state = 'waiting')
"""


def admission_may_admit(*, owner_id: int) -> bool:
    """Whether a new plan of `owner_id` may run at once: its owner is under their cap with nothing waiting,
    and (with a global bound) a slot is free that no waiting plan fairly ahead of it should take."""
    running, waiting = _fetch(ADMISSION_OWNER_SQL, {"owner": owner_id})[0]
    cap = admission_user_cap()
    if waiting or (cap is not None and running >= cap):
        return False
    total = settings.PLAN_ADMISSION_TOTAL
    if not total:
        return True
    ahead_sql = _admission_sql("SELECT COUNT(*) FROM ordered WHERE slot <= %(slot)s AND slot <= %(cap)s")
    ahead = _fetch(ahead_sql, {"slot": running + 1, "cap": cap or running + 1})[0][0]
    return admission_running_total() + ahead < total


def plan_admission(*, plan: Plan) -> dict[str, Any] | None:
    """Where a plan stands for admission: `admitted` (with when), `waiting` (with its position in the fair
    order across users, its turn in its owner's queue, and its owner's cap and usage), or None for a plan
    that ended without being admitted."""
    cap = admission_user_cap()
    if plan.admitted_at is not None:
        return {"state": "admitted", "admitted_at": plan.admitted_at, "user_cap": cap}
    if plan.status != PlanStatus.RUNNING:
        return None
    plan_id = Plan._meta.pk.get_db_prep_value(plan.id, connection)
    sql = _admission_sql("SELECT position, turn, queued, running FROM ordered WHERE plan_id = %(plan)s")
    rows = _fetch(sql, {"plan": plan_id})
    if not rows:
        return None
    position, turn, queued, running = rows[0]
    return {
        "state": "waiting",
        "position": position,
        "user_position": turn,
        "user_cap": cap,
        "user_running": running,
        "user_waiting": queued,
    }


def admission_usage(*, owner_id: int) -> dict[str, int | None]:
    """A user's running-plan cap and how much of it is in use, with the global bound and its use."""
    mine = Plan.objects.filter(owner_id=owner_id, status=PlanStatus.RUNNING)
    return {
        "user_cap": admission_user_cap(),
        "user_running": mine.filter(admitted_at__isnull=False).count(),
        "user_waiting": PlanDispatch.objects.filter(
            state=DispatchState.WAITING, plan__in=mine.filter(admitted_at__isnull=True)
        ).count(),
        "total_cap": settings.PLAN_ADMISSION_TOTAL or None,
        "total_running": admission_running_total(),
    }


def catalog_offer(*, version: int | None = None) -> tuple[dict[str, frozenset[str]], int | None]:
    """What the catalog can honour, for the analyzer: the diets some cake offers in each city (by slug),
    and the largest venue's capacity (None without venues)."""
    snapshot = catalog_snapshot(version=version)
    return snapshot.diets_by_city(), snapshot.largest_venue()


def venue_candidates(*, city: str, guests: int, version: int | None = None) -> list[VenueRow]:
    """Venues in a city that can hold `guests` (frozen rows, shared: never change them)."""
    return catalog_snapshot(version=version).venues(city=city, guests=guests)


def theme_candidates(*, version: int | None = None) -> list[ThemeRow]:
    """Every theme; the theme agent filters and ranks them against the brief."""
    return list(catalog_snapshot(version=version).themes)


def cake_candidates(*, city: str, servings: int, version: int | None = None) -> list[CakeRow]:
    """Cakes from bakeries in a city of which one serves at least `servings` (smaller orders pay the minimum)."""
    return catalog_snapshot(version=version).cakes(city=city, servings=servings)


def city_cost_index(*, city: str | None, version: int | None = None) -> float:
    """A city's price level relative to the average (1.0 when unknown)."""
    if not city:
        return 1.0
    value = catalog_snapshot(version=version).cost_index(city=city)
    return value if value is not None else 1.0


def agent_run_status(*, plan_id: UUID | str, revision: int, agent: str) -> str | None:
    """An agent run's status in a revision, or None if the revision has no such run."""
    runs = AgentRun.objects.filter(plan_id=plan_id, revision=revision, agent=agent)
    return runs.values_list("status", flat=True).first()


def agent_run_attempts(*, plan_id: UUID | str, agent: str) -> int:
    """How many attempts an agent's newest run on a plan has made (0 when there is no such run)."""
    runs = AgentRun.objects.filter(plan_id=plan_id, agent=agent).order_by("-revision")
    return runs.values_list("attempts", flat=True).first() or 0


def agent_results(*, plan_id: UUID | str, revision: int, agents: list[str]) -> dict[str, tuple[dict, str]]:
    """The (result, output digest) of those of `agents` that succeeded in a plan's revision."""
    if not agents:
        return {}
    rows = AgentRun.objects.filter(
        plan_id=plan_id, revision=revision, agent__in=agents, status=AgentRunStatus.SUCCEEDED
    ).values_list("agent", "result", "output_digest")
    return {agent: (result, output) for agent, result, output in rows}


def broker_backlog(queue: str | None = None) -> int:
    """Messages waiting in a broker queue (default: the default task queue); 0 for a queue that was
    never declared."""
    from amqp.exceptions import ChannelError

    from partyproject.celery import app

    name = queue or app.conf.task_default_queue
    with app.connection_for_read() as connection:
        try:
            return connection.default_channel.queue_declare(queue=name, passive=True).message_count
        except ChannelError:
            return 0


def arm_outcomes() -> dict[str, dict[str, float | int | None]]:
    """Per selection arm: finished plans, how many were over budget, and the owners' feedback.

    The latest word counts: a later verdict on the same pick, or a later rating of the same plan,
    replaces the earlier one. Rates are None where nothing was measured.
    """
    figures: dict[str, dict[str, Any]] = {}
    finished = Plan.objects.filter(status__in=(PlanStatus.COMPLETE, PlanStatus.PARTIAL))
    for arm, within in finished.values_list("selection_arm", "result__costs__within_budget"):
        entry = figures.setdefault(arm or "", _arm_entry())
        entry["plans"] += 1
        if within is not None:
            entry["budgeted"] += 1
            entry["over_budget"] += within is False
    verdicts: dict[tuple[str, str], tuple[str, str]] = {}
    ratings: dict[str, tuple[str, int]] = {}
    rows = Feedback.objects.order_by("created_at", "id").values_list("plan_id", "arm", "pick", "verdict", "rating")
    for plan_id, arm, pick, verdict, rating in rows:
        if verdict:
            verdicts[(str(plan_id), pick)] = (arm, verdict)
        if rating is not None:
            ratings[str(plan_id)] = (arm, rating)
    for arm, verdict in verdicts.values():
        entry = figures.setdefault(arm, _arm_entry())
        entry["verdicts"] += 1
        entry["accepted"] += verdict == FeedbackVerdict.ACCEPT
    for arm, rating in ratings.values():
        entry = figures.setdefault(arm, _arm_entry())
        entry["ratings"] += 1
        entry["rating_sum"] += rating
    return {arm: _arm_rates(entry) for arm, entry in sorted(figures.items())}


def _arm_entry() -> dict[str, int]:
    return {"plans": 0, "budgeted": 0, "over_budget": 0, "verdicts": 0, "accepted": 0, "ratings": 0, "rating_sum": 0}


def _arm_rates(entry: dict[str, int]) -> dict[str, float | int | None]:
    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 3) if whole else None

    return {
        "plans": entry["plans"],
        "acceptance_rate": rate(entry["accepted"], entry["verdicts"]),
        "verdicts": entry["verdicts"],
        "mean_rating": rate(entry["rating_sum"], entry["ratings"]),
        "ratings": entry["ratings"],
        "over_budget_rate": rate(entry["over_budget"], entry["budgeted"]),
    }
