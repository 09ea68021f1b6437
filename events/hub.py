"""One hub per ASGI process: the subscribers of a plan share one wake-up channel and one database read.

However many clients watch a plan, the process joins the plan's channel-layer group once, reads each
new event from the log once (a single-flight read into a bounded tail cache), and wakes its local
subscribers in memory. A periodic check of the plans' heads catches up after a lost wake-up.
"""

import asyncio
import contextlib
import logging
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from channels.db import database_sync_to_async
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers, get_channel_layer
from django.conf import settings

from . import selectors
from .notify import plan_group

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


async def _receive_cancellable(layer, channel: str) -> dict[str, Any]:
    """The layer's next message on `channel`; when cancelled, this ends however the layer takes it.

    A cancellation can be lost inside a blocking receive (redis-py turns a read timeout that expires with
    it into an error it retries, and channels_redis then blocks again), and a task that outlives its
    cancellation hangs the event loop's shutdown. So the receive runs in a task of its own, and is
    cancelled again until it has ended.
    """
    receiving = asyncio.ensure_future(layer.receive(channel))
    try:
        return await asyncio.shield(receiving)
    except asyncio.CancelledError:
        while not receiving.done():
            receiving.cancel()
            await asyncio.wait({receiving}, timeout=0.1)
        raise


class PlanHub:
    """The process's registry of streamed plans."""

    def __init__(self) -> None:
        self.feeds: dict[UUID, PlanFeed] = {}
        self._layer = None
        self._channel: str | None = None
        self._tasks: list[asyncio.Task] = []
        self._started = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def subscription(self, plan_id: UUID) -> AsyncIterator[asyncio.Event]:
        """Subscribe to a plan's wake-ups for the duration of the block; yields the subscriber's event."""
        await self._start()
        feed = self.feeds.get(plan_id)
        if feed is None:
            feed = self.feeds[plan_id] = PlanFeed(plan_id=plan_id)
            await self._group(plan_id, join=True)
            feed.joined.set()
        await feed.joined.wait()  # no read before the process listens for the plan's wake-ups
        waker = asyncio.Event()
        feed.wakers.add(waker)
        try:
            yield waker
        finally:
            feed.wakers.discard(waker)
            if not feed.wakers and self.feeds.get(plan_id) is feed:
                del self.feeds[plan_id]
                await self._group(plan_id, join=False)

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
            if get_channel_layer() is not None:
                # A layer instance of this hub's own: channels_redis keeps its receive state per instance,
                # and one instance received on by several event loops (one per test) can hang a loop's
                # shutdown.
                self._layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
                self._channel = await self._layer.new_channel("events.hub.")
                self._tasks.append(asyncio.create_task(self._listen(self._layer)))
            self._tasks.append(asyncio.create_task(self._poll()))

    async def _group(self, plan_id: UUID, *, join: bool) -> None:
        layer = self._layer
        if layer is None or self._channel is None:
            return
        try:
            if join:
                await layer.group_add(plan_group(plan_id), self._channel)
            else:
                await layer.group_discard(plan_group(plan_id), self._channel)
        except Exception:
            logger.warning("Channel layer unavailable; plan %s is polled only", plan_id, exc_info=True)

    async def _listen(self, layer) -> None:
        while True:
            try:
                message = await _receive_cancellable(layer, self._channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Channel layer receive failed; retrying", exc_info=True)
                await asyncio.sleep(1)
                continue
            plan_id = message.get("plan_id")
            feed = self.feeds.get(UUID(plan_id)) if plan_id else None
            if feed is not None:
                feed.wake()

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
