"""The agents' boundary to what can fail: every catalog read goes through a circuit breaker, and
faults (errors, latency) can be injected here for tests and demos (see agents.faults).

An agent makes one provider per task. At its first call the provider reads, in one Redis round trip, the
catalog version, the agent's injected fault and its breaker's shared state; its later calls within
`AGENT_BREAKER["snapshot_seconds"]` reuse them. The catalog itself comes from the process's cache at that
version (planning.catalog_cache), so a warm task's catalog calls cost no further round trip and no SQL, and
every task sees the catalog, the faults and the breaker as they were when it started.
"""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from redis.exceptions import RedisError

from partyproject.redis_client import redis_client
from planning import catalog_cache, selectors
from planning.catalog_cache import CakeRow, ThemeRow, VenueRow

from .breaker import SnapshotRedisStorage, breaker_for
from .errors import PermanentAgentError, TransientAgentError
from .faults import FAULTS_KEY, fault_from

logger = logging.getLogger(__name__)

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
        self._read_at: float | None = None
        self._raw_version: bytes | None = None
        self._version: int | None = None
        self._fault: dict | None = None

    def call(self, query: Callable[..., T], /, **kwargs) -> T:
        """Run a query (a catalog selector taking `version`) through the breaker (and any configured fault)."""
        if settings.AGENT_COUNT_PROVIDER_CALLS:
            provider_call_count(self.agent)
        breaker = breaker_for(f"catalog.{self.agent}")
        self._shared_state_read(breaker._state_storage)
        return breaker.call(self._with_faults, query, **kwargs)

    def catalog_version(self) -> int:
        """The catalog version this task works on: read with the fault and the breaker's state at the first
        use, so that a task's inputs and its catalog calls name the same version."""
        self._shared_state_read(breaker_for(f"catalog.{self.agent}")._state_storage)
        return self._version_known()

    def _version_known(self) -> int:
        """The version as last read (without Redis's copy this reads the database)."""
        if self._version is None:
            self._version = catalog_cache.version_from(self._raw_version)
        return self._version

    def _shared_state_read(self, storage) -> None:
        """The catalog version, the fault and the breaker's state in one round trip, unless read lately."""
        if self._read_at is not None and time.monotonic() - self._read_at <= settings.AGENT_BREAKER["snapshot_seconds"]:
            return
        shared = isinstance(storage, SnapshotRedisStorage)
        pipe = redis_client().pipeline(transaction=False)
        pipe.get(catalog_cache.VERSION_KEY)
        pipe.hget(FAULTS_KEY, self.agent)
        if shared:
            storage.snapshot_queue(pipe)
        try:
            raw_version, raw_fault, *breaker_values = pipe.execute()
        except RedisError:
            logger.warning("Redis is unavailable: the %s provider runs without run-time faults.", self.agent)
            raw_version, raw_fault, breaker_values = None, None, []
            if shared:
                storage.snapshot_fallback()
        if shared and breaker_values:
            storage.snapshot_take(breaker_values[0])
        self._raw_version, self._fault, self._version = raw_version, fault_from(self.agent, raw_fault), None
        self._read_at = time.monotonic()

    def _with_faults(self, query: Callable[..., T], /, **kwargs) -> T:
        fault = self._fault
        if fault:
            if fault.get("latency_ms"):
                _stall(fault["latency_ms"] / 1000, ignore_soft_limit=bool(fault.get("ignore_soft_limit")))
            if random.random() < float(fault.get("error_rate", 0)):
                error = PermanentAgentError if fault.get("error") == "permanent" else TransientAgentError
                raise error(f"Injected fault in the {self.agent} catalog provider.")
        return query(version=self._version_known(), **kwargs)  # inside the breaker, as the query itself is

    def venues(self, *, city: str, guests: int) -> list[VenueRow]:
        return self.call(selectors.venue_candidates, city=city, guests=guests)

    def themes(self) -> list[ThemeRow]:
        return self.call(selectors.theme_candidates)

    def cakes(self, *, city: str, servings: int) -> list[CakeRow]:
        return self.call(selectors.cake_candidates, city=city, servings=servings)

    def cities(self) -> list[str]:
        return self.call(lambda *, version: [slug for slug, _, _ in selectors.city_rows(version=version)])

    def cost_index(self, *, city: str | None) -> float:
        return self.call(selectors.city_cost_index, city=city)
