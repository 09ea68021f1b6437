"""Live-stream benchmark: many WebSocket subscribers on one ASGI process (uvicorn, as `bin/demo` runs it).

Connects `--subscribers` clients spread over `--plans` plans, then commits `--events` events per plan
(at `--rate` events/s in all) and measures, for every (subscriber, event) pair, the delay from the
event's commit to its arrival at the subscriber; also the server's resident memory per connection.
Prints one JSON object. Uses DATABASE_URL and REDIS_URL, or the embedded default when REDIS_URL is unset:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyplanner_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/live.py --subscribers 10000 --plans 100 --events 10
"""

import argparse
import asyncio
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from agents import cli  # noqa: E402
from bench.pipeline import percentile  # noqa: E402
from partyproject.embedded import EmbeddedServices, free_port, port_in_use, redis_use, wait_until  # noqa: E402
from planning.models import Plan, PlanStatus  # noqa: E402
from planning.services import event_append  # noqa: E402


def rss_kib(pid: int) -> int:
    """Resident memory of a process, KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Subscribers:
    """The client side: `count` WebSocket connections, recording when each event arrives."""

    def __init__(self, url: str, token: str, plans: list[str], count: int, *, compression: bool) -> None:
        self.url, self.token, self.plans, self.count = url, token, plans, count
        self.compression = "deflate" if compression else None
        self.arrivals: list[tuple[str, int, float]] = []
        self.connected = 0
        self.failed_connects = 0
        self.all_connected = asyncio.Event()
        self.closed_normally = 0

    async def one(self, index: int, gate: asyncio.Semaphore) -> None:
        plan_id = self.plans[index % len(self.plans)]
        async with gate:
            try:
                ws = await connect(
                    f"{self.url}/ws/v1/plans/{plan_id}/?after=0",
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    compression=self.compression,
                    open_timeout=120,
                    ping_interval=None,
                    max_queue=None,
                )
            except Exception:  # noqa: BLE001 - counted and reported
                self.failed_connects += 1
                self._check_all()
                return
        self.connected += 1
        self._check_all()
        arrivals = self.arrivals
        async with ws:
            async for message in ws:
                now = time.time()
                frame = json.loads(message)
                if frame["type"] != "heartbeat":
                    arrivals.append((plan_id, frame["seq"], now))
        if ws.close_code == 1000:
            self.closed_normally += 1

    def _check_all(self) -> None:
        if self.connected + self.failed_connects == self.count:
            self.all_connected.set()

    async def run(self, until_done: asyncio.Event) -> None:
        gate = asyncio.Semaphore(256)
        tasks = [asyncio.create_task(self.one(i, gate)) for i in range(self.count)]
        await asyncio.wait_for(until_done.wait(), timeout=None)
        await asyncio.wait(tasks, timeout=60)


def commit_events(plan_ids: list[str], events: int, rate: float, commits: dict) -> None:
    """Commit `events` events per plan (the last one terminal), recording each commit time."""
    pause = 1.0 / rate
    for seq_index in range(events):
        for plan_id in plan_ids:
            terminal = seq_index == events - 1
            with transaction.atomic():
                if terminal:
                    Plan.objects.filter(pk=plan_id).update(status=PlanStatus.COMPLETE)
                seq = event_append(
                    plan_id=plan_id, type="plan.complete" if terminal else "agent.started", agent="venue"
                )
            commits[(plan_id, seq)] = time.time()
            time.sleep(pause)


def plans_prepare(count: int) -> tuple[str, list[str]]:
    """A user's token and `count` running plans with one event each."""
    user, _ = get_user_model().objects.get_or_create(username="bench-live")
    plan_ids = [
        str(Plan.objects.create(owner=user, status=PlanStatus.RUNNING, request_text="bench").id) for _ in range(count)
    ]
    with transaction.atomic():
        for plan_id in plan_ids:
            event_append(plan_id=plan_id, type="plan.running")
    return str(AccessToken.for_user(user)), plan_ids


async def measure(args, url: str, server_pid: int, token: str, plan_ids: list[str]) -> dict:
    subscribers = Subscribers(url, token, plan_ids, args.subscribers, compression=not args.no_compression)
    done = asyncio.Event()
    rss_before = rss_kib(server_pid)
    started = time.monotonic()
    clients = asyncio.create_task(subscribers.run(done))
    await subscribers.all_connected.wait()
    connect_seconds = time.monotonic() - started
    await asyncio.sleep(2)  # every subscriber has replayed event 1 and waits
    rss_connected = rss_kib(server_pid)

    commits: dict[tuple[str, int], float] = {}
    writer = threading.Thread(target=commit_events, args=(plan_ids, args.events, args.rate, commits))
    writing_started = time.monotonic()
    writer.start()
    while writer.is_alive():
        await asyncio.sleep(0.2)
    done.set()
    await clients
    elapsed = time.monotonic() - writing_started

    delays = [(arrived - commits[(plan, seq)]) * 1000 for plan, seq, arrived in subscribers.arrivals if seq > 1]
    expected = subscribers.connected * args.events
    return {
        "benchmark": "live-websocket",
        "server": "uvicorn (1 process), websockets-sansio, Redis pub/sub wake-ups",
        "compression": not args.no_compression,
        "subscribers": args.subscribers,
        "connected": subscribers.connected,
        "failed_connects": subscribers.failed_connects,
        "plans": args.plans,
        "events_per_plan": args.events,
        "connect_seconds": round(connect_seconds, 1),
        "server_rss_mib": {"idle": round(rss_before / 1024, 1), "connected": round(rss_connected / 1024, 1)},
        "server_kib_per_connection": round((rss_connected - rss_before) / max(1, subscribers.connected), 1),
        "deliveries": {"expected": expected, "received": len(delays), "closed_normally": subscribers.closed_normally},
        "commit_to_arrival_ms": {
            "p50": round(percentile(delays, 0.5), 1) if delays else None,
            "p99": round(percentile(delays, 0.99), 1) if delays else None,
            "max": round(max(delays), 1) if delays else None,
        },
        "deliveries_per_second": round(len(delays) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--plans", type=int, default=100)
    parser.add_argument("--events", type=int, default=10, help="events per plan, the last one terminal")
    parser.add_argument("--rate", type=float, default=50.0, help="events committed per second, all plans together")
    parser.add_argument("--no-compression", action="store_true", help="clients do not offer permessage-deflate")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.subscribers + 100 > hard:
        sys.exit(f"raise the open-files limit: {args.subscribers} sockets need more than {hard}")
    cli.database_prepare()
    with EmbeddedServices(log_dir=Path("var/log/bench-live")) as services:
        if cli.is_embedded():
            redis_use(services.start_broker())
        port = free_port()
        server = services.start_server(port=port, env={"EVENTS_HEARTBEAT_SECONDS": "60"})
        wait_until(lambda: port_in_use(port), timeout=60, what="the ASGI server")
        token, plan_ids = plans_prepare(args.plans)
        result = asyncio.run(measure(args, f"ws://127.0.0.1:{port}", server.pid, token, plan_ids))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
