"""The agents' boundary to what can fail: every catalog read goes through a circuit breaker, and
faults (errors, latency) can be injected here for tests and demos (see agents.faults)."""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from partyproject.redis_client import redis_client
from planning import selectors
from planning.models import Cake, Theme, Venue

from .breaker import breaker_for
from .errors import PermanentAgentError, TransientAgentError
from .faults import fault_get

T = TypeVar("T")
CALLS_KEY = "partyplanner:provider-calls"


def provider_call_count(agent: str) -> None:
    """Count one provider call of `agent` in Redis, shared by every worker (AGENT_COUNT_PROVIDER_CALLS:
    for benchmarks and tests that prove a reused result called nothing)."""
    redis_client().hincrby(CALLS_KEY, agent, 1)


def provider_calls() -> dict[str, int]:
    """Provider calls counted so far, per agent."""
    return {name.decode(): int(count) for name, count in redis_client().hgetall(CALLS_KEY).items()}


def provider_calls_reset() -> None:
    redis_client().delete(CALLS_KEY)


def _stall(seconds: float, *, ignore_soft_limit: bool) -> None:
    """Injected latency; with `ignore_soft_limit` it behaves like a call stuck where the soft time limit
    cannot reach (a blocking C call), so that only the hard limit ends it."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            time.sleep(left)
        except SoftTimeLimitExceeded:
            if not ignore_soft_limit:
                raise


class CatalogProvider:
    """Catalog queries for one agent, guarded by that agent's breaker."""

    def __init__(self, agent: str) -> None:
        self.agent = agent

    def call(self, query: Callable[..., T], /, **kwargs) -> T:
        """Run a query through the breaker (and any configured fault)."""
        if settings.AGENT_COUNT_PROVIDER_CALLS:
            provider_call_count(self.agent)
        return breaker_for(f"catalog.{self.agent}").call(self._with_faults, query, **kwargs)

    def _with_faults(self, query: Callable[..., T], /, **kwargs) -> T:
        fault = fault_get(self.agent)
        if fault:
            if fault.get("latency_ms"):
                _stall(fault["latency_ms"] / 1000, ignore_soft_limit=bool(fault.get("ignore_soft_limit")))
            if random.random() < float(fault.get("error_rate", 0)):
                error = PermanentAgentError if fault.get("error") == "permanent" else TransientAgentError
                raise error(f"Injected fault in the {self.agent} catalog provider.")
        return query(**kwargs)

    def venues(self, *, city: str, guests: int) -> list[Venue]:
        return self.call(selectors.venue_candidates, city=city, guests=guests)

    def themes(self) -> list[Theme]:
        return self.call(selectors.theme_candidates)

    def cakes(self, *, city: str, servings: int) -> list[Cake]:
        return self.call(selectors.cake_candidates, city=city, servings=servings)

    def cities(self) -> list[str]:
        return self.call(lambda: [slug for slug, _, _ in selectors.city_rows()])

    def cost_index(self, *, city: str | None) -> float:
        return self.call(selectors.city_cost_index, city=city)
