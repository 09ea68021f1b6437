"""Redis Streams adapter: N streams (`<prefix>:<partition>`), a plan's events always in the same one.

Consumer groups with XREADGROUP; XACK after processing; XAUTOCLAIM hands a dead member's pending
entries to a live one after `claim_idle_seconds`; XADD trims by length (MAXLEN ~) and by age (MINID ~).
Events a consumer cannot handle go to `<prefix>:dead`. The URL may name Sentinels
(`sentinel://host1:26379;sentinel://host2:26379/db`, master REDIS_SENTINEL_MASTER), as every Redis URL here.
"""

import time
from typing import Any

import redis

from partyproject.redis_client import redis_client_for

from . import BusConsumer, Delivery, EventBus, decode, encode, partition_for


class RedisStreamsBus(EventBus):
    def __init__(
        self,
        *,
        url: str,
        prefix: str,
        partitions: int,
        maxlen: int,
        max_age_seconds: int,
        claim_idle_seconds: float,
    ) -> None:
        self.client = redis_client_for(url, socket_timeout=10, socket_connect_timeout=5)  # plain or Sentinel
        self.prefix = prefix
        self.partitions = partitions
        self.maxlen = maxlen
        self.max_age_seconds = max_age_seconds
        self.claim_idle_seconds = claim_idle_seconds

    def stream(self, partition: int) -> str:
        return f"{self.prefix}:{partition}"

    @property
    def dead_stream(self) -> str:
        return f"{self.prefix}:dead"

    def publish(self, events: list[dict[str, Any]]) -> None:
        min_id = f"{int((time.time() - self.max_age_seconds) * 1000)}-0"
        pipe = self.client.pipeline(transaction=False)
        for event in events:
            stream = self.stream(partition_for(event["plan_id"], self.partitions))
            fields = {"plan_id": event["plan_id"], "seq": event["seq"], "event": encode(event)}
            pipe.xadd(stream, fields, maxlen=self.maxlen, approximate=True)
        for partition in range(self.partitions):  # trimming by age: one cheap command per stream
            pipe.xtrim(self.stream(partition), minid=min_id, approximate=True)
        pipe.execute()

    def consumer(self, *, group: str, name: str, partitions: list[int] | None = None) -> "RedisStreamsConsumer":
        return RedisStreamsConsumer(self, group=group, name=name, partitions=partitions)

    def close(self) -> None:
        self.client.close()


class RedisStreamsConsumer(BusConsumer):
    """A member of a consumer group over all partitions, or over `partitions` only (one member per
    partition keeps a plan's events in order within the group, as Kafka's assignment does)."""

    def __init__(self, bus: RedisStreamsBus, *, group: str, name: str, partitions: list[int] | None) -> None:
        self.bus = bus
        self.group = group
        self.name = name
        self.streams = [bus.stream(p) for p in (partitions if partitions is not None else range(bus.partitions))]
        for stream in self.streams:
            try:
                bus.client.xgroup_create(stream, group, id="0", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise
        self._next_claim = 0.0

    def poll(self, *, max_count: int = 100, timeout: float = 1.0) -> list[Delivery]:
        deliveries = self._claim(max_count)
        if deliveries:
            return deliveries
        response = self.bus.client.xreadgroup(
            self.group, self.name, dict.fromkeys(self.streams, ">"), count=max_count, block=int(timeout * 1000)
        )
        return [
            Delivery(event=decode(fields[b"event"]), token=(stream.decode(), entry_id))
            for stream, entries in response or []
            for entry_id, fields in entries
        ]

    def _claim(self, max_count: int) -> list[Delivery]:
        """Take over entries other members read but did not acknowledge within the idle time."""
        if time.monotonic() < self._next_claim:
            return []
        self._next_claim = time.monotonic() + self.bus.claim_idle_seconds / 2
        idle_ms = int(self.bus.claim_idle_seconds * 1000)
        deliveries: list[Delivery] = []
        for stream in self.streams:
            _next, entries, _deleted = self.bus.client.xautoclaim(
                stream, self.group, self.name, min_idle_time=idle_ms, start_id="0-0", count=max_count
            )
            deliveries.extend(
                Delivery(event=decode(fields[b"event"]), token=(stream, entry_id), attempts=2)
                for entry_id, fields in entries
                if fields  # an entry trimmed away meanwhile comes back empty
            )
        return deliveries

    def ack(self, deliveries: list[Delivery]) -> None:
        pipe = self.bus.client.pipeline(transaction=False)
        for delivery in deliveries:
            stream, entry_id = delivery.token
            pipe.xack(stream, self.group, entry_id)
        pipe.execute()

    def dead_letter(self, delivery: Delivery, *, error: str) -> None:
        fields = {"event": encode(delivery.event), "group": self.group, "error": error[:2000]}
        self.bus.client.xadd(self.bus.dead_stream, fields, maxlen=self.bus.maxlen, approximate=True)
        self.ack([delivery])

    def close(self) -> None:
        """Nothing to do: unacknowledged entries stay pending and are claimed by another member."""
