"""Digests of agent runs: what a run read and what it produced, so that a later revision of a plan can
carry a result over instead of running the agent again (and stop early when a re-run changed nothing).

A run's input digest covers the brief fields its agent declares in `reads` (and the plan's pins and
exclusions when it reads "constraints"), the output digests of the agents it depends on, the catalog's
version, and the agent's code: its `version` and the source of its module and of the project modules it
uses. A change to any of them changes the digest, so a stale result is never reused.
"""

import hashlib
import inspect
import json
import sys
from collections.abc import Mapping
from functools import cache
from types import ModuleType
from typing import Any

CONSTRAINTS = "constraints"


def digest(value: Any) -> str:
    """SHA-256 of a JSON-ready value in canonical form (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _own_modules(module: ModuleType) -> list[ModuleType]:
    """`module` and the modules of this package whose names it uses, sorted by name."""
    package = module.__name__.split(".")[0]
    names = {module.__name__}
    for value in vars(module).values():
        owner = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        if isinstance(owner, str) and owner.split(".")[0] == package:
            names.add(owner)
    return [sys.modules[name] for name in sorted(names) if name in sys.modules]


def agent_code_version(agent_class: type) -> str:
    """A fingerprint of an agent's code: its declared `version` and the source it runs."""
    return digest([getattr(agent_class, "version", ""), _sources_digest(agent_class.__module__)])


@cache
def _sources_digest(module_name: str) -> str:
    """The digest of a module's source and of the project modules it uses (read once per process)."""
    sources = [inspect.getsource(module) for module in _own_modules(sys.modules[module_name])]
    return digest([hashlib.sha256(source.encode()).hexdigest() for source in sources])


def input_digest(
    *,
    agent_class: type,
    brief: Mapping[str, Any],
    constraints: Mapping[str, Any],
    upstream: Mapping[str, str],
    catalog_version: int,
) -> str:
    """The digest of everything one run of `agent_class` reads; `upstream` maps each dependency to the
    output digest of its run in the same revision."""
    reads = agent_class.reads
    return digest(
        {
            "agent": agent_class.name,
            "code": agent_code_version(agent_class),
            "catalog": catalog_version,
            "brief": {name: brief.get(name) for name in reads if name != CONSTRAINTS},
            "constraints": dict(constraints) if CONSTRAINTS in reads else None,
            "upstream": dict(sorted(upstream.items())),
        }
    )


def output_digest(result: Mapping[str, Any] | None) -> str:
    """The digest of a run's result."""
    return digest(result)
