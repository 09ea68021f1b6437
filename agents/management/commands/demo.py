"""`manage.py demo`: the whole system on one machine, with no external services unless configured."""

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from agents import cli, services
from partyproject.embedded import free_port, port_in_use, wait_until

SAMPLE_REQUEST = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"


class Command(BaseCommand):
    help = (
        "Migrate, seed the catalog, create a demo user, start a broker, a worker, the relay and the ASGI server "
        "(API, live page, event streams), plan a sample party."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=0, help="API port (default: 8000 if free).")
        parser.add_argument("--once", action="store_true", help="Plan the sample party and exit.")

    def handle(self, *args, port: int, once: bool, **options) -> None:
        # Ctrl-C and SIGTERM both stop everything cleanly, even when SIGINT was ignored on start-up.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        cli.database_prepare()
        user = cli.demo_user_ensure()
        with cli.pipeline_services(start_worker=True, beat=True) as running:
            self.stdout.write(f"Planning a sample party: {SAMPLE_REQUEST!r}")
            plan = cli.plan_wait(plan_id=services.plan_create(owner=user, text=SAMPLE_REQUEST).id, timeout=120)
            self.stdout.write(cli.plan_render(plan))
            if once:
                return
            port = port or (free_port() if port_in_use(8000) else 8000)
            server = running.start_server(port=port)
            if settings.EVENT_BUS != "none":
                running.start_relay()
            wait_until(lambda: port_in_use(port), timeout=30, what="the API server")
            self.stdout.write(self._tour(port))
            try:
                while server.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                self.stdout.write("Stopping the API, the worker and the broker…")
                self.stdout.flush()

    @staticmethod
    def _tour(port: int) -> str:
        base = f"http://127.0.0.1:{port}/api/v1"
        return f"""
Open http://127.0.0.1:{port}/ and sign in as {cli.DEMO_USERNAME} / {cli.DEMO_PASSWORD} to plan a party and
watch the agents live. The API is at {base}/ (admin: http://127.0.0.1:{port}/admin/). Ctrl-C stops everything.

  TOKEN=$(curl -s -X POST {base}/auth/token/ -H 'Content-Type: application/json' \\
      -d '{{"username": "{cli.DEMO_USERNAME}", "password": "{cli.DEMO_PASSWORD}"}}' \\
      | python3 -c 'import sys, json; print(json.load(sys.stdin)["access"])')
  curl -s -X POST {base}/plans/ -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
      -d '{{"text": "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"}}'
  curl -s {base}/plans/ -H "Authorization: Bearer $TOKEN"
  curl -s {base}/plans/<id>/ -H "Authorization: Bearer $TOKEN"
  curl -sN {base}/plans/<id>/stream/ -H "Authorization: Bearer $TOKEN"     # live events (SSE)
"""
