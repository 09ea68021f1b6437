"""The catalog path of an agent task and of a plan request: SQL statements, Redis round trips and time.

Prints one JSON object. For four sample requests it runs, in this process and without a broker:
- `analyzer_build()` (what every POST reads from the catalog),
- each agent's `run()` (the catalog path and the agent's own scoring) with a fresh agent, as a task has,
- each agent's whole task body (`execute()`: claim, run, record), its run reset to pending in between,
once right after a catalog change ("cold": the process must reload the catalog) and then warm. Redis
round trips are counted at the socket (a pipeline is one); SQL statements with Django's execute_wrapper.

    createdb -h 127.0.0.1 -U postgres partyplanner_bench_catalog
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyplanner_bench_catalog REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/catalog_path.py --repeat 50
"""

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")

import django

django.setup()

import redis.connection  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from agents import services as orchestration  # noqa: E402
from agents.analyzer import Brief  # noqa: E402
from agents.base import AgentContext  # noqa: E402
from agents.providers import CatalogProvider  # noqa: E402
from agents.registry import agent_classes  # noqa: E402
from partyproject.celery import app as celery_app  # noqa: E402
from planning import selectors  # noqa: E402
from planning.models import AgentRun, Plan, Venue  # noqa: E402
from planning.services import catalog_seed  # noqa: E402

REQUESTS = (
    "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan",
    "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free",
    "Wedding for 120 guests in Chicago, rustic garden theme, budget $20,000, two vegetarians",
    "Corporate holiday party for 60 people in Seattle, casino night, $600 budget, nut allergy",
)
AGENTS = ("theme", "venue", "cake", "budget")


class Counts:
    """SQL statements, Redis round trips and catalog calls while it is active."""

    def __init__(self) -> None:
        self.sql = 0
        self.redis = 0
        self.catalog_calls = 0

    def __enter__(self) -> "Counts":
        self._send = redis.connection.AbstractConnection.send_packed_command
        self._call = CatalogProvider.call
        counts = self

        def send(conn, command, *args, **kwargs):
            counts.redis += 1
            return counts._send(conn, command, *args, **kwargs)

        def call(provider, query, /, **kwargs):
            counts.catalog_calls += 1
            return counts._call(provider, query, **kwargs)

        redis.connection.AbstractConnection.send_packed_command = send
        CatalogProvider.call = call
        self._wrapper = connection.execute_wrapper(self._sql)
        self._wrapper.__enter__()
        return self

    def _sql(self, execute, sql, params, many, context):
        self.sql += 1
        return execute(sql, params, many, context)

    def __exit__(self, *exc) -> None:
        self._wrapper.__exit__(*exc)
        redis.connection.AbstractConnection.send_packed_command = self._send
        CatalogProvider.call = self._call


def measure(work: Callable[[], Any], *, repeat: int, before: Callable[[], Any] = lambda: None) -> dict[str, Any]:
    """Per call: median and p90 time (ms), mean SQL statements, Redis round trips and catalog calls."""
    times, sql, rtt, calls = [], [], [], []
    for _ in range(repeat):
        before()
        with Counts() as counts:
            started = time.perf_counter()
            work()
            times.append((time.perf_counter() - started) * 1000)
        sql.append(counts.sql)
        rtt.append(counts.redis)
        calls.append(counts.catalog_calls)
    ordered = sorted(times)
    return {
        "ms_p50": round(statistics.median(times), 3),
        "ms_p90": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        "sql": round(statistics.mean(sql), 2),
        "redis": round(statistics.mean(rtt), 2),
        "catalog_calls": round(statistics.mean(calls), 2),
    }


def catalog_touch() -> None:
    """An edit that changes nothing a plan sees but (where versions exist) makes every process reload."""
    venue = Venue.objects.order_by("pk").first()
    venue.save()


def total(rows: dict[str, dict[str, Any]], key: str) -> float:
    return round(sum(row[key] for row in rows.values()), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    catalog_seed()
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    owner, _ = get_user_model().objects.get_or_create(username="bench-catalog")

    plans = [orchestration.plan_create(owner=owner, text=text) for text in REQUESTS]
    # The chord ran eagerly; the plans go back to running so that each agent's task can run again.
    Plan.objects.filter(pk__in=[plan.pk for plan in plans]).update(status="running")
    figures: dict[str, Any] = {"requests": len(REQUESTS), "repeat": args.repeat}

    figures["analyzer_build"] = measure(orchestration.analyzer_build, repeat=args.repeat)
    figures["analyzer_build_cold"] = measure(orchestration.analyzer_build, repeat=3, before=catalog_touch)

    runs: dict[str, dict[str, Any]] = {}
    tasks: dict[str, dict[str, Any]] = {}
    cold: dict[str, dict[str, Any]] = {}
    budget_calls = Counter()
    for name in AGENTS:
        cls = agent_classes()[name]
        per_plan_runs, per_plan_tasks, per_plan_cold = [], [], []
        for plan in plans:
            plan.refresh_from_db()
            run = AgentRun.objects.get(plan=plan, agent=name)
            upstream = selectors.agent_results(plan_id=plan.id, revision=plan.revision, agents=run.depends_on)
            context = AgentContext(
                plan_id=str(plan.id),
                brief=Brief.from_dict(plan.brief),
                upstream={agent: result for agent, (result, _digest) in upstream.items()},
                attempt=1,
                constraints=plan.constraints,
            )
            per_plan_runs.append(measure(lambda cls=cls, context=context: cls().run(context), repeat=args.repeat))
            per_plan_cold.append(
                measure(lambda cls=cls, context=context: cls().run(context), repeat=3, before=catalog_touch)
            )

            def reset(plan_id=plan.id, name=name) -> None:
                AgentRun.objects.filter(plan_id=plan_id, agent=name).update(status="pending", attempts=0)

            def execute(cls=cls, plan_id=str(plan.id)) -> None:
                cls().execute(plan_id=plan_id, task_id=uuid.uuid4().hex, attempt=1, last_attempt=True)

            per_plan_tasks.append(measure(execute, repeat=args.repeat, before=reset))
            budget_calls[name] += per_plan_runs[-1]["catalog_calls"]
        runs[name] = _mean_rows(per_plan_runs)
        tasks[name] = _mean_rows(per_plan_tasks)
        cold[name] = _mean_rows(per_plan_cold)
    figures["agent_run"] = runs
    figures["agent_run_cold"] = cold
    figures["agent_task"] = tasks
    figures["per_plan"] = {
        "agent_run_ms": total(runs, "ms_p50"),
        "agent_run_sql": total(runs, "sql"),
        "agent_run_redis": total(runs, "redis"),
        "agent_task_ms": total(tasks, "ms_p50"),
        "agent_task_sql": total(tasks, "sql"),
        "agent_task_redis": total(tasks, "redis"),
        "catalog_calls": total(runs, "catalog_calls"),
    }
    figures["database"] = connection.vendor
    print(json.dumps(figures))


def _mean_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: round(statistics.mean(row[key] for row in rows), 3) for key in rows[0]}


if __name__ == "__main__":
    main()
