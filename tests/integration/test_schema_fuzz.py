"""The schema fuzzer against the live app: gunicorn on the test database and the test Redis.

Every operation, every schemathesis check, a fixed seed, at least 1,000 cases (about 45 s on two cores).
The server runs the test settings: production's password hasher costs ~0.3 s for every fuzzed login.
`bench/fuzz_api.py` runs the same on production settings with more cases.
"""

import json
import tempfile
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from bench.fuzz_api import (
    access_token,
    fuzz_run,
    fuzz_user_create,
    server_env,
    statuses_served,
)
from partyproject.embedded import EmbeddedServices, free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CI_MAX_EXAMPLES = 45
CI_SEED = 20261129


@pytest.fixture
def live_server_url(transactional_db):
    """gunicorn on the test database (committed data), the cache on the test Redis, a private broker."""
    credentials = fuzz_user_create()
    database = connection.settings_dict
    database_url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    with (
        tempfile.TemporaryDirectory(prefix="fuzz-api-") as workdir,
        EmbeddedServices(log_dir=Path(workdir)) as services,
    ):
        services.start_broker()
        port = free_port()
        env = server_env(
            database_url=database_url,
            cache_url=settings.CACHES["default"]["LOCATION"],
            settings_module="partyproject.settings.test",
        )
        services.start_gunicorn(port=port, env=env)
        yield f"http://127.0.0.1:{port}", credentials, Path(workdir)


def test_the_schema_fuzzer_finds_nothing(live_server_url):
    base_url, (username, password), workdir = live_server_url
    summary = fuzz_run(
        base_url=base_url,
        token=access_token(base_url, username, password),
        max_examples=CI_MAX_EXAMPLES,
        seed=CI_SEED,
        report=workdir / "report.json",
    )
    assert summary["failures"] == {} and summary["errors"] == {}, summary["output_tail"]
    assert summary["exit_code"] == 0, summary["output_tail"]
    with urllib.request.urlopen(f"{base_url}/api/v1/schema/?format=json", timeout=10) as response:
        paths = json.load(response)["paths"]
        # Every operation but the readiness probe, whose 503 while no worker answers is its contract.
        operations = sum(len(methods) for path, methods in paths.items() if path != "/api/v1/ready/")
    assert summary["operations"] == operations >= 14
    assert summary["cases"] >= 1000
    served = statuses_served(workdir / "web.log")
    assert served.get("201", 0) + served.get("202", 0) > 0 and served.get("400", 0) > 0
    assert not [status for status in served if int(status) >= 500], served
