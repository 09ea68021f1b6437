"""End-to-end benchmark of the planning pipeline against the bare-chord floor, on the same broker.

Prints one JSON object: idle latency and burst throughput of plans against bare chords (four no-op
header tasks and a no-op callback) in the same run, SQL statements per plan (web and worker paths), and
the burst's median plan latency over its duration (0.5 or less when plans finish as they go, near 1
when they all finish together at the end). The drain runs the worker alone: `--drain` plans (and as many
bare chords) are published while the worker consumes nothing, then it consumes them all, so the
submitting process does not share the cores with it; its ratio is the engine's against the broker's floor.
Uses the configured DATABASE_URL and REDIS_URL (PostgreSQL and Redis for meaningful figures), or the
embedded default when REDIS_URL is unset, and starts its own worker. `--broker rabbitmq` takes RabbitMQ
as the broker (quorum queues, publisher confirms; results stay in Redis):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyplanner_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/pipeline.py --plans 200 --idle 20 [--broker rabbitmq]
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")
# One user submits every plan here: measure the engine, not the per-user admission (bench/fairness.py does).
os.environ.setdefault("PLAN_ADMISSION_PER_USER", "0")

from bench.cluster import rabbitmq_vhost_url

BROKERS = ("redis", "rabbitmq")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200, help="plans (and floor chords) in the burst")
    parser.add_argument("--idle", type=int, default=20, help="plans (and floor chords) submitted one at a time")
    parser.add_argument("--drain", type=int, default=200, help="plans (and floor chords) queued, then drained")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--broker", choices=BROKERS, default="redis", help="the broker (results stay in Redis)")
    parser.add_argument("--rabbitmq-vhost", default="partyplanner_bench", help="RabbitMQ virtual host to use")
    return parser.parse_args()


# Parsed before Django starts (the broker is chosen by the environment); not when another benchmark imports
# this module for its helpers.
ARGS = arguments() if __name__ == "__main__" else None
if ARGS is not None and ARGS.broker == "rabbitmq":
    os.environ["CELERY_BROKER_URL"] = rabbitmq_vhost_url(ARGS.rabbitmq_vhost)

import django  # noqa: E402

django.setup()

from celery import chord, group, signature  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from agents import cli, services  # noqa: E402
from bench.sql_count import StatementCounter, sql_read, sql_reset  # noqa: E402
from partyproject.celery import app  # noqa: E402
from partyproject.embedded import EmbeddedServices, redis_use  # noqa: E402
from planning.models import Plan, PlanEvent  # noqa: E402

REQUESTS = (
    "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan",
    "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free",
    "Wedding for 120 guests in Chicago, rustic garden theme, budget $20,000, two vegetarians",
    "Corporate holiday party for 60 people in Seattle, casino night, $6k budget, nut allergy",
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def wait_all(ids: list, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while Plan.objects.filter(pk__in=ids).exclude(status__in=Plan.TERMINAL).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("plans did not finish in time")
        time.sleep(0.05)


def pipeline_idle(user, count: int) -> list[float]:
    """Submit plans one at a time; latency from accepted to final, from the database's timestamps."""
    latencies = []
    for index in range(count):
        plan = services.plan_create(owner=user, text=REQUESTS[index % len(REQUESTS)])
        wait_all([plan.id], 60)
        plan.refresh_from_db()
        latencies.append((plan.finished_at - plan.created_at).total_seconds() * 1000)
    return latencies


def pipeline_burst(user, count: int) -> dict:
    """Submit `count` plans at once and measure until the last one has ended; count the SQL statements
    of the web path (here) and of the worker path (bench.sql_count in the worker)."""
    web = StatementCounter()
    sql_reset()
    started = time.monotonic()
    with connection.execute_wrapper(web):
        ids = [services.plan_create(owner=user, text=REQUESTS[i % len(REQUESTS)]).id for i in range(count)]
    submitted = time.monotonic() - started
    wait_all(ids, 600)
    elapsed = time.monotonic() - started
    worker = sql_read()
    plans = Plan.objects.filter(pk__in=ids)
    events = PlanEvent.objects.filter(plan_id__in=ids).count()
    outcomes = dict(plans.values_list("status").annotate(n=Count("id")))
    latencies = [(p.finished_at - p.created_at).total_seconds() * 1000 for p in plans.only("created_at", "finished_at")]
    return {
        "plans": count,
        "outcomes": outcomes,
        "submit_seconds": round(submitted, 3),
        "elapsed_seconds": round(elapsed, 3),
        "plans_per_second": round(count / elapsed, 1),
        "events_per_second": round(events / elapsed, 1),
        "latency_ms_p50": round(percentile(latencies, 0.5), 1),
        "latency_ms_p99": round(percentile(latencies, 0.99), 1),
        "median_latency_over_duration": round(statistics.median(latencies) / 1000 / elapsed, 2),
        "sql_per_plan": {
            "total": round((web.count + sum(worker["statements"].values())) / count, 1),
            "web": round(web.count / count, 1),
            **{
                name.removeprefix("agents."): round(statements / count, 1)
                for name, statements in sorted(worker["statements"].items())
            },
        },
    }


def floor_idle(count: int) -> list[float]:
    """Bare chords one at a time: latency from publishing to the callback's result."""
    noop = signature("bench.noop", immutable=True)
    latencies = []
    for _ in range(count):
        started = time.monotonic()
        chord(group([noop.clone() for _ in range(4)]), noop.clone()).apply_async().get(timeout=60)
        latencies.append((time.monotonic() - started) * 1000)
    return latencies


def floor_burst(count: int) -> dict:
    """The same number of bare chords: four no-op header tasks and a no-op callback."""
    noop = signature("bench.noop", immutable=True)
    started = time.monotonic()
    results = [chord(group([noop.clone() for _ in range(4)]), noop.clone()).apply_async() for _ in range(count)]
    for result in results:
        result.get(timeout=600, disable_sync_subtasks=False)
    elapsed = time.monotonic() - started
    return {"chords": count, "elapsed_seconds": round(elapsed, 3), "chords_per_second": round(count / elapsed, 1)}


WORKER_ARGS = ["--include", "bench.floor_tasks,bench.sql_count"]


GATE_QUEUE = "bench-drain-gate"  # a queue nobody publishes to: a worker consuming only it takes nothing


def cpu_seconds(worker_pid: int) -> dict[str, float]:
    """CPU seconds used so far (from /proc) by the worker (its main process and pool), PostgreSQL's
    processes and Redis's: the machine's shares of the work, assuming nothing else runs meanwhile."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"worker": 0.0, "postgresql": 0.0, "redis": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, parent, cpu = int(entry.name), int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
        if worker_pid in (pid, parent):
            used["worker"] += cpu
        elif name in ("postgres", "postmaster"):
            used["postgresql"] += cpu
        elif name.startswith(("redis-server", "valkey-server")):
            used["redis"] += cpu
    return used


class Drain:
    """Queue work for a worker that consumes nothing yet, then open every queue to it and time it alone,
    with the CPU it, PostgreSQL and Redis spend per item; neither submission nor start-up is counted."""

    def __init__(self, running: EmbeddedServices, worker: subprocess.Popen) -> None:
        self.running, self.worker, self.rounds = running, worker, 0

    def measure(self, publish: Callable[[], list], done: Callable[[list], None]) -> tuple[float, dict[str, float]]:
        """Seconds the worker takes to drain what `publish()` queued, and the CPU seconds spent meanwhile."""
        self.running.stop_process(self.worker)
        self.rounds += 1
        name = f"drain{self.rounds}-{os.getpid()}"
        self.worker = self.running.start_worker(extra_args=WORKER_ARGS, name=name, queues=[GATE_QUEUE])
        queued = publish()
        before = cpu_seconds(self.worker.pid)
        started = time.monotonic()
        node = [f"{name}@{socket.gethostname()}"]
        for queue in settings.CELERY_QUEUE_NAMES:
            app.control.add_consumer(queue, destination=node, reply=True, timeout=10)
        done(queued)
        seconds = time.monotonic() - started
        after = cpu_seconds(self.worker.pid)
        return seconds, {part: after[part] - before[part] for part in after}

    @staticmethod
    def figures(count: int, seconds: float, cpu: dict[str, float]) -> dict:
        return {
            "seconds": round(seconds, 3),
            "per_second": round(count / seconds, 1),
            "cpu_ms_each": {part: round(used * 1000 / count, 1) for part, used in cpu.items()},
        }

    def pipeline(self, user, count: int) -> dict:
        """`count` plans queued, then drained."""
        seconds, cpu = self.measure(
            lambda: [services.plan_create(owner=user, text=REQUESTS[i % len(REQUESTS)]).id for i in range(count)],
            lambda ids: wait_all(ids, 600),
        )
        return {"plans": count, **self.figures(count, seconds, cpu)}

    def floor(self, count: int) -> dict:
        """`count` bare chords queued, then drained."""
        noop = signature("bench.noop", immutable=True)
        seconds, cpu = self.measure(
            lambda: [chord(group([noop.clone() for _ in range(4)]), noop.clone()).apply_async() for _ in range(count)],
            lambda results: [result.get(timeout=600, disable_sync_subtasks=False) for result in results],
        )
        return {"chords": count, **self.figures(count, seconds, cpu)}


def main() -> None:
    args = ARGS
    cli.database_prepare()
    user = cli.demo_user_ensure(username="bench")
    embedded = cli.is_embedded()
    with EmbeddedServices(concurrency=args.concurrency) as running:
        if embedded:
            redis_use(running.start_broker())
        app.control.purge()
        worker = running.start_worker(extra_args=WORKER_ARGS)
        floor_burst(10)
        pipeline_idle(user, 3)
        floor_idle_ms = floor_idle(args.idle)
        idle = pipeline_idle(user, args.idle)
        floor = floor_burst(args.plans)
        burst = pipeline_burst(user, args.plans)
        drain = None
        if args.drain:
            draining = Drain(running, worker)
            drain = {"plans": draining.pipeline(user, args.drain), "floor": draining.floor(args.drain)}
    floor_p50 = statistics.median(floor_idle_ms)
    report = {
        "broker": "embedded valkey-server" if embedded else args.broker,
        "result_backend": "redis",
        "database": django.db.connection.vendor,
        "worker": f"prefork -c {args.concurrency}",
        "cpus": os.cpu_count(),
        "idle": {
            "plans": args.idle,
            "latency_ms_p50": round(statistics.median(idle), 1),
            "latency_ms_p99": round(percentile(idle, 0.99), 1),
            "floor_latency_ms_p50": round(floor_p50, 1),
            "floor_latency_ms_p99": round(percentile(floor_idle_ms, 0.99), 1),
        },
        "burst": burst,
        "floor": floor,
        "pipeline_over_floor": round(burst["plans_per_second"] / floor["chords_per_second"], 2),
        "drain": drain,
        "drain_over_floor": (round(drain["plans"]["per_second"] / drain["floor"]["per_second"], 2) if drain else None),
        "idle_latency_over_floor": round(statistics.median(idle) / floor_p50, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
