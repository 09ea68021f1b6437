"""One hub per ASGI process (per event loop): the subscribers of a plan share one wake-up subscription
and one database read.

However many clients watch a plan, the hub subscribes once to the plan's Redis pub/sub channel
(`events.notify.wake_channel`, on one connection per hub: SUBSCRIBE when the plan's first local subscriber
arrives, confirmed by Redis before that subscriber's first read of the log; UNSUBSCRIBE when its last one
leaves), reads each new event from the log once (a single-flight read into a bounded tail cache), and wakes
its local subscribers in memory. Pub/sub delivers only to whoever is subscribed at that moment, so a periodic
check of the plans' heads catches up after a lost wake-up: Redis away, or a reconnect. The hub reconnects
by itself after a failure (and subscribes again to every plan it streams), and PINGs an idle connection to
notice a half-open one.
"""

import asyncio
import contextlib
import logging
import os
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import redis.asyncio
from channels.db import database_sync_to_async
from django.conf import settings
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from partyproject.redis_client import redis_async_client_for, redis_async_close

from . import selectors
from .notify import CHANNEL_PREFIX, wake_channel

logger = logging.getLogger(__name__)

TAIL_CACHE_EVENTS = 512


@dataclass
class PlanFeed:
    """What a process knows of one plan it streams."""

    plan_id: UUID
    wakers: set[asyncio.Event] = field(default_factory=set)
    tail: OrderedDict[int, dict[str, Any]] = field(default_factory=OrderedDict)
    head: int = -1  # last committed seq seen in the log; -1 before the first read
    ended: bool = False
    generation: int = 0  # bumped by every wake-up
    read_generation: int = -1  # the generation at the start of the last read of the log
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    joined: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self.generation += 1
        for waker in self.wakers:
            waker.set()

    def cached(self, after: int, limit: int) -> list[dict[str, Any]] | None:
        """The events after `after` from the tail cache, or None when the cache cannot answer."""
        if after >= self.head:
            return [] if self.read_generation >= self.generation else None
        wanted = range(after + 1, min(self.head, after + limit) + 1)
        if not all(seq in self.tail for seq in wanted):
            return None
        return [self.tail[seq] for seq in wanted]

    def remember(self, events: list[dict[str, Any]], head: int, ended: bool) -> None:
        self.head = max(self.head, head)
        self.ended = ended
        for event in events:
            self.tail[event["seq"]] = event
        while len(self.tail) > TAIL_CACHE_EVENTS:
            self.tail.popitem(last=False)


@database_sync_to_async
def _read_log(plan_id: UUID, after: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
    # The head is read first: every event up to it is committed, so the page read next includes them.
    head, ended = selectors.plan_heads(plan_ids=[plan_id]).get(plan_id, (0, True))
    return selectors.plan_event_envelopes(plan_id=plan_id, after=after, limit=limit), head, ended


@database_sync_to_async
def _read_heads(plan_ids: list[UUID]) -> dict[UUID, tuple[int, bool]]:
    return selectors.plan_heads(plan_ids=plan_ids)


T = TypeVar("T")


async def _receive_cancellable(receive: Callable[[], Awaitable[T]]) -> T:
    """What `receive()` returns; when cancelled, this ends however `receive` takes the cancellation.

    A cancellation can be lost inside a blocking redis-py read (redis-py can turn a cancellation that meets
    its read timeout into an error or an empty read, which the caller's loop then retries), and a task that
    outlives its cancellation hangs the event loop's shutdown. So the receive runs in a task of its own, and
    is cancelled again until it has ended.
    """
    receiving = asyncio.ensure_future(receive())
    try:
        return await asyncio.shield(receiving)
    except asyncio.CancelledError:
        while not receiving.done():
            receiving.cancel()
            await asyncio.wait({receiving}, timeout=0.1)
        if not receiving.cancelled():
            receiving.exception()  # retrieved: what the read ended with no longer matters
        raise


def _plan_of(channel: bytes) -> UUID | None:
    try:
        return UUID(channel.decode().removeprefix(CHANNEL_PREFIX))
    except ValueError:
        return None


class PlanHub:
    """The process's registry of streamed plans."""

    read_seconds = 5.0  # a blocking read for wake-ups ends after this; an idle connection is then PINGed
    silent_reads = 3  # reads in a row without a byte from Redis, not even a PONG: the connection is dead
    socket_timeout = 10.0  # connecting and writing; a read passes its own timeout (read_seconds), and this outlasts it
    subscribe_seconds = 2.0  # how long a plan's first subscriber waits for Redis to confirm its SUBSCRIBE
    retry_seconds = 1.0  # between attempts to reach Redis again

    def __init__(self) -> None:
        self.feeds: dict[UUID, PlanFeed] = {}
        self._redis: redis.asyncio.Redis | None = None
        self._pubsub: PubSub | None = None
        self._io = asyncio.Lock()  # connecting, sending a command and closing; the listener reads without it
        self._confirmations: dict[bytes, asyncio.Event] = {}
        self._unsubscribed: set[UUID] = set()  # streamed plans whose SUBSCRIBE failed: the listener retries
        self._tasks: list[asyncio.Task] = []
        self._started = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def subscription(self, plan_id: UUID) -> AsyncIterator[asyncio.Event]:
        """Subscribe to a plan's wake-ups for the duration of the block; yields the subscriber's event."""
        await self._start()
        feed = self.feeds.get(plan_id)
        first = feed is None
        if feed is None:
            feed = self.feeds[plan_id] = PlanFeed(plan_id=plan_id)
        waker = asyncio.Event()
        feed.wakers.add(waker)
        try:
            if first:
                try:
                    await self._subscribe(plan_id)
                finally:
                    feed.joined.set()
            await feed.joined.wait()  # no read before the process listens for the plan's wake-ups
            yield waker
        finally:
            feed.wakers.discard(waker)
            if not feed.wakers and self.feeds.get(plan_id) is feed:
                del self.feeds[plan_id]
                await self._unsubscribe(plan_id)

    async def read(self, plan_id: UUID, *, after: int) -> tuple[list[dict[str, Any]], bool]:
        """A page of the plan's events after `after`, and whether the plan has ended with the last of them."""
        feed = self.feeds[plan_id]
        limit = settings.EVENTS_PAGE_SIZE
        events = feed.cached(after, limit)
        if events is None:
            async with feed.lock:  # one read of the log per plan at a time; the others use its result
                events = feed.cached(after, limit)
                if events is None:
                    generation = feed.generation
                    events, head, ended = await _read_log(plan_id, after, limit)
                    feed.remember(events, head, ended)
                    feed.read_generation = max(feed.read_generation, generation)
        last = events[-1]["seq"] if events else after
        return events, feed.ended and last >= feed.head

    async def _start(self) -> None:
        async with self._started:
            if self._tasks:
                return
            url = settings.EVENTS_WAKE_URL
            if url:
                # Objects of this hub's own, bound to its event loop. redis-py neither retries nor reconnects
                # by itself here (no supported errors): the listener does, under `_io`, at its own pace.
                self._redis = redis_async_client_for(
                    url,
                    socket_timeout=self.socket_timeout,
                    socket_connect_timeout=self.socket_timeout / 2,
                    retry=Retry(NoBackoff(), 0, supported_errors=()),
                    client_name=f"partyplanner:hub:{os.getpid()}",
                )
                self._pubsub = self._redis.pubsub()
                self._tasks.append(asyncio.create_task(self._listen(self._pubsub)))
            self._tasks.append(asyncio.create_task(self._poll()))

    async def _subscribe(self, plan_id: UUID) -> None:
        """SUBSCRIBE to the plan's wake-ups and wait, a little, for Redis to confirm it; without a
        confirmation the plan is polled, and the listener subscribes again once Redis is back."""
        if self._pubsub is None:
            return
        channel = wake_channel(plan_id).encode()
        confirmed = self._confirmations[channel] = asyncio.Event()
        try:
            async with asyncio.timeout(self.subscribe_seconds):
                async with self._io:
                    if self._pubsub is None:
                        return
                    await self._pubsub.subscribe(channel)
                await confirmed.wait()
        except (RedisError, OSError) as error:  # OSError: the builtin TimeoutError of a late confirmation
            reason = str(error) or f"not confirmed within {self.subscribe_seconds:g} s"
            logger.warning("No wake-ups for plan %s yet (%s); it is polled meanwhile", plan_id, reason)
        finally:
            if self._confirmations.get(channel) is confirmed:
                del self._confirmations[channel]
            if not confirmed.is_set():
                self._unsubscribed.add(plan_id)

    async def _unsubscribe(self, plan_id: UUID) -> None:
        self._unsubscribed.discard(plan_id)
        try:
            async with self._io:
                if self._pubsub is not None and plan_id not in self.feeds:  # no new first subscriber meanwhile
                    await self._pubsub.unsubscribe(wake_channel(plan_id))
        except (RedisError, OSError) as error:
            # Its wake-ups, if redis-py subscribes again on reconnect, make the listener unsubscribe then.
            logger.info(
                "Could not unsubscribe from the wake-ups of plan %s (%s: %s)", plan_id, type(error).__name__, error
            )

    async def _receive(self, pubsub: PubSub) -> dict[str, Any] | None:
        """The next message on the hub's connection, or None after read_seconds without one."""
        async with self._io:
            if pubsub.connection is None or not pubsub.connection.is_connected:
                await pubsub.connect()  # on a reconnect redis-py subscribes again to every channel it had
            retry = [plan_id for plan_id in self._unsubscribed if plan_id in self.feeds]
            if retry:
                await pubsub.subscribe(*(wake_channel(plan_id) for plan_id in retry))
            self._unsubscribed.clear()
        return await pubsub.get_message(timeout=self.read_seconds)

    async def _listen(self, pubsub: PubSub) -> None:
        loop = asyncio.get_running_loop()
        heard, failing = loop.time(), False
        try:
            while True:
                try:
                    message = await _receive_cancellable(lambda: self._receive(pubsub))
                    if message is None:
                        silent = loop.time() - heard
                        if silent >= self.read_seconds * self.silent_reads:
                            raise ConnectionError(f"nothing from Redis for {silent:.0f} s, not even a PONG")
                        async with self._io:
                            await pubsub.ping()
                        continue
                except Exception as error:  # noqa: BLE001 - whatever the failure, the poll delivers until it heals
                    if not failing:
                        logger.warning(
                            "Wake-ups unavailable (%s: %s); streamed plans are polled until Redis is back",
                            type(error).__name__,
                            error,
                        )
                    failing = True
                    await self._disconnect(pubsub)
                    await asyncio.sleep(self.retry_seconds)
                    heard = loop.time()
                    continue
                if failing:
                    logger.info("Wake-ups are back")
                    failing = False
                heard = loop.time()
                await self._handle(pubsub, message)
        finally:
            await self._close()

    async def _handle(self, pubsub: PubSub, message: dict[str, Any]) -> None:
        if message["type"] == "subscribe":
            confirmed = self._confirmations.get(message["channel"])
            if confirmed is not None:
                confirmed.set()
        elif message["type"] == "message":
            plan_id = _plan_of(message["channel"])
            feed = self.feeds.get(plan_id) if plan_id else None
            if feed is not None:
                feed.wake()
            elif (
                plan_id
                and message["channel"] in pubsub.channels
                and message["channel"] not in pubsub.pending_unsubscribe_channels
            ):
                await self._unsubscribe(plan_id)  # subscribed again on a reconnect after its last subscriber left

    async def _disconnect(self, pubsub: PubSub) -> None:
        """Drop the connection after a failure; the next receive connects again."""
        async with self._io:
            if pubsub.connection is not None:
                with contextlib.suppress(Exception):
                    await pubsub.connection.disconnect(nowait=True)

    async def _close(self) -> None:
        """Close the connection and the client (the hub's tasks are being cancelled: the loop is ending)."""
        async with self._io:
            pubsub, client, self._pubsub, self._redis = self._pubsub, self._redis, None, None
        try:
            if pubsub is not None:
                await pubsub.aclose()
            if client is not None:
                await redis_async_close(client)
        except Exception:
            logger.debug("Closing the wake-up connection failed", exc_info=True)

    async def _poll(self) -> None:
        """Wake the subscribers of any plan whose log moved without a signal reaching us."""
        while True:
            await asyncio.sleep(settings.EVENTS_POLL_SECONDS)
            plan_ids = [plan_id for plan_id, feed in self.feeds.items() if not feed.ended]
            if not plan_ids:
                continue
            try:
                heads = await _read_heads(plan_ids)
            except Exception:
                logger.warning("Could not poll plan heads", exc_info=True)
                continue
            for plan_id, (head, _ended) in heads.items():
                feed = self.feeds.get(plan_id)
                if feed is not None and head > feed.head:
                    feed.wake()


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PlanHub] = weakref.WeakKeyDictionary()


def plan_hub() -> PlanHub:
    """The hub of the running event loop (one per ASGI process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = PlanHub()
    return hub
