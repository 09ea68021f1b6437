"""Selectors: read-only queries for the API, the agents and the planner."""

import datetime
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.db.models import Max, Prefetch, QuerySet

from .models import (
    AgentRun,
    AgentRunStatus,
    Cake,
    City,
    DeadLetter,
    DispatchState,
    Feedback,
    FeedbackVerdict,
    Plan,
    PlanEvent,
    PlanStatus,
    Theme,
    Venue,
)


def plan_list(*, user, columns: Sequence[str] = ()) -> QuerySet[Plan]:
    """The plans a user may see: their own; with `columns`, only those are read (the list shows a few)."""
    plans = Plan.objects.filter(owner_id=user.pk)
    return plans.only(*columns) if columns else plans


def plan_head(*, plan_id: UUID) -> dict[str, Any] | None:
    """What tells whether a plan's rendering changed, and who may read it: owner, version, last event,
    status (None when there is no such plan)."""
    return Plan.objects.filter(pk=plan_id).values("owner_id", "version", "event_seq", "status").first()


def plan_get(*, user, plan_id: UUID, any_owner: bool = False) -> Plan:
    """One plan with its agent runs: the user's own, or anyone's with `any_owner` (support staff).

    Raises Plan.DoesNotExist for a plan the user may not see.
    """
    runs = Prefetch("agent_runs", queryset=AgentRun.objects.order_by("id"))
    plans = Plan.objects.all() if any_owner else plan_list(user=user)
    return plans.prefetch_related(runs).get(pk=plan_id)


def plan_get_any(*, plan_id: UUID) -> Plan:
    """A plan with its agent runs, whoever owns it (the caller has checked who may see it)."""
    runs = Prefetch("agent_runs", queryset=AgentRun.objects.order_by("id"))
    return Plan.objects.prefetch_related(runs).get(pk=plan_id)


def plan_events(*, plan_id: UUID, after: int = 0) -> QuerySet[PlanEvent]:
    """A plan's events after sequence number `after`, in order."""
    return PlanEvent.objects.filter(plan_id=plan_id, seq__gt=after).order_by("seq")


def dead_letters() -> QuerySet[DeadLetter]:
    """Every dead letter (newest first), for operators."""
    return DeadLetter.objects.all()


def agent_runs_by_agent(*, plan_id: UUID) -> dict[str, AgentRun]:
    """Every agent run of a plan, keyed by agent name."""
    return {run.agent: run for run in AgentRun.objects.filter(plan_id=plan_id)}


def city_rows() -> list[tuple[str, str, list[str]]]:
    """The catalog's cities as (slug, name, aliases), for the analyzer."""
    return list(City.objects.values_list("slug", "name", "aliases"))


def plans_stalled(*, before: datetime.datetime, limit: int) -> list[UUID]:
    """Running plans with no progress since `before` and no dispatch waiting in the outbox, oldest first."""
    return list(
        Plan.objects.filter(status=PlanStatus.RUNNING, updated_at__lt=before)
        .exclude(dispatches__state=DispatchState.PENDING)
        .order_by("updated_at")
        .values_list("id", flat=True)[:limit]
    )


def catalog_offer() -> tuple[dict[str, frozenset[str]], int | None]:
    """What the catalog can honour, for the analyzer: the diets some cake offers in each city (by slug),
    and the largest venue's capacity (None without venues)."""
    diets: dict[str, set[str]] = {}
    for city, options in Cake.objects.values_list("bakery__city__slug", "dietary"):
        diets.setdefault(city, set()).update(options or ())
    largest = Venue.objects.aggregate(largest=Max("capacity"))["largest"]
    return {city: frozenset(options) for city, options in diets.items()}, largest


def venue_candidates(*, city: str, guests: int) -> list[Venue]:
    """Venues in a city that can hold `guests`."""
    return list(
        Venue.objects.filter(city__slug=city, capacity__gte=guests, min_guests__lte=guests).select_related("city")
    )


def theme_candidates() -> list[Theme]:
    """Every theme; the theme agent filters and ranks them against the brief."""
    return list(Theme.objects.all())


def cake_candidates(*, city: str, servings: int) -> list[Cake]:
    """Cakes from bakeries in a city of which one serves at least `servings` (smaller orders pay the minimum)."""
    return list(Cake.objects.filter(bakery__city__slug=city, max_servings__gte=servings).select_related("bakery__city"))


def city_cost_index(*, city: str | None) -> float:
    """A city's price level relative to the average (1.0 when unknown)."""
    if not city:
        return 1.0
    value = City.objects.filter(slug=city).values_list("cost_index", flat=True).first()
    return float(value) if value is not None else 1.0


def agent_run_status(*, plan_id: UUID, agent: str) -> str | None:
    """An agent run's status, or None if the plan has no such run."""
    return AgentRun.objects.filter(plan_id=plan_id, agent=agent).values_list("status", flat=True).first()


def agent_run_attempts(*, plan_id: UUID | str, agent: str) -> int:
    """How many attempts an agent run has made (0 when there is no such run)."""
    return AgentRun.objects.filter(plan_id=plan_id, agent=agent).values_list("attempts", flat=True).first() or 0


def agent_results(*, plan_id: UUID, agents: list[str]) -> dict[str, dict]:
    """The results of those of `agents` that succeeded on a plan."""
    if not agents:
        return {}
    rows = AgentRun.objects.filter(plan_id=plan_id, agent__in=agents, status=AgentRunStatus.SUCCEEDED)
    return dict(rows.values_list("agent", "result"))


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
