"""Disaster recovery on a throwaway PostgreSQL cluster (initdb/pg_ctl on a free port) and a private
broker: back up with bin/db-backup while one plan is complete and one is still running, lose the
database and the broker's queues, restore with bin/db-restore, and let the reconciler finish the
plan that was running. Costs about 30 s."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
import redis

from partyproject.embedded import BASE_DIR, EmbeddedServices, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not shutil.which("pg_config"), reason="no PostgreSQL")]

KIDS_PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"
JAZZ_PARTY = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"


def postgres_bin(name: str) -> str:
    bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
    return str(Path(bindir) / name)


class ThrowawayCluster:
    """A private PostgreSQL cluster; as root it runs as the `postgres` user, as initdb requires."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="partyplanner-pg-"))
        self.port = free_port()
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *command: str) -> None:
        subprocess.run([*self.prefix, *command], check=True, capture_output=True)

    def start(self) -> None:
        if self.prefix:
            shutil.chown(self.directory, "postgres")
        data = str(self.directory / "data")
        self.run(postgres_bin("initdb"), "-D", data, "--auth=trust", "--username=postgres", "--no-sync")
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(postgres_bin("pg_ctl"), "-D", data, "-o", options, "-l", str(self.directory / "log"), "-w", "start")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, postgres_bin("pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def cluster():
    cluster = ThrowawayCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def broker():
    services = EmbeddedServices()
    yield services.start_broker()
    services.stop()


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180
    )
    if check and result.returncode:
        pytest.fail(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def query(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


def test_a_restored_backup_keeps_plans_events_and_catalog_and_the_reconciler_finishes_running_plans(
    cluster, broker, tmp_path
):
    cluster.run(postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "partyplanner")
    url = cluster.url("partyplanner")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "partyproject.settings.dev",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "DATABASE_URL": url,
        "REDIS_URL": broker,
        "CACHE_URL": broker,
        "DATABASE_CONN_MAX_AGE": "0",
    }
    manage(env, "migrate", "--noinput")
    manage(env, "seed_catalog")
    manage(env, "plan", KIDS_PARTY, "--start-worker", "--timeout", "60")
    manage(env, "plan", JAZZ_PARTY, "--timeout", "1", check=False)  # no worker: it stays running
    statuses = dict(query(url, "SELECT request_text, status FROM planning_plan"))
    assert statuses == {KIDS_PARTY: "complete", JAZZ_PARTY: "running"}
    before = {
        table: query(url, f"SELECT count(*) FROM {table}")[0][0]
        for table in ("planning_plan", "planning_planevent", "planning_venue", "planning_cake", "planning_theme")
    }

    backup = tmp_path / "partyplanner.dump"
    subprocess.run(["bin/db-backup", str(backup)], cwd=BASE_DIR, env=env, check=True, capture_output=True)

    # The disaster: the database and the broker's queues are gone.
    cluster.run(postgres_bin("dropdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "partyplanner")
    redis.Redis.from_url(broker).flushall()
    cluster.run(postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "partyplanner")
    restore = subprocess.run(["bin/db-restore", str(backup)], cwd=BASE_DIR, env=env, capture_output=True, text=True)
    assert restore.returncode == 0, restore.stderr

    after = {table: query(url, f"SELECT count(*) FROM {table}")[0][0] for table in before}
    assert after == before
    assert dict(query(url, "SELECT request_text, status FROM planning_plan")) == statuses
    for plan_id, seqs in query(url, "SELECT plan_id, array_agg(seq ORDER BY seq) FROM planning_planevent GROUP BY 1"):
        assert seqs == list(range(1, len(seqs) + 1)), f"the event log of {plan_id} survived whole"

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "partyproject", "worker", "--pool", "prefork", "--concurrency", "2"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        reconciled = manage(env, "reconcile", "--stalled-after", "0")
        assert "1 redriven" in reconciled.stdout, reconciled.stdout

        def jazz_ended() -> bool:
            return query(url, "SELECT status FROM planning_plan WHERE request_text = %s", JAZZ_PARTY)[0][0] != "running"

        wait_until(jazz_ended, timeout=60, what="the restored running plan to end", interval=0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    status, plan_id = query(url, "SELECT status, id FROM planning_plan WHERE request_text = %s", JAZZ_PARTY)[0]
    assert status == "complete"
    types = [
        kind for (kind,) in query(url, "SELECT type FROM planning_planevent WHERE plan_id = %s ORDER BY seq", plan_id)
    ]
    assert "plan.redriven" in types and types[-1] == "plan.complete"
