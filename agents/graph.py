"""Dependency graphs of agents: the one topological sort the analyzer and the pipeline share."""

from collections.abc import Mapping, Sequence


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
