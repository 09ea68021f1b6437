"""`manage.py relay_events`: publish committed plan events to the event bus, until stopped."""

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from events.bus import bus_from_settings
from events.services import relay_run, relay_step


class Command(BaseCommand):
    help = "Publish committed plan events from the log to the event bus (EVENT_BUS), at least once, in order per plan."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Publish the current backlog and exit.")
        parser.add_argument("--interval", type=float, default=None, help="Seconds between polls when idle.")

    def handle(self, *args, once: bool, interval: float | None, **options) -> None:
        bus = bus_from_settings()
        if bus is None:
            raise CommandError("EVENT_BUS is 'none': there is nothing to relay to.")
        try:
            if once:
                total = 0
                while published := relay_step(bus=bus):
                    total += published
                self.stdout.write(f"Relayed {total} events.")
                return
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            self.stdout.write("Relaying plan events; Ctrl-C stops.")
            relay_run(bus=bus, stop=stop, interval=interval)
        finally:
            bus.close()
