"""Dependency graphs of agents: the one topological sort the analyzer and the pipeline share."""

from collections.abc import Mapping, Sequence
from typing import Any


def topological_order(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """The graph's agents with each one after what it depends on; among ready ones, graph order wins.

    Raises ValueError when the dependencies form a cycle.
    """
    ordered: list[str] = []
    waiting = list(graph)
    while waiting:
        ready = next((name for name in waiting if all(need in ordered for need in graph[name])), None)
        if ready is None:
            raise ValueError(f"dependencies form a cycle among {', '.join(waiting)}")
        ordered.append(ready)
        waiting.remove(ready)
    return ordered


def agent_plan(agents: Sequence[Any]) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The agents (anything with `name` and `depends_on`) in run order, and each one's dependencies
    among them: a dependency on an agent that is not running is dropped."""
    names = [agent.name for agent in agents]
    graph = {agent.name: tuple(need for need in agent.depends_on if need in names) for agent in agents}
    order = tuple(topological_order(graph))
    return order, {name: graph[name] for name in order}
