"""CPU per API request in one process: what a web worker spends on each kind of request, and where.

Runs the production settings (DEBUG off, PostgreSQL, Redis, throttles on with rates that never refuse) in
this process through Django's test client (no HTTP server, no network client), so the figure is the
application's own CPU per request: PostgreSQL's and Redis's CPU are not in it. Kinds:

- health: GET /api/v1/health/ (no authentication, no database);
- detail: GET one of the caller's plans (JWT, full body; no worker runs here, so the plan is running);
- list: GET the caller's first page of plans;
- create: POST a plan from a user below the admission cap (admitted: the chord is published to the broker;
  no worker runs, and the broker's queues are purged at the end);
- create_waiting: POST a plan from a user at the cap (202: it waits in the database, nothing is published).

Prints one JSON object: CPU ms per request (median of `--rounds` rounds of `--requests` each), wall ms per
request (which adds the waits on PostgreSQL and Redis), SQL statements and Redis commands per request.
`--profile KIND` also writes that kind's cProfile (wall clock), sorted by cumulative time, to stderr.
`--backlog N` first makes N plans wait for admission (one user at their cap, as a flood leaves them); the
create_waiting rounds add to it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyplanner_bench_cpu REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/request_cpu.py --requests 300 [--profile create]
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/partyplanner_bench_cpu"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "partyproject.settings.prod",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "PLAN_SHED_BACKLOG": "0",
        "PLAN_ADMISSION_PER_USER": os.environ.get("PLAN_ADMISSION_PER_USER", "4"),
        "LOGIN_FAILURES_PER_ACCOUNT": "100000/m",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        **{f"API_THROTTLE_{scope}": "100000000/min" for scope in ("ANON", "USER", "PLAN_CREATE", "TOKEN")},
    }
)

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

import bench.api  # noqa: E402, F401  (creates the benchmark's database and sets Django up)
from agents import cli, services  # noqa: E402
from api.authentication import RoleRefreshToken  # noqa: E402
from bench.pipeline import REQUESTS  # noqa: E402
from partyproject.celery import app  # noqa: E402
from planning.models import Plan  # noqa: E402

KINDS = ("health", "detail", "list", "create", "create_waiting")


class Counter:
    """Counts SQL statements (Django's execute wrapper) and Redis commands (the server's INFO commandstats,
    so give the benchmark a Redis server nothing else uses while it runs)."""

    def __init__(self) -> None:
        self.statements = 0
        self.redis = redis.Redis.from_url(settings.REDIS_URL)

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)

    def redis_calls(self) -> int:
        return sum(stats["calls"] for name, stats in self.redis.info("commandstats").items())


def users(prefix: str, count: int) -> list:
    model = get_user_model()
    existing = {user.username: user for user in model.objects.filter(username__startswith=prefix)}
    made = [model(username=f"{prefix}{index}") for index in range(count) if f"{prefix}{index}" not in existing]
    for user in made:
        user.set_unusable_password()
    model.objects.bulk_create(made)
    return list(model.objects.filter(username__startswith=prefix).order_by("id"))[:count]


def access_token(user) -> str:
    """An access token as a login gives it (with the role claims, so no user query per request)."""
    return str(RoleRefreshToken.for_user(user).access_token)


def requests_for(kind: str, count: int, owner, fresh_users: list, full_user) -> list[tuple]:
    """(method, path, body, token) for `count` requests of one kind."""
    token = access_token(owner)
    if kind == "health":
        return [("get", "/api/v1/health/", None, None)] * count
    if kind == "detail":
        plan_ids = list(Plan.objects.filter(owner=owner).values_list("pk", flat=True)[:10])
        return [("get", f"/api/v1/plans/{plan_ids[index % len(plan_ids)]}/", None, token) for index in range(count)]
    if kind == "list":
        return [("get", "/api/v1/plans/", None, token)] * count
    if kind == "create":
        return [
            ("post", "/api/v1/plans/", {"text": REQUESTS[index % len(REQUESTS)]}, access_token(user))
            for index, user in zip(range(count), fresh_users, strict=False)
        ]
    waiting_token = access_token(full_user)
    return [
        ("post", "/api/v1/plans/", {"text": REQUESTS[index % len(REQUESTS)]}, waiting_token) for index in range(count)
    ]


def run(client: Client, batch: list[tuple], expected: set[int]) -> None:
    for method, path, body, token in batch:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        if method == "get":
            response = client.get(path, **headers)
        else:
            response = client.post(path, data=json.dumps(body), content_type="application/json", **headers)
        if response.status_code not in expected:
            raise SystemExit(f"{method.upper()} {path}: {response.status_code} {response.content[:300]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per round and kind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--backlog", type=int, default=0, help="plans waiting for admission before measuring")
    parser.add_argument("--profile", choices=KINDS, help="print this kind's cProfile to stderr")
    parser.add_argument("--profile-lines", type=int, default=45)
    args = parser.parse_args()
    cli.database_prepare()
    owner = users("bench-cpu-owner-", 1)[0]
    if not Plan.objects.filter(owner=owner).exists():
        for text in REQUESTS:
            services.plan_create(owner=owner, text=text)
    full_user = users("bench-cpu-full-", 1)[0]
    cap = settings.PLAN_ADMISSION_PER_USER
    for index in range(cap + args.backlog - Plan.objects.filter(owner=full_user, status="running").count()):
        services.plan_create(owner=full_user, text=REQUESTS[index % len(REQUESTS)])
    client = Client()
    counter = Counter()
    results = {}
    expected = {"health": {200}, "detail": {200}, "list": {200}, "create": {201}, "create_waiting": {202}}
    try:
        for kind in args.kinds.split(","):
            per_round, wall, statements, redis_calls = [], [], 0, 0
            total = args.requests * (args.rounds + 1)
            prefix = f"bench-cpu-{kind}-{time.time_ns()}-"
            fresh = users(prefix, total) if kind == "create" else []
            batches = requests_for(kind, total, owner, fresh, full_user)
            run(client, batches[: args.requests], expected[kind])  # warm-up round
            profiler = cProfile.Profile() if args.profile == kind else None
            for round_ in range(1, args.rounds + 1):
                batch = batches[round_ * args.requests : (round_ + 1) * args.requests]
                redis_before = counter.redis_calls()
                with connection.execute_wrapper(counter):
                    counter.statements = 0
                    if profiler:
                        profiler.enable()
                    started, wall_started = time.process_time(), time.perf_counter()
                    run(client, batch, expected[kind])
                    per_round.append((time.process_time() - started) * 1000 / len(batch))
                    wall.append((time.perf_counter() - wall_started) * 1000 / len(batch))
                    if profiler:
                        profiler.disable()
                statements += counter.statements
                redis_calls += counter.redis_calls() - redis_before - 1
            results[kind] = {
                "cpu_ms_per_request": round(statistics.median(per_round), 3),
                "cpu_ms_rounds": [round(value, 3) for value in per_round],
                "wall_ms_per_request": round(statistics.median(wall), 3),
                "sql_per_request": round(statements / (args.rounds * args.requests), 2),
                "redis_commands_per_request": round(redis_calls / (args.rounds * args.requests), 2),
            }
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.profile_lines)
                print(out.getvalue(), file=sys.stderr)
    finally:
        app.control.purge()
    print(json.dumps({"settings": "prod", "requests_per_round": args.requests, "rounds": args.rounds, **results}))


if __name__ == "__main__":
    main()
