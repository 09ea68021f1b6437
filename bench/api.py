"""API load benchmark: a production-like server under many concurrent clients.

Starts gunicorn with partyproject/gunicorn.py (production settings, DEBUG off, PostgreSQL, Redis) and a Celery
worker (for the POST case), prepares users and finished plans in its own database, then runs each scenario
at each client count from this process (an asyncio client, keep-alive connections, one coroutine per client):

- health: GET /api/v1/health/ (no authentication, no database: the floor);
- detail: GET one plan (a finished plan, JWT, full body);
- detail_304: the same with If-None-Match (the cached-representation path);
- list: GET the caller's plans (first page);
- create: POST a plan (the broker's queue is purged between runs, so the worker's backlog does not grow); with
  admission on, as in production, a writer's plans beyond `--admission-per-user` answer 202 and wait in the
  database, so the waiting backlog grows with every run.

The machine may be shared and its load may drift, so each scenario is measured in `--rounds` slices alternating
with slices of the health floor, and its ratio is to that interleaved floor. Prints one JSON object: req/s,
p50/p95/p99 latency (ms) and errors per scenario and client count, the ratios to the floor, the goals of
issue 17, and the client's own CPU per request.

    REDIS_URL=redis://127.0.0.1:6379/5 CACHE_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/api.py --server sync --clients 50,200

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/partyplanner_bench_api (created if missing).
`--server` picks the gunicorn worker class: uvicorn (the config's default, ASGI), sync or gthread.
"""

import argparse
import asyncio
import copy
import json
import os
import platform
import resource
import secrets
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/partyplanner_bench_api"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")
os.environ["DJANGO_DEBUG"] = "false"

import aiohttp  # noqa: E402
import django  # noqa: E402
import environ  # noqa: E402
import psycopg  # noqa: E402


def database_ensure(url: str) -> None:
    """Create the benchmark's database if it does not exist yet."""
    config = environ.Env.db_url_config(url)
    admin = f"host={config['HOST']} port={config['PORT'] or 5432} user={config['USER']} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (config["NAME"],)).fetchone():
            connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


database_ensure(os.environ["DATABASE_URL"])
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402

from agents import cli, services  # noqa: E402
from bench.pipeline import REQUESTS, percentile, wait_all  # noqa: E402
from partyproject.celery import app  # noqa: E402
from partyproject.embedded import EmbeddedServices, free_port  # noqa: E402
from planning.models import AgentRun, Plan  # noqa: E402

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "bench-api-" + "x" * 12
SCENARIOS = ("health", "detail", "detail_304", "list", "create")
EXPECTED = {"health": {200}, "detail": {200}, "detail_304": {304}, "list": {200}, "create": {201, 202}}
GOALS = {"detail": 0.5, "list": 0.3, "create": 0.15}
P99_GOALS_MS = {("detail", 200): 100, ("create", 50): 250, ("create", 200): 250}


def users_prepare(prefix: str, count: int) -> list:
    users = []
    for index in range(count):
        user, created = get_user_model().objects.get_or_create(username=f"bench-api-{prefix}{index}")
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        users.append(user)
    return users


def plans_prepare(template_owner, readers: list, per_user: int) -> dict[int, list[str]]:
    """Each reader gets exactly `per_user` finished plans: copies of real plans the worker ran once (the
    readers' plans are made anew each run, so the list's first page is the same in every run)."""
    finished = Plan.objects.filter(status__in=Plan.TERMINAL)
    templates = list(finished.filter(owner=template_owner).order_by("created_at")[: len(REQUESTS)])
    if len(templates) < len(REQUESTS):
        created = [services.plan_create(owner=template_owner, text=text).id for text in REQUESTS]
        wait_all(created, 120)
        templates = list(Plan.objects.filter(pk__in=created))
    template_runs = {template.pk: list(AgentRun.objects.filter(plan=template)) for template in templates}
    with transaction.atomic():
        Plan.objects.filter(owner__in=readers).delete()
        for user in readers:
            for index in range(per_user):
                template = templates[index % len(templates)]
                clone = copy.copy(template)
                clone.pk, clone.owner = uuid.uuid4(), user
                clone._state.adding = True
                clone.save(force_insert=True)
                runs = [copy.copy(run) for run in template_runs[template.pk]]
                for run in runs:
                    run.pk, run.plan = None, clone
                AgentRun.objects.bulk_create(runs)
    return {user.pk: [str(pk) for pk in finished.filter(owner=user).values_list("pk", flat=True)] for user in readers}


def server_env(args, port: int) -> dict[str, str]:
    """Production settings over plain HTTP on loopback; throttles still run, with rates that never refuse."""
    return {
        "DJANGO_SETTINGS_MODULE": "partyproject.settings.prod",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(args.workers),
        "LOG_LEVEL": args.log_level,
        **{f"API_THROTTLE_{scope}": "100000000/min" for scope in ("ANON", "USER", "PLAN_CREATE", "TOKEN")},
        "LOGIN_FAILURES_PER_ACCOUNT": "100000/m",
        # The worker cannot keep up with a POST flood; shedding (tested on its own) would answer 503.
        "PLAN_SHED_BACKLOG": "0",
        # Admission as in production (bench.pipeline, imported above, turns it off for this process): a
        # writer's plans beyond the cap answer 202 and wait in the database.
        "PLAN_ADMISSION_PER_USER": str(args.admission_per_user),
        "PROMETHEUS_MULTIPROC_DIR": str(BASE_DIR / "var" / "bench-api-metrics"),
        # Under ASGI each request runs in its own thread, so persistent connections would pile up past
        # PostgreSQL's limit (Django's advice: no persistent connections under ASGI without a pooler).
        **({"DATABASE_CONN_MAX_AGE": "0"} if args.server == "uvicorn" else {}),
    }


def server_start(services: EmbeddedServices, args, port: int) -> subprocess.Popen:
    """gunicorn -c partyproject/gunicorn.py, with the worker class `--server` names."""
    command = [sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "partyproject" / "gunicorn.py")]
    if args.server == "uvicorn":
        command.append("partyproject.asgi:application")
    else:
        command += ["-k", args.server, "--threads", str(args.threads), "partyproject.wsgi:application"]
    return services.start_web(command, port=port, env=server_env(args, port), timeout=60)


def login(base_url: str, username: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["access"]


class Load:
    """One scenario at one client count: every client sends its next request as soon as the last one ends."""

    def __init__(self, base_url: str, clients: list[dict], scenario: str) -> None:
        self.base_url, self.clients, self.scenario = base_url, clients, scenario
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.errors = 0
        self.recording = False
        self.stop = False
        self.elapsed = self.cpu = 0.0

    def request(self, client: dict, turn: int) -> tuple[str, str, dict, bytes | None]:
        headers = {"Authorization": f"Bearer {client['token']}"}
        if self.scenario == "health":
            return "GET", "/api/v1/health/", {}, None
        if self.scenario in ("detail", "detail_304"):
            plan_id = client["plans"][turn % len(client["plans"])]
            if self.scenario == "detail_304":
                headers["If-None-Match"] = client["etags"][plan_id]
            return "GET", f"/api/v1/plans/{plan_id}/", headers, None
        if self.scenario == "list":
            return "GET", "/api/v1/plans/", headers, None
        body = json.dumps({"text": REQUESTS[turn % len(REQUESTS)]}).encode()
        return "POST", "/api/v1/plans/", {**headers, "Content-Type": "application/json"}, body

    async def client(self, session: aiohttp.ClientSession, client: dict) -> None:
        turn = 0
        while not self.stop:
            method, path, headers, body = self.request(client, turn)
            turn += 1
            started = time.perf_counter()
            try:
                async with session.request(method, self.base_url + path, headers=headers, data=body) as response:
                    await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError):
                status = "exception"
            if not self.recording:
                continue
            self.latencies.append((time.perf_counter() - started) * 1000)
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
            if status not in EXPECTED[self.scenario]:
                self.errors += 1

    async def run(self, *, count: int, warmup: float, duration: float) -> None:
        """Load for `warmup` + `duration` seconds, recording the last `duration` (added to earlier runs)."""
        self.stop = False
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            clients = [self.clients[index % len(self.clients)] for index in range(count)]
            tasks = [asyncio.create_task(self.client(session, client)) for client in clients]
            await asyncio.sleep(warmup)
            cpu_before = time.process_time()
            self.recording, started = True, time.perf_counter()
            await asyncio.sleep(duration)
            self.recording = False
            self.elapsed += time.perf_counter() - started
            self.cpu += time.process_time() - cpu_before
            self.stop = True
            await asyncio.gather(*tasks)

    def summary(self) -> dict:
        done = len(self.latencies)
        return {
            "requests": done,
            "req_per_s": round(done / self.elapsed, 1),
            "p50_ms": round(percentile(self.latencies, 0.50), 1) if done else None,
            "p95_ms": round(percentile(self.latencies, 0.95), 1) if done else None,
            "p99_ms": round(percentile(self.latencies, 0.99), 1) if done else None,
            "errors": self.errors,
            "statuses": self.statuses,
            "client_cpu_ms_per_request": round(self.cpu * 1000 / done, 3) if done else None,
        }


def etags_read(base_url: str, clients: list[dict]) -> None:
    """The ETag of each plan as its owner reads it (an empty tag when the server sends none)."""
    for client in clients:
        client["etags"] = {}
        for plan_id in client["plans"]:
            request = urllib.request.Request(
                f"{base_url}/api/v1/plans/{plan_id}/", headers={"Authorization": f"Bearer {client['token']}"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                client["etags"][plan_id] = response.headers.get("ETag") or '"none"'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="50,200", help="comma-separated client counts")
    parser.add_argument("--duration", type=float, default=9.0, help="seconds measured per scenario and count")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before each measured slice")
    parser.add_argument("--rounds", type=int, default=3, help="slices of the floor and the scenario, alternating")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--server", choices=("uvicorn", "sync", "gthread"), default="uvicorn")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread)")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument(
        "--admission-per-user", type=int, default=4, help="the server's PLAN_ADMISSION_PER_USER (0: no admission)"
    )
    parser.add_argument("--plans-per-user", type=int, default=30)
    parser.add_argument("--log-level", default="INFO", help="the server's LOG_LEVEL (INFO: a line per request)")
    args = parser.parse_args()
    counts = [int(value) for value in args.clients.split(",")]
    scenarios = [name for name in args.scenarios.split(",") if name]
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if not os.environ.get("REDIS_URL"):
        sys.exit("set REDIS_URL (and CACHE_URL) to a Redis database of this benchmark's own")
    cli.database_prepare()
    readers, writers = users_prepare("reader-", args.users), users_prepare("writer-", args.users)
    with EmbeddedServices(log_dir=BASE_DIR / "var" / "log" / "bench-api") as services_:
        services_.start_worker()
        plans = plans_prepare(users_prepare("template-", 1)[0], readers, args.plans_per_user)
        port = free_port()
        server = server_start(services_, args, port)
        base_url = f"http://127.0.0.1:{port}"
        clients = [{"token": login(base_url, user.username), "plans": plans[user.pk]} for user in readers]
        etags_read(base_url, clients)
        # Plans created by the POST runs belong to other users: the readers' pages stay the same.
        creators = [{"token": login(base_url, user.username)} for user in writers]
        results: dict[str, dict[str, dict]] = {}
        floors: dict[str, dict] = {}
        for count in counts:
            floor_all = Load(base_url, clients, "health")
            for scenario in (name for name in scenarios if name != "health"):
                # The machine is shared: the floor is measured in slices interleaved with the scenario's.
                floor, load = (
                    Load(base_url, clients, "health"),
                    Load(base_url, creators if scenario == "create" else clients, scenario),
                )
                for _ in range(args.rounds):
                    for one in (floor, load):
                        if scenario == "create":
                            app.control.purge()
                        asyncio.run(one.run(count=count, warmup=args.warmup, duration=args.duration / args.rounds))
                floor_all.latencies += floor.latencies
                floor_all.elapsed += floor.elapsed
                floor_all.cpu += floor.cpu
                for code, seen in floor.statuses.items():
                    floor_all.statuses[code] = floor_all.statuses.get(code, 0) + seen
                floor_all.errors += floor.errors
                results.setdefault(scenario, {})[str(count)] = load.summary()
                floors[f"{scenario}@{count}"] = floor.summary()
            if "health" in scenarios:
                results.setdefault("health", {})[str(count)] = floor_all.summary()
        app.control.purge()
        server_alive = server.poll() is None
    ratios, goals = {}, {}
    for scenario, runs in results.items():
        for count, figures in runs.items():
            floor = floors.get(f"{scenario}@{count}", {}).get("req_per_s")
            if floor:
                ratios[f"{scenario}@{count}"] = round(figures["req_per_s"] / floor, 3)
                if scenario in GOALS:
                    met = ratios[f"{scenario}@{count}"] >= GOALS[scenario]
                    goals[f"{scenario}@{count} >= {GOALS[scenario]} x floor"] = met
            limit = P99_GOALS_MS.get((scenario, int(count)))
            if limit and figures["p99_ms"] is not None:
                goals[f"{scenario}@{count} p99 < {limit} ms"] = figures["p99_ms"] < limit
    print(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "os": platform.platform()},
                "server": {
                    "kind": args.server,
                    "workers": args.workers,
                    "threads": args.threads,
                    "admission_per_user": args.admission_per_user,
                },
                "server_alive": server_alive,
                "log_level": args.log_level,
                "duration_s": args.duration,
                "results": results,
                "ratio_to_health": ratios,
                "health_floor_interleaved": {key: value["req_per_s"] for key, value in floors.items()},
                "goals_met": goals,
            }
        )
    )


if __name__ == "__main__":
    main()
