"""Incremental re-planning against planning from scratch: time and provider calls for N plans.

Plans N parties from scratch, then edits every one of them (guest count 40 → 60: venue, cake and budget
run again, the theme is reused), then pins each plan's first alternative venue (only the budget runs again).
Prints one JSON object. Uses the configured DATABASE_URL and REDIS_URL (or the embedded default) and
starts its own worker:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyplanner_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/replan.py --plans 100
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")
# One user submits every plan here: measure the engine, not the per-user admission (bench/fairness.py does).
os.environ.setdefault("PLAN_ADMISSION_PER_USER", "0")
os.environ["AGENT_COUNT_PROVIDER_CALLS"] = "true"

import django

django.setup()

from django.db.models import Count  # noqa: E402

from agents import cli, services  # noqa: E402
from agents.providers import provider_calls, provider_calls_reset  # noqa: E402
from partyproject.embedded import EmbeddedServices, redis_use  # noqa: E402
from planning.models import AgentRun, Plan  # noqa: E402

REQUEST = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"


def wait_all(ids: list, revision: int, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    pending = Plan.objects.filter(pk__in=ids).exclude(status__in=Plan.TERMINAL, revision=revision)
    while pending.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"revision {revision} of the plans did not finish in time")
        time.sleep(0.05)


def measure(name: str, revision: int, submit: Callable[[], list]) -> dict:
    """Run `submit` (it creates or edits the plans and returns their ids), wait until `revision` of every
    plan has ended, and report the time and the provider calls it took."""
    provider_calls_reset()
    started = time.monotonic()
    ids = submit()
    wait_all(ids, revision)
    elapsed = time.monotonic() - started
    calls = provider_calls()
    runs = AgentRun.objects.filter(plan_id__in=ids, revision=revision)
    outcomes = dict(Plan.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("id")))
    return {
        "step": name,
        "seconds": round(elapsed, 2),
        "plans_per_second": round(len(ids) / elapsed, 1),
        "provider_calls": sum(calls.values()),
        "provider_calls_by_agent": dict(sorted(calls.items())),
        "runs_reused": runs.exclude(reused_from=None).count(),
        "runs_executed": runs.filter(reused_from=None).count(),
        "outcomes": outcomes,
    }


def runner_up_venue(plan_id) -> int:
    """The venue a person would switch to: the plan's first alternative (else the agent's next candidate)."""
    result = Plan.objects.get(pk=plan_id).result
    alternatives = (result.get("alternatives") or {}).get("venue") or []
    if alternatives:
        return alternatives[0]["id"]
    run = AgentRun.objects.get(plan_id=plan_id, revision=2, agent="venue")
    return next(option["id"] for option in run.result["candidates"] if option["id"] != result["venue"]["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    args = parser.parse_args()

    cli.database_prepare()
    user = cli.demo_user_ensure(username="bench-replan")
    embedded = cli.is_embedded()
    with EmbeddedServices(concurrency=args.concurrency) as running:
        if embedded:
            redis_use(running.start_broker())
        running.start_worker(env={**os.environ})
        ids = [services.plan_create(owner=user, text=REQUEST).id for _ in range(2)]  # warm up
        wait_all(ids, 1)
        ids: list = []

        def create() -> list:
            ids.extend(services.plan_create(owner=user, text=REQUEST).id for _ in range(args.plans))
            return ids

        def edit(change: Callable[[object], dict]) -> Callable[[], list]:
            def submit() -> list:
                for plan_id in ids:
                    services.plan_edit(plan_id=plan_id, author=user, **change(plan_id))
                return ids

            return submit

        scratch = measure("from scratch", 1, create)
        guests = measure("edit guest count 40 -> 60", 2, edit(lambda _: {"fields": {"guest_count": 60}}))
        pins = {plan_id: runner_up_venue(plan_id) for plan_id in ids}
        pin = measure("pin the alternative venue", 3, edit(lambda plan_id: {"pin": {"venue": pins[plan_id]}}))
    report = {
        "broker": "embedded valkey-server" if embedded else "redis",
        "database": django.db.connection.vendor,
        "worker": f"prefork -c {args.concurrency}",
        "plans": args.plans,
        "steps": [scratch, guests, pin],
        "edit_over_scratch": {
            "guest_count": {
                "time": round(guests["seconds"] / scratch["seconds"], 2),
                "provider_calls": round(guests["provider_calls"] / scratch["provider_calls"], 2),
            },
            "pin_venue": {
                "time": round(pin["seconds"] / scratch["seconds"], 2),
                "provider_calls": round(pin["provider_calls"] / scratch["provider_calls"], 2),
            },
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
