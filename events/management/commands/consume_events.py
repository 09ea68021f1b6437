"""`manage.py consume_events`: an example consumer of the event bus, printing each plan event once.

It shows the consumer-group API: poll, deduplicate by (plan_id, seq), process, acknowledge; an event
it cannot handle goes to the dead-letter stream instead of blocking the group.
"""

import json
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from events.bus import Delivery, bus_from_settings
from events.schema import SCHEMA_VERSION
from events.services import Deduplicator


class UnsupportedEvent(Exception):
    """An event this consumer does not understand (e.g. a newer schema version)."""


def event_handle(event: dict) -> str:
    """The example's processing: one line of text per event."""
    if event.get("v") != SCHEMA_VERSION or "type" not in event:
        raise UnsupportedEvent(f"unsupported event version {event.get('v')!r}")
    agent = f" {event['agent']}" if event.get("agent") else ""
    return f"{event['plan_id']} #{event['seq']} {event['type']}{agent}"


class Command(BaseCommand):
    help = "Consume plan events from the event bus as a member of a consumer group, printing each once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--group", default="example", help="Consumer group (default: example).")
        parser.add_argument("--name", default="consumer-1", help="This member's name within the group.")
        parser.add_argument("--max-events", type=int, default=0, help="Stop after this many events (0: never).")
        parser.add_argument("--idle-exit", type=float, default=0, help="Stop after this many idle seconds (0: never).")
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print each event as a JSON line.")

    def handle(self, *args, group: str, name: str, max_events: int, idle_exit: float, as_json: bool, **options) -> None:
        bus = bus_from_settings()
        if bus is None:
            raise CommandError("EVENT_BUS is 'none': there is nothing to consume.")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        consumer = bus.consumer(group=group, name=name)
        seen = Deduplicator()
        handled = idle = 0
        try:
            while not stop.is_set() and not (max_events and handled >= max_events):
                deliveries = consumer.poll(max_count=100, timeout=1.0)
                idle = 0 if deliveries else idle + 1
                if idle_exit and idle >= idle_exit:
                    break
                handled += self._process(consumer, deliveries, seen, as_json=as_json)
        finally:
            consumer.close()
            bus.close()

    def _process(self, consumer, deliveries: list[Delivery], seen: Deduplicator, *, as_json: bool) -> int:
        done: list[Delivery] = []
        for delivery in deliveries:
            if not seen.first_time(delivery.event):
                done.append(delivery)  # a redelivery: already processed
                continue
            try:
                line = event_handle(delivery.event)
            except UnsupportedEvent as error:
                consumer.dead_letter(delivery, error=str(error))
                event = delivery.event
                self.stderr.write(f"dead-lettered {event.get('plan_id')} #{event.get('seq')}: {error}")
                continue
            self.stdout.write(json.dumps(delivery.event) if as_json else line)
            done.append(delivery)
        consumer.ack(done)
        return len(done)
