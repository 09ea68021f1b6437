"""The Celery tasks: one per domain agent (chord header) and the FinalPlanner (chord callback)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from partyproject import metrics
from planning import services

from .base import agent_task, planner_task
from .budget import BudgetAgent
from .cake import CakeAgent
from .theme import ThemeAgent
from .venue import VenueAgent

AGENTS = {agent.name: agent for agent in (ThemeAgent, VenueAgent, CakeAgent, BudgetAgent)}

theme_task = agent_task(ThemeAgent)
venue_task = agent_task(VenueAgent)
cake_task = agent_task(CakeAgent)
budget_task = agent_task(BudgetAgent)
planner = planner_task(
    finalize=lambda plan_id: getattr(services.plan_finalize(plan_id=plan_id), "status", "missing"),
    fail=lambda plan_id, error: services.plan_fail(plan_id=plan_id, error=error),
)


@shared_task(name="agents.reconcile", ignore_result=True)
def reconcile() -> dict[str, int]:
    """Periodic (Celery beat): drive on the plans that stopped making progress."""
    counts = services.plan_reconcile(
        stalled_after=timedelta(seconds=settings.PLAN_STALLED_AFTER),
        max_redrives=settings.PLAN_MAX_REDRIVES,
        max_backlog=settings.PLAN_RECONCILE_MAX_BACKLOG,
    )
    metrics.reconciler_record(counts)
    return counts
