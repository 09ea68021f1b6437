"""Fairness benchmark: one user floods plans, another submits one; the second plan's latency under the flood
against its idle latency, with admission (per-user cap) and without it (every plan straight to the broker).

Prints one JSON object. Uses the configured DATABASE_URL and REDIS_URL (PostgreSQL and Redis for meaningful
figures) and starts its own worker (no beat: admission runs when each plan ends, as in production, where the
sweeper is only the safety net):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyplanner_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/fairness.py --flood 1000 --cap 4
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db.models import Count  # noqa: E402

from agents import cli, services  # noqa: E402
from partyproject.embedded import EmbeddedServices, redis_use  # noqa: E402
from planning.models import Plan  # noqa: E402

REQUEST = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"


def wait_all(ids: list, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while Plan.objects.filter(pk__in=ids).exclude(status__in=Plan.TERMINAL).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("plans did not finish in time")
        time.sleep(0.05)


def latency_ms(plan_id) -> float:
    plan = Plan.objects.only("created_at", "finished_at").get(pk=plan_id)
    return round((plan.finished_at - plan.created_at).total_seconds() * 1000, 1)


def idle_latency(user, count: int) -> list[float]:
    """The single user's plan alone on the system, one at a time."""
    latencies = []
    for _ in range(count):
        plan_id = services.plan_create(owner=user, text=REQUEST).id
        wait_all([plan_id], 60)
        latencies.append(latency_ms(plan_id))
    return latencies


def under_flood(flooder, user, flood: int) -> dict:
    """`flooder` submits `flood` plans, then `user` submits one; measure until every plan has ended."""
    started = time.monotonic()
    flood_ids = [services.plan_create(owner=flooder, text=REQUEST).id for _ in range(flood)]
    submitted = time.monotonic() - started
    mine = services.plan_create(owner=user, text=REQUEST).id
    wait_all([mine], 1200)
    mine_done = time.monotonic() - started
    flood_left = Plan.objects.filter(pk__in=flood_ids).exclude(status__in=Plan.TERMINAL).count()
    wait_all(flood_ids, 3600)
    elapsed = time.monotonic() - started
    outcomes = dict(Plan.objects.filter(pk__in=[*flood_ids, mine]).values_list("status").annotate(n=Count("id")))
    return {
        "flood_submit_seconds": round(submitted, 1),
        "latency_ms": latency_ms(mine),
        "flood_plans_unfinished_when_it_ended": flood_left,
        "ended_at_second": round(mine_done, 1),
        "flood_drained_seconds": round(elapsed, 1),
        "flood_plans_per_second": round(flood / elapsed, 1),
        "outcomes": outcomes,
    }


def run(*, cap: int, flood: int, idle: int, concurrency: int, embedded: bool) -> dict:
    """One configuration: a fresh worker with PLAN_ADMISSION_PER_USER=cap (this process uses it too)."""
    settings.PLAN_ADMISSION_PER_USER = cap
    flooder = cli.demo_user_ensure(username=f"bench-flood-{cap}")
    user = cli.demo_user_ensure(username=f"bench-single-{cap}")
    with EmbeddedServices(concurrency=concurrency) as running:
        if embedded:
            redis_use(running.start_broker())
        running.start_worker(env={"PLAN_ADMISSION_PER_USER": str(cap), "PLAN_ADMISSION_TOTAL": "0"})
        idle_latency(user, 3)
        idle_runs = idle_latency(user, idle)
        loaded = under_flood(flooder, user, flood)
    idle_p50 = statistics.median(idle_runs)
    return {
        "per_user_cap": cap or None,
        "idle_latency_ms_p50": round(idle_p50, 1),
        "under_flood": loaded,
        "slowdown": round(loaded["latency_ms"] / idle_p50, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=1000, help="plans the flooding user submits")
    parser.add_argument("--cap", type=int, default=4, help="PLAN_ADMISSION_PER_USER for the admitted run")
    parser.add_argument("--idle", type=int, default=5, help="idle plans measured one at a time")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run without admission")
    args = parser.parse_args()
    settings.PLAN_ADMISSION_TOTAL = 0

    cli.database_prepare()
    embedded = cli.is_embedded()
    runs = {"admission": run(cap=args.cap, flood=args.flood, idle=args.idle, concurrency=args.concurrency,
                             embedded=embedded)}  # fmt: skip
    if not args.no_baseline:
        runs["no_admission"] = run(
            cap=0, flood=args.flood, idle=args.idle, concurrency=args.concurrency, embedded=embedded
        )
    report = {
        "broker": "embedded valkey-server" if embedded else "redis",
        "database": django.db.connection.vendor,
        "worker": f"prefork -c {args.concurrency}",
        "flood": args.flood,
        **runs,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
