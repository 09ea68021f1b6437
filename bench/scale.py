"""Plans per second with 1, 2 and 4 worker processes (separate nodes, one pool process each, distinct
node names, every queue), on the configured PostgreSQL and Redis. Prints one JSON object.

Each round's workers start without the default queue (where new plans' first steps wait), its plans are
queued, and then every worker is told to consume it at once; throughput is taken from the spread of the
plans' finishing times, so neither submission nor worker start-up is counted. On a machine with
fewer cores than processes the figures show the CPU limit, not the design's: `cpus` in the output says
how many cores ran it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyplanner_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/scale.py --plans 200 --workers 1 2 4
"""

import argparse
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")
# One user submits every plan here: measure the engine, not the per-user admission (bench/fairness.py does).
os.environ.setdefault("PLAN_ADMISSION_PER_USER", "0")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from agents import cli, services  # noqa: E402
from partyproject.celery import app  # noqa: E402
from partyproject.embedded import EmbeddedServices  # noqa: E402
from planning.models import Plan  # noqa: E402

REQUESTS = (
    "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan",
    "Wedding for 120 guests in Chicago, rustic garden theme, budget $20,000, two vegetarians",
)


def database_connections() -> int:
    """Sessions open on this database (the benchmark's own included)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def round_run(user, *, workers: int, plans: int) -> dict:
    """Start `workers` single-process nodes, queue `plans` plans, open the gate, and time them through."""
    app.control.purge()
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    others = [queue for queue in settings.CELERY_QUEUE_NAMES if queue != default]
    stop = threading.Event()
    with EmbeddedServices(concurrency=1) as running:
        names = [f"scale{index + 1}-{os.getpid()}" for index in range(workers)]
        for name in names:
            running.start_worker(name=name, queues=others)
        before = database_connections()
        peak = [before]
        ids = [services.plan_create(owner=user, text=REQUESTS[i % len(REQUESTS)]).id for i in range(plans)]
        nodes = [f"{name}@{socket.gethostname()}" for name in names]
        app.control.add_consumer(default, destination=nodes, reply=True, timeout=5)

        def sample() -> None:
            while not stop.wait(0.25):
                peak.append(database_connections())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        deadline = time.monotonic() + 600
        while Plan.objects.filter(pk__in=ids).exclude(status__in=Plan.TERMINAL).exists():
            if time.monotonic() > deadline:
                raise TimeoutError("plans did not finish in time")
            time.sleep(0.1)
        stop.set()
        sampler.join()
    finished = sorted(Plan.objects.filter(pk__in=ids).values_list("finished_at", flat=True))
    spread = (finished[-1] - finished[0]).total_seconds()
    statuses = dict.fromkeys(Plan.TERMINAL, 0)
    for status in Plan.objects.filter(pk__in=ids).values_list("status", flat=True):
        statuses[status] += 1
    return {
        "workers": workers,
        "plans": plans,
        "outcomes": {status: n for status, n in statuses.items() if n},
        "plans_per_second": round((plans - 1) / spread, 1),
        "database_connections_peak": max(peak) - before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200, help="plans per round")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker processes per round")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/scale.py needs PostgreSQL (DATABASE_URL)")
    cli.database_prepare()
    user = cli.demo_user_ensure(username="bench")
    rounds = [round_run(user, workers=n, plans=args.plans) for n in args.workers]
    base = rounds[0]["plans_per_second"]
    report = {
        "broker": app.conf.broker_url.partition("://")[0],
        "cpus": os.cpu_count(),
        "note": f"{os.cpu_count()} cores: past that many busy processes the CPU, not the design, is the limit",
        "rounds": [{**entry, "speedup": round(entry["plans_per_second"] / base, 2)} for entry in rounds],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
