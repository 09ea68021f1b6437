"""Circuit breakers whose state all worker processes and hosts share, kept in Redis.

pybreaker's Redis storage reads the state on every call and writes the failure counter back to 0 on every
success: three round trips per guarded call. `SnapshotRedisStorage` keeps pybreaker's keys and semantics but
reads them all with one MGET into a snapshot that answers for `snapshot_seconds` (an agent task refreshes it
once, together with its other shared state, in one pipeline: `agents.providers`), writes through to Redis and
to the snapshot, and writes nothing on a success unless the snapshot shows failures to clear.

Across workers: a failure INCRs the shared counter and the count INCR returns decides, so the breaker opens
after `fail_max` failures wherever they happened; open and half-open are shared as before (pybreaker's
per-process lock still lets several processes probe at once when half-open, issue #44). A success clears the
counter when the process saw failures counted at its last read, so failures elsewhere after that read are
cleared only by the next success that sees them.
"""

import logging
import time
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pybreaker
from django.conf import settings
from redis.client import Pipeline
from redis.exceptions import RedisError

from partyproject.redis_client import redis_client, redis_client_reset

from .errors import PermanentAgentError

logger = logging.getLogger(__name__)

SNAPSHOT_FIELDS = ("state", "fail_counter", "success_counter", "opened_at")


class BreakerLogListener(pybreaker.CircuitBreakerListener):
    """Logs every change of a breaker's state."""

    def state_change(self, cb: pybreaker.CircuitBreaker, old_state, new_state) -> None:
        logger.warning("Circuit breaker %s: %s -> %s", cb.name, old_state.name, new_state.name)


class SnapshotRedisStorage(pybreaker.CircuitRedisStorage):
    """pybreaker's Redis storage, read through a short-lived snapshot of all its keys (see the module)."""

    def __init__(self, state: str, redis_object, *, namespace: str, max_age: float) -> None:
        self._max_age = max_age
        self._values: dict[str, Any] | None = None
        self._read_at = 0.0
        super().__init__(state, redis_object, namespace=namespace)

    # --- the snapshot --------------------------------------------------------------------------------

    def snapshot_queue(self, pipe: Pipeline) -> None:
        """Add the read of every key to a pipeline; hand its answer to `snapshot_take`."""
        pipe.mget([self._namespace(name) for name in SNAPSHOT_FIELDS])

    def snapshot_take(self, values: list[bytes | None]) -> None:
        """Keep what `snapshot_queue`'s read answered."""
        state, fail_counter, success_counter, opened_at = values
        if state is None:
            self._initialize_redis_state(self._fallback_circuit_state)
        self._values = {
            "state": state.decode() if state is not None else self._fallback_circuit_state,
            "fail_counter": int(fail_counter or 0),
            "success_counter": int(success_counter or 0),
            "opened_at": int(opened_at) if opened_at else None,
        }
        self._read_at = time.monotonic()

    def snapshot_fallback(self) -> None:
        """Redis could not be read: pybreaker's fallback (closed, no failures) until the next read."""
        self._values = {
            "state": self._fallback_circuit_state,
            "fail_counter": 0,
            "success_counter": 0,
            "opened_at": None,
        }
        self._read_at = time.monotonic()

    def refresh(self) -> None:
        """Read every key now (one round trip)."""
        pipe = self._redis.pipeline(transaction=False)
        self.snapshot_queue(pipe)
        try:
            (values,) = pipe.execute()
        except RedisError:
            self.logger.exception("RedisError: falling back to default circuit state")
            self.snapshot_fallback()
            return
        self.snapshot_take(values)

    def _snapshot(self) -> dict[str, Any]:
        if self._values is None or time.monotonic() - self._read_at > self._max_age:
            self.refresh()
        assert self._values is not None
        return self._values

    def _remember(self, name: str, value: Any) -> None:
        if self._values is not None:
            self._values[name] = value

    # --- pybreaker's storage interface -------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._snapshot()["state"]

    @state.setter
    def state(self, state: str) -> None:
        pybreaker.CircuitRedisStorage.state.fset(self, state)
        self._remember("state", str(state))

    def increment_counter(self) -> None:
        try:
            self._remember("fail_counter", int(self._redis.incr(self._namespace("fail_counter"))))
        except RedisError:
            self.logger.exception("RedisError")

    def reset_counter(self) -> None:
        if self._values is not None and self._values["fail_counter"] == 0:
            return
        super().reset_counter()
        self._remember("fail_counter", 0)

    def increment_success_counter(self) -> None:
        try:
            self._remember("success_counter", int(self._redis.incr(self._namespace("success_counter"))))
        except RedisError:
            self.logger.exception("RedisError")

    def reset_success_counter(self) -> None:
        if self._values is not None and self._values["success_counter"] == 0:
            return
        super().reset_success_counter()
        self._remember("success_counter", 0)

    @property
    def counter(self) -> int:
        return self._snapshot()["fail_counter"]

    @property
    def success_counter(self) -> int:
        return self._snapshot()["success_counter"]

    @property
    def opened_at(self) -> datetime | None:
        timestamp = self._snapshot()["opened_at"]
        return datetime(*time.gmtime(timestamp)[:6], tzinfo=UTC) if timestamp else None

    @opened_at.setter
    def opened_at(self, now: datetime) -> None:
        pybreaker.CircuitRedisStorage.opened_at.fset(self, now)
        self._remember("opened_at", int(now.timestamp()))


def breaker_for(name: str) -> pybreaker.CircuitBreaker:
    """The breaker guarding one dependency, e.g. "catalog.venue" (one object per process and Redis)."""
    return _breaker(name, settings.REDIS_URL)


def breaker_fresh(name: str) -> pybreaker.CircuitBreaker:
    """The breaker, its shared state read just now (for operators, who must not see a snapshot)."""
    breaker = breaker_for(name)
    storage = breaker._state_storage
    if isinstance(storage, SnapshotRedisStorage):
        storage.refresh()
    return breaker


@cache
def _breaker(name: str, redis_url: str) -> pybreaker.CircuitBreaker:
    config = settings.AGENT_BREAKER
    storage: pybreaker.CircuitBreakerStorage
    if config["storage"] == "redis":
        storage = SnapshotRedisStorage(
            pybreaker.STATE_CLOSED,
            redis_client(),
            namespace=f"partyplanner:breaker:{name}",
            max_age=config["snapshot_seconds"],
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
