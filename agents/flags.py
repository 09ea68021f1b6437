"""Feature flags for agents, from the environment (AGENTS_DISABLED, AGENTS_OPTIONAL).

A switched-off agent is left out of every new plan's graph (what depended on it runs without it);
an optional agent still runs, but when it fails the plan is not marked partial. In both cases the
plan's warnings say so.
"""

import dataclasses

from django.conf import settings

from .analyzer import Brief
from .registry import agent_names


def disabled_agents() -> frozenset[str]:
    """The agents switched off by configuration."""
    return frozenset(settings.AGENTS_DISABLED)


def optional_agents() -> frozenset[str]:
    """The agents a plan may go without and still be complete."""
    return frozenset(settings.AGENTS_OPTIONAL)


def switched_off_note(agent: str) -> str:
    """What a plan says about an agent that was switched off."""
    return f"The {agent} agent is switched off; the plan goes ahead without it."


def switched_off_notes(brief: Brief) -> list[str]:
    """The notes in which the analysis recorded the agents it left out because they were switched off."""
    known = {switched_off_note(agent) for agent in agent_names()}
    return [note for note in brief.notes if note in known]


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
