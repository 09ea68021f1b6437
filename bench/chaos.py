"""Chaos benchmark: the chaos suite's faults at a larger size, each repeated at random moments of a batch.

Starts its own cluster (private Redis, a proxy in front of PostgreSQL, a supervised prefork worker, beat;
never the machine's shared services) on a database of its own, and prints one JSON object with, per fault:
submitted, terminal, complete, partial, failed, lost, duplicated, seq_problems, double_results and
max_recovery_s (from the fault healing to the last plan of its batch ending).

    .venv/bin/python bench/chaos.py --plans 200 --repeats 2 --rate 3       # short timeouts
    .venv/bin/python bench/chaos.py --plans 200 --timeouts production      # the shipped defaults
"""

import argparse
import json
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "partyproject.settings.test"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/partyplanner_chaos")

import django

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from agents import cli, services  # noqa: E402
from agents.faults import fault_clear, fault_set  # noqa: E402
from planning.models import Plan  # noqa: E402
from planning.services import catalog_seed  # noqa: E402
from tests.chaos.harness import (  # noqa: E402
    PRODUCTION_TIMEOUTS,
    SHORT_TIMEOUTS,
    Cluster,
    celery_use,
    verdict,
    wait_terminal,
)

REQUEST = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"
AGENTS = ("theme", "venue", "cake", "budget")


def database_ensure() -> None:
    """Create the benchmark's database if it does not exist, then migrate it and load the current catalog."""
    name = settings.DATABASES["default"]["NAME"]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    cli.database_prepare()
    catalog_seed()


def slow_agents() -> None:
    """Each catalog call takes a moment, so that faults catch work in flight."""
    for agent in AGENTS:
        fault_set(agent, latency_ms=20)


def faults(cluster: Cluster) -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    """Each fault as (inject, heal)."""

    def restart_redis() -> None:
        cluster.redis.start()
        slow_agents()

    def wipe() -> None:
        cluster.redis.wipe()
        slow_agents()

    def nothing() -> None:
        return None

    return {
        "worker_sigkill": (lambda: cluster.kill_worker(signal.SIGKILL), nothing),
        "pool_child_sigkill": (cluster.kill_pool_child, nothing),
        "broker_wiped": (wipe, nothing),
        "broker_killed_restarted": (cluster.redis.kill, restart_redis),
        "db_clean_cut": (cluster.proxy.cut, cluster.proxy.heal),
        "db_half_open_cut": (cluster.proxy.blackhole, cluster.proxy.heal),
        "worker_sigterm": (lambda: cluster.kill_worker(signal.SIGTERM), nothing),
        "provider_always_failing": (lambda: fault_set("venue", error_rate=1.0), lambda: fault_set("venue")),
    }


def run_fault(
    user, inject: Callable[[], None], heal: Callable[[], None], *, plans: int, repeats: int, outage: float, rate: float
) -> dict:
    """Submit `plans` plans at `rate` per second, injecting the fault `repeats` times at random moments.

    A fault's recovery is measured on the plans it caught — submitted before it healed and not yet ended
    when it struck — as the time from the heal to the last of them ending (0 if they all ended before).
    """
    ids: list = []
    moments = sorted(random.uniform(0.1, 0.8) * plans for _ in range(repeats))
    windows = []
    for index in range(plans):
        ids.append(services.plan_create(owner=user, text=REQUEST).id)
        while moments and index >= moments[0]:
            moments.pop(0)
            struck = timezone.now()
            inject()
            time.sleep(outage)
            heal()
            windows.append((struck, timezone.now()))
        time.sleep(1 / rate)
    wait_terminal(ids, timeout=900)
    result = verdict(ids).__dict__
    rows = list(Plan.objects.filter(pk__in=ids).values_list("created_at", "finished_at"))
    recoveries = [
        max(
            (
                (finished - healed).total_seconds()
                for created, finished in rows
                if created < healed and finished and finished > struck
            ),
            default=0.0,
        )
        for struck, healed in windows
    ]
    result["max_recovery_s"] = round(max([0.0, *recoveries]), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200, help="plans per fault")
    parser.add_argument("--repeats", type=int, default=2, help="times each fault is injected during its batch")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds a fault lasts before it heals")
    parser.add_argument("--rate", type=float, default=3.0, help="plans submitted per second")
    parser.add_argument("--timeouts", choices=("short", "production"), default="short")
    parser.add_argument("--only", nargs="*", help="run only these faults")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    random.seed(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the cluster on the way out

    database_ensure()
    user = cli.demo_user_ensure(username="chaos")
    timeouts = SHORT_TIMEOUTS if args.timeouts == "short" else PRODUCTION_TIMEOUTS
    cluster = Cluster(database_name=connection.settings_dict["NAME"], timeouts=timeouts)
    cluster.start()
    celery_use(cluster.redis.url)
    report: dict = {"plans_per_fault": args.plans, "repeats": args.repeats, "timeouts": args.timeouts, "faults": {}}
    try:
        for name, (inject, heal) in faults(cluster).items():
            if args.only and name not in args.only:
                continue
            slow_agents()
            started = time.monotonic()
            outcome = run_fault(
                user, inject, heal, plans=args.plans, repeats=args.repeats, outage=args.outage, rate=args.rate
            )
            outcome["elapsed_s"] = round(time.monotonic() - started, 1)
            report["faults"][name] = outcome
            fault_clear()
            print(json.dumps({name: outcome}), file=sys.stderr)
    finally:
        cluster.stop()
    report["worker_restarts"] = cluster.restarts
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
