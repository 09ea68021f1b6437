"""Schema fuzzing of the live API with schemathesis: every operation, every check, a fixed seed.

Serves the API with gunicorn and production settings on a free port (the configured PostgreSQL database,
the cache on the configured Redis, a private broker), signs in as a user with the operator role so that
every operation is reachable, runs schemathesis and prints one JSON object: cases generated, failures per
check, and the server's responses per status (from its access log, independently of the fuzzer).

    createdb -h 127.0.0.1 -U postgres partyplanner_fuzz
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partyplanner_fuzz CACHE_URL=redis://127.0.0.1:6379/6 \
        .venv/bin/python bench/fuzz_api.py --max-examples 500
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "schemathesis.toml"
FUZZ_USERNAME = "schema-fuzzer"
STATUS = re.compile(rb'" (\d{3}) ')


def fuzz_user_create() -> tuple[str, str]:
    """A user with the operator role (every operation reachable); returns its credentials."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    password = secrets.token_urlsafe(16)
    user, _ = get_user_model().objects.get_or_create(username=FUZZ_USERNAME)
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name="operator"))
    return FUZZ_USERNAME, password


def fuzz_user_delete() -> None:
    """Remove the fuzzing user and everything it created."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username=FUZZ_USERNAME).delete()


def server_env(*, database_url: str, cache_url: str, settings_module: str = "partyproject.settings.prod") -> dict:
    """Production settings over plain HTTP on loopback, with throttles raised so they do not stop the fuzzer.

    The server must verify passwords with the hasher this process uses to create the fuzzing user.
    """
    return {
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "DATABASE_CONN_MAX_AGE": "0",
        **{f"API_THROTTLE_{scope}": "100000/min" for scope in ("ANON", "USER", "PLAN_CREATE", "TOKEN")},
        "LOGIN_FAILURES_PER_ACCOUNT": "100000/m",
        # No worker drains the plans the fuzzer creates: load shedding (tested on its own) would answer 503.
        "PLAN_SHED_BACKLOG": "0",
    }


def access_token(base_url: str, username: str, password: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access"]


def fuzz_run(*, base_url: str, token: str, max_examples: int, seed: int, report: Path) -> dict:
    """Run schemathesis (all operations, all checks) and summarise its JSON report.

    The schema states the dates a party may have as of the day it is served, so a run that spans the
    server's midnight (both use the project's TIME_ZONE) fetched a window whose first day is now in the
    past; such a run is run again, once, on a schema of the new day. `runs` says how many it took.
    """
    from django.utils import timezone

    runs = 0
    while True:
        runs += 1
        day = timezone.localdate()
        summary = _fuzz_once(base_url=base_url, token=token, max_examples=max_examples, seed=seed, report=report)
        if runs == 2 or timezone.localdate() == day:
            return {**summary, "runs": runs}


def _fuzz_once(*, base_url: str, token: str, max_examples: int, seed: int, report: Path) -> dict:
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
        f"{base_url}/api/v1/schema/?format=json", "--checks", "all", "--seed", str(seed),
        "--max-examples", str(max_examples), "--generation-database", "none", "--workers", "1",
        # The readiness probe answers 503 by design while no worker answers (tested on its own).
        "--exclude-path", "/api/v1/ready/",
        "-H", f"Authorization: Bearer {token}", "--no-color", "--report", "json", "--report-json-path", str(report),
    ]  # fmt: skip
    report.unlink(missing_ok=True)
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.monotonic() - started
    data = json.loads(report.read_text()) if report.exists() else {}
    failures = data.get("failures", [])
    return {
        "seed": seed,
        "max_examples": max_examples,
        "operations": data.get("operations", {}).get("tested", 0),
        "cases": data.get("test_cases", {}).get("generated", 0),
        "unique_failures": data.get("test_cases", {}).get("unique_failures", 0),
        "failures": {f"{failure['code']} {failure['title']}": failure["count"] for failure in failures},
        "errors": {error["title"]: error["count"] for error in data.get("errors", [])},
        "exit_code": completed.returncode,
        "seconds": round(seconds, 1),
        "output_tail": completed.stdout[-4000:] if completed.returncode else "",
    }


def statuses_served(log: Path) -> dict[str, int]:
    """Responses per HTTP status, from gunicorn's access log."""
    counts = Counter(match.group(1).decode() for match in STATUS.finditer(log.read_bytes()))
    return dict(sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=500, help="cases per operation and phase")
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from partyproject.embedded import EmbeddedServices, free_port

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database of its own.")
    database_url = os.environ["DATABASE_URL"]
    cache_url = settings.CACHES["default"]["LOCATION"]
    call_command("migrate", verbosity=0)
    call_command("seed_catalog", verbosity=0)
    username, password = fuzz_user_create()
    workdir = tempfile.mkdtemp(prefix="fuzz-api-")
    with EmbeddedServices(log_dir=Path(workdir)) as services:
        services.start_broker()
        port = free_port()
        services.start_gunicorn(port=port, env=server_env(database_url=database_url, cache_url=cache_url))
        base_url = f"http://127.0.0.1:{port}"
        summary = fuzz_run(
            base_url=base_url,
            token=access_token(base_url, username, password),
            max_examples=arguments.max_examples,
            seed=arguments.seed,
            report=Path(workdir) / "report.json",
        )
        services.stop()
        summary["statuses_served"] = statuses_served(Path(workdir) / "web.log")
    shutil.rmtree(workdir, ignore_errors=True)
    fuzz_user_delete()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
