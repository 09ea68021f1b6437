"""Fault injection at the provider boundary, for tests and demos.

Static faults come from settings.AGENT_FAULTS; faults set at run time (`manage.py faults`) live in
Redis, so every worker process and host sees them at once. A fault is
{"error_rate": 0..1, "latency_ms": int, "error": "transient" | "permanent"}.
"""

import json
from typing import Any

from django.conf import settings

from partyproject.redis_client import redis_client

FAULTS_KEY = "partyplanner:faults"
FAULT_KINDS = ("transient", "permanent")


def fault_get(agent: str) -> dict[str, Any] | None:
    """The fault configured for an agent's provider, run-time setting first."""
    return fault_from(agent, redis_client().hget(FAULTS_KEY, agent))


def fault_from(agent: str, raw: bytes | None) -> dict[str, Any] | None:
    """The fault of an agent given its run-time setting read elsewhere (e.g. in a pipeline), or None."""
    if raw:
        return json.loads(raw)
    return settings.AGENT_FAULTS.get(agent)


def fault_set(
    agent: str,
    *,
    error_rate: float = 0.0,
    latency_ms: int = 0,
    error: str = "transient",
    ignore_soft_limit: bool = False,
) -> dict[str, Any]:
    """Inject a fault into an agent's provider for every worker (`ignore_soft_limit`: the latency is
    a stuck call that only the hard time limit ends)."""
    if not 0 <= error_rate <= 1 or latency_ms < 0 or error not in FAULT_KINDS:
        raise ValueError("error_rate must be in [0, 1], latency_ms ≥ 0 and error transient or permanent.")
    fault = {"error_rate": error_rate, "latency_ms": latency_ms, "error": error, "ignore_soft_limit": ignore_soft_limit}
    redis_client().hset(FAULTS_KEY, agent, json.dumps(fault))
    return fault


def fault_clear(agent: str | None = None) -> None:
    """Remove the run-time fault of one agent, or of all."""
    if agent:
        redis_client().hdel(FAULTS_KEY, agent)
    else:
        redis_client().delete(FAULTS_KEY)


def faults_list() -> dict[str, dict[str, Any]]:
    """Every fault in force, run-time ones over static ones."""
    runtime = {key.decode(): json.loads(value) for key, value in redis_client().hgetall(FAULTS_KEY).items()}
    return {**settings.AGENT_FAULTS, **runtime}
