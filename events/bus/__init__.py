"""The outbound event stream for other systems: one interface, adapters chosen by EVENT_BUS.

Publishers hand over a plan's events in order; the bus keeps a plan's events in one partition, so
consumers see them in order. Delivery is at least once: consumers deduplicate by (plan_id, seq).
"""

import abc
import json
import zlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Delivery:
    """One event handed to a consumer; `token` identifies it to `ack` and `dead_letter`."""

    event: dict[str, Any]
    token: Any
    attempts: int = 1


class EventBus(abc.ABC):
    """Publish plan events; consume them in groups, acknowledging after processing."""

    @abc.abstractmethod
    def publish(self, events: list[dict[str, Any]]) -> None:
        """Publish events (wire format v1) in the given order; returns once the bus has them, or raises."""

    @abc.abstractmethod
    def consumer(self, *, group: str, name: str) -> "BusConsumer":
        """A member `name` of consumer group `group` (created if missing; a new group starts at the beginning)."""

    def close(self) -> None:  # noqa: B027 - optional: not every adapter holds a connection
        """Release connections."""


class BusConsumer(abc.ABC):
    @abc.abstractmethod
    def poll(self, *, max_count: int = 100, timeout: float = 1.0) -> list[Delivery]:
        """The next deliveries for this member, waiting up to `timeout` seconds for the first one."""

    @abc.abstractmethod
    def ack(self, deliveries: list[Delivery]) -> None:
        """Mark deliveries processed; they are not delivered to this group again."""

    @abc.abstractmethod
    def dead_letter(self, delivery: Delivery, *, error: str) -> None:
        """Park an event this consumer cannot handle on the dead-letter stream, and acknowledge it."""

    def close(self) -> None:  # noqa: B027 - optional: not every adapter holds a connection
        """Leave the group (pending deliveries go to other members)."""


def partition_for(plan_id: str, partitions: int) -> int:
    """A plan's partition: stable across processes and restarts (CRC-32 of its id)."""
    return zlib.crc32(str(plan_id).encode()) % partitions


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def decode(raw: bytes) -> dict[str, Any]:
    return json.loads(raw)


def bus_from_settings() -> EventBus | None:
    """The configured bus (EVENT_BUS = redis | kafka | none)."""
    kind = settings.EVENT_BUS
    if kind == "redis":
        from .redis_streams import RedisStreamsBus

        return RedisStreamsBus(
            url=settings.EVENT_BUS_REDIS_URL,
            prefix=settings.EVENT_BUS_STREAM_PREFIX,
            partitions=settings.EVENT_BUS_PARTITIONS,
            maxlen=settings.EVENT_BUS_MAXLEN,
            max_age_seconds=settings.EVENT_BUS_MAX_AGE_SECONDS,
            claim_idle_seconds=settings.EVENT_BUS_CLAIM_IDLE_SECONDS,
        )
    if kind == "kafka":
        from .kafka import KafkaBus

        return KafkaBus(bootstrap=settings.EVENT_BUS_KAFKA_BOOTSTRAP, topic=settings.EVENT_BUS_KAFKA_TOPIC)
    if kind == "none":
        return None
    raise ValueError(f"EVENT_BUS must be redis, kafka or none, not {kind!r}.")
