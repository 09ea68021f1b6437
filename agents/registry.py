"""The one list of domain agents.

Every concrete `Agent` subclass registers itself under its `name` when its module is imported, and
`agent_classes()` first imports every module of this package, so adding an agent is one class in its own
module plus one entry in the analyzer's rules. Tasks, time-limit policies, the canvas and the checks all
read this list.
"""

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from .base import Agent

_agents: dict[str, type["Agent"]] = {}


def agent_register(agent_class: type["Agent"]) -> None:
    """Add an agent class under its name; two different classes may not share a name."""
    current = _agents.get(agent_class.name)
    if current is not None and current.__qualname__ != agent_class.__qualname__:
        raise ImproperlyConfigured(
            f"Two agents are named {agent_class.name!r}: {current.__module__}.{current.__qualname__} and "
            f"{agent_class.__module__}.{agent_class.__qualname__}."
        )
    _agents[agent_class.name] = agent_class


@cache
def _modules_loaded() -> None:
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        if not module.ispkg:
            importlib.import_module(f"{__package__}.{module.name}")


def agent_classes() -> dict[str, type["Agent"]]:
    """Every registered agent class by name, in name order."""
    _modules_loaded()
    return dict(sorted(_agents.items()))


def agent_names() -> list[str]:
    """The names of every registered agent."""
    return list(agent_classes())
