"""The wake-up signal: after a plan's events commit, tell the processes that stream it to read the log.

The signal carries no event. The channel layer may drop it (a channel over capacity, Redis briefly
away); subscribers then still catch up by polling the log, which is the only source of truth.

Sending never blocks the committing thread: each process has one daemon thread with an event loop
(and its pooled Redis connections) that sends the signals; at most MAX_PENDING wait there, beyond
that a signal is dropped rather than letting memory grow while Redis is away.
"""

import asyncio
import logging
import os
import threading
from concurrent.futures import Future
from uuid import UUID

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

WAKE_TYPE = "plan.wake"
MAX_PENDING = 1000


def plan_group(plan_id: UUID | str) -> str:
    """The channel-layer group of the processes streaming a plan."""
    return f"plan.{UUID(str(plan_id)).hex}"


class WakeSender:
    """A daemon thread running an event loop that sends wake-ups for this process."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.pending = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.loop.run_forever, name="plan-wake", daemon=True).start()

    def send(self, layer, plan_id: UUID | str) -> Future | None:
        with self.lock:
            if self.pending >= MAX_PENDING:
                logger.warning("Dropping the wake-up of plan %s: %s already waiting", plan_id, self.pending)
                return None
            self.pending += 1
        message = {"type": WAKE_TYPE, "plan_id": str(plan_id)}
        future = asyncio.run_coroutine_threadsafe(layer.group_send(plan_group(plan_id), message), self.loop)
        future.add_done_callback(lambda done: self._done(done, plan_id))
        return future

    def _done(self, future: Future, plan_id: UUID | str) -> None:
        with self.lock:
            self.pending -= 1
        if future.exception() is not None:
            logger.warning("Could not signal new events of plan %s: %r", plan_id, future.exception())


_sender: WakeSender | None = None
_sender_lock = threading.Lock()


def wake_sender() -> WakeSender:
    """This process's sender (a new one after a fork: the parent's thread does not survive it)."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender.pid != os.getpid():
            _sender = WakeSender()
        return _sender


def plan_wake(*, plan_id: UUID | str) -> Future | None:
    """Signal that a plan has new committed events; returns at once. Never raises: a lost signal only
    delays delivery until the subscribers' next poll."""
    try:
        layer = get_channel_layer()
        if layer is None:
            return None
        return wake_sender().send(layer, plan_id)
    except Exception:
        logger.warning("Could not signal new events of plan %s", plan_id, exc_info=True)
        return None
