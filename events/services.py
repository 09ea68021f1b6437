"""The relay: publish committed events from the log to the event bus, at least once and in order per plan.

Its position is one row per plan (`RelayCursor`) in the same database as the log, moved forward only
after the bus has taken the events: a crash between the two publishes those events again (consumers
deduplicate by (plan_id, seq)), and nothing in Redis or Kafka needs to survive for the relay to
know where it is.
"""

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import selectors
from .bus import EventBus
from .models import RelayCursor

logger = logging.getLogger(__name__)


def relay_cursor_advance(*, plan_id: UUID, seq: int) -> None:
    """Record that the plan's events up to `seq` are on the bus (never moves backwards)."""
    if RelayCursor.objects.filter(plan_id=plan_id, seq__lt=seq).update(seq=seq):
        return
    try:
        with transaction.atomic():
            RelayCursor.objects.get_or_create(plan_id=plan_id, defaults={"seq": seq})
    except IntegrityError:  # another relay created it meanwhile
        RelayCursor.objects.filter(plan_id=plan_id, seq__lt=seq).update(seq=seq)


@dataclass
class RelayWindow:
    """Which plans the relay's next step reads, so a step under steady load reads the plans changed since
    the previous one rather than all of `EVENT_RELAY_LOOKBACK_HOURS`.

    After a step that read fewer candidates than its batch (it drained what it saw), the next reads plans
    changed since that step began, less `margin`: a transaction stamps `updated_at` before it commits, and
    clocks of different hosts differ, so a plan can become visible with a stamp a little in the past.
    Every `sweep_every`, and on the first step, a step reads the whole lookback, which catches any plan a
    longer transaction or a larger clock skew hid from the narrow steps.
    """

    margin: timedelta
    sweep_every: timedelta
    since: datetime | None = None
    swept_at: datetime | None = None

    @classmethod
    def from_settings(cls) -> "RelayWindow":
        return cls(
            margin=timedelta(seconds=settings.EVENT_RELAY_MARGIN_SECONDS),
            sweep_every=timedelta(seconds=settings.EVENT_RELAY_SWEEP_SECONDS),
        )

    def step_since(self, *, now: datetime) -> datetime | None:
        """The lower bound of a step beginning `now`; None for a sweep of the whole lookback."""
        if self.swept_at is None or now - self.swept_at >= self.sweep_every:
            return None
        return self.since  # set by the sweep's drain at the latest

    def drained(self, *, began: datetime, since: datetime | None) -> None:
        """A step that began at `began` with bound `since` published everything it saw."""
        self.since = began - self.margin
        if since is None:
            self.swept_at = began


def relay_step(*, bus: EventBus, batch: int | None = None, window: RelayWindow | None = None) -> int:
    """Publish what the bus has not got yet (up to `batch` plans, `batch` events each); returns how many.
    Without a `window`, the step reads every plan changed within the lookback."""
    batch = batch or settings.EVENT_RELAY_BATCH
    lookback = timedelta(hours=settings.EVENT_RELAY_LOOKBACK_HOURS)
    began = timezone.now()
    since = window.step_since(now=began) if window else None
    candidates = selectors.plans_to_relay(lookback=lookback, since=since, limit=batch)
    published, drained = 0, len(candidates) < batch
    for plan_id, relayed in candidates:
        events = selectors.plan_event_envelopes(plan_id=plan_id, after=relayed, limit=batch)
        if events:
            bus.publish(events)
            relay_cursor_advance(plan_id=plan_id, seq=events[-1]["seq"])
            published += len(events)
        drained = drained and len(events) < batch  # a plan with more left is read again next step
    if window and drained:
        window.drained(began=began, since=since)
    return published


def relay_run(*, bus: EventBus, stop: threading.Event, interval: float | None = None) -> None:
    """Relay until `stop` is set: at once while there is a backlog, every `interval` seconds when idle,
    backing off (up to 30 s) while the bus or the database is unavailable."""
    interval = settings.EVENT_RELAY_INTERVAL_SECONDS if interval is None else interval
    window = RelayWindow.from_settings()
    failures = 0
    while not stop.is_set():
        try:
            published = relay_step(bus=bus, window=window)
        except Exception:
            failures += 1
            logger.exception("Relay step failed (%s in a row); the events stay in the log", failures)
            stop.wait(min(30.0, interval * 2**failures))
            continue
        failures = 0
        if published:
            logger.info("Relayed %s events", published)
        else:
            stop.wait(interval)


class Deduplicator:
    """Remembers the (plan_id, seq) of the last `size` events processed, to drop redeliveries."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self.seen: OrderedDict[tuple[str, int], None] = OrderedDict()

    def first_time(self, event: dict[str, Any]) -> bool:
        key = (event["plan_id"], event["seq"])
        if key in self.seen:
            return False
        self.seen[key] = None
        if len(self.seen) > self.size:
            self.seen.popitem(last=False)
        return True
