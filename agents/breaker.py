"""Circuit breakers whose state all worker processes and hosts share, kept in Redis."""

import logging
from functools import cache

import pybreaker
from django.conf import settings

from partyproject.redis_client import redis_client, redis_client_reset

from .errors import PermanentAgentError

logger = logging.getLogger(__name__)


class BreakerLogListener(pybreaker.CircuitBreakerListener):
    """Logs every change of a breaker's state."""

    def state_change(self, cb: pybreaker.CircuitBreaker, old_state, new_state) -> None:
        logger.warning("Circuit breaker %s: %s -> %s", cb.name, old_state.name, new_state.name)


def breaker_for(name: str) -> pybreaker.CircuitBreaker:
    """The breaker guarding one dependency, e.g. "catalog.venue" (one object per process and Redis)."""
    return _breaker(name, settings.REDIS_URL)


@cache
def _breaker(name: str, redis_url: str) -> pybreaker.CircuitBreaker:
    config = settings.AGENT_BREAKER
    storage: pybreaker.CircuitBreakerStorage
    if config["storage"] == "redis":
        storage = pybreaker.CircuitRedisStorage(
            pybreaker.STATE_CLOSED,
            redis_client(),
            namespace=f"partyplanner:breaker:{name}",
        )
    else:
        storage = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    return pybreaker.CircuitBreaker(
        fail_max=config["fail_max"],
        reset_timeout=config["reset_timeout"],
        exclude=[PermanentAgentError],
        listeners=[BreakerLogListener()],
        state_storage=storage,
        name=name,
    )


def breakers_reset() -> None:
    """Forget this process's breakers (they are rebuilt, from shared state, on next use)."""
    _breaker.cache_clear()
    redis_client_reset()
