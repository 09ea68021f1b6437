"""Turns a plan's dependency graph into a Celery chord: agents in the header, FinalPlanner as callback.

Each weakly connected part of the graph becomes one chain in topological order, and the parts run in
parallel in the chord's header; e.g. {theme, cake←theme, venue, budget} gives
chord([chain(theme, cake), venue, budget], planner). Signatures are immutable and carry only the
plan id and the revision they run for: an agent reads what it depends on from the database, not from
the previous task's return, and a task whose revision the plan no longer runs does nothing.

Plans finish as they go: the planner runs from its own queue and a chain's later steps from the
follow-up queue, both consumed before the default queue that holds the first steps of new plans
(settings: CELERY_TASK_ROUTES, CELERY_TASK_QUEUES).
"""

from collections.abc import Mapping, Sequence

from celery import chain, chord, group, signature
from celery.canvas import Signature
from django.conf import settings

from .graph import topological_order

PLANNER_TASK = "agents.planner"
RESCUE_TASK = "agents.plan_rescue"


def agent_task_name(agent: str) -> str:
    """The stable Celery task name of a domain agent."""
    return f"agents.{agent}"


def graph_components(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Split a dependency graph into connected parts, each in a topological order.

    Parts and their members keep the graph's own order where dependencies allow.
    Raises ValueError on a dependency outside the graph or a cycle.
    """
    order = list(graph)
    for agent, deps in graph.items():
        unknown = set(deps) - set(graph)
        if unknown:
            raise ValueError(f"{agent} depends on unknown agents: {sorted(unknown)}")
    parent = {agent: agent for agent in order}

    def root(agent: str) -> str:
        while parent[agent] != agent:
            agent = parent[agent]
        return agent

    for agent, deps in graph.items():
        for dep in deps:
            parent[root(agent)] = root(dep)
    parts: dict[str, list[str]] = {}
    for agent in topological_order(graph):
        parts.setdefault(root(agent), []).append(agent)
    return sorted(parts.values(), key=lambda part: min(order.index(agent) for agent in part))


def plan_canvas(*, plan_id: str, graph: Mapping[str, Sequence[str]], revision: int = 1) -> Signature:
    """The chord that runs a plan's agents and then its FinalPlanner.

    Celery never runs a chord's body when a header task ends in FAILURE (killed at its hard time limit,
    say), but it does call the body's error callbacks: the rescue task then finalizes the plan at once.
    """
    kwargs = {"revision": revision}
    header = []
    for part in graph_components(graph):
        steps = [signature(agent_task_name(agent), args=(plan_id,), kwargs=kwargs, immutable=True) for agent in part]
        for agent, step in zip(part[1:], steps[1:], strict=True):
            if agent not in settings.AGENT_QUEUES:
                step.set(queue=settings.CELERY_FOLLOWUP_QUEUE)
        header.append(steps[0] if len(steps) == 1 else chain(*steps))
    body = signature(PLANNER_TASK, args=(plan_id,), kwargs=kwargs, immutable=True)
    body.on_error(signature(RESCUE_TASK, args=(plan_id,), kwargs=kwargs, immutable=True))
    return chord(group(header), body)


def pipeline_dispatch(*, plan_id: str, graph: Mapping[str, Sequence[str]], revision: int = 1) -> str:
    """Enqueue the chord of one revision of a plan; returns the id of the planner's result."""
    return plan_canvas(plan_id=plan_id, graph=graph, revision=revision).apply_async().id
