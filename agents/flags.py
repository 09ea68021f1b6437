"""Feature flags for agents, from the environment (AGENTS_DISABLED, AGENTS_OPTIONAL).

A switched-off agent is left out of every new plan's graph (what depended on it runs without it) and
the brief notes it, which the plan's warnings carry; an optional agent still runs, but when it fails
the plan is not marked partial, and its warnings say so.
"""

import dataclasses

from django.conf import settings

from .analyzer import Brief


def disabled_agents() -> frozenset[str]:
    """The agents switched off by configuration."""
    return frozenset(settings.AGENTS_DISABLED)


def optional_agents() -> frozenset[str]:
    """The agents a plan may go without and still be complete."""
    return frozenset(settings.AGENTS_OPTIONAL)


def switched_off_note(agent: str) -> str:
    """What a plan says about an agent that was switched off."""
    return f"The {agent} agent is switched off; the plan goes ahead without it."


def optional_note(agent: str) -> str:
    """What a plan says when an optional agent did not finish."""
    return f"The {agent} agent is optional; the plan counts as complete without it."


def brief_without_disabled(brief: Brief) -> Brief:
    """`brief` with the switched-off agents removed from its agents and graph, and a note for each."""
    off = [agent for agent in brief.agents if agent in disabled_agents()]
    if not off:
        return brief
    graph = {
        agent: tuple(need for need in needs if need not in off)
        for agent, needs in brief.graph.items()
        if agent not in off
    }
    return dataclasses.replace(
        brief,
        agents=tuple(agent for agent in brief.agents if agent not in off),
        graph=graph,
        notes=(*brief.notes, *(switched_off_note(agent) for agent in off)),
    )
