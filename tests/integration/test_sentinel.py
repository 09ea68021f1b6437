"""Redis Sentinel: a private redis-server and a private Sentinel watching it (free ports, nothing on disk);
our Redis client, the cache, the wake-ups of the live streams, the Celery broker and the result backend all
find the master through the Sentinel from `sentinel://` URLs and REDIS_SENTINEL_MASTER, and a plan completes."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from bench.cluster import PrivateRedis, celery_use
from events.bus.redis_streams import RedisStreamsBus
from partyproject.celery import app as celery_app
from partyproject.embedded import BASE_DIR, EmbeddedServices, die_with_parent, free_port, wait_until
from partyproject.redis_client import redis_client, redis_client_reset, sentinel_addresses
from tests.conftest import child_process_env, client_for
from tests.integration.test_live_pipeline import KIDS_PARTY, assert_gapless_events, wait_for_end

pytestmark = [pytest.mark.integration]

MASTER = "partyplanner-test"


class PrivateSentinel:
    """`redis-server --sentinel` on a free port, watching one master; its config lives in a temp dir."""

    def __init__(self, workdir: Path, master_port: int) -> None:
        self.port = free_port()
        config = workdir / "sentinel.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {workdir}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {master_port} 1\n"
            f"sentinel down-after-milliseconds {MASTER} 2000\n"
        )
        log = open(workdir / "sentinel.log", "ab")  # noqa: SIM115 - the child process owns it
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), str(config), "--sentinel"],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        log.close()
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        wait_until(lambda: client.sentinel_get_master_addr_by_name(MASTER), timeout=15, what="the Sentinel")

    def url(self, db: int, *, with_a_dead_one: bool = False) -> str:
        """Its URL; `with_a_dead_one` lists a Sentinel that is down before it."""
        dead = f"sentinel://127.0.0.1:{free_port()};" if with_a_dead_one else ""
        return f"{dead}sentinel://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is needed for the Sentinel tests")
    workdir = tmp_path_factory.mktemp("sentinel")
    master = PrivateRedis(workdir)
    master.start()
    watcher = PrivateSentinel(workdir, master.port)
    yield master, watcher
    watcher.stop()
    master.kill()


def test_a_sentinel_url_names_its_sentinels_and_db():
    assert sentinel_addresses("sentinel://a:26379;sentinel://b:26380/3") == ([("a", 26379), ("b", 26380)], 3)
    assert sentinel_addresses("sentinel://a") == ([("a", 26379)], 0)


def test_our_client_the_cache_and_the_wake_ups_reach_the_master_through_the_sentinel(sentinel):
    """In a fresh process configured only from the environment, as a deployment is (the first Sentinel
    in each URL is down: the clients move on to the next). A wake-up goes from `plan_wake`'s PUBLISH to a
    hub's subscription, both on the master the Sentinel names."""
    master, watcher = sentinel
    script = (
        "import asyncio, uuid, django; django.setup()\n"
        "from django.core.cache import cache\n"
        "from events.hub import PlanHub\n"
        "from events.notify import plan_wake\n"
        "from partyproject.redis_client import redis_client\n"
        "redis_client().set('partyplanner:sentinel-check', b'ours')\n"
        "cache.set('sentinel-check', 'cached')\n"
        "async def roundtrip():\n"
        "    plan = uuid.uuid4()\n"
        "    async with PlanHub().subscription(plan) as waker:\n"
        "        assert plan_wake(plan_id=plan)\n"
        "        await asyncio.wait_for(waker.wait(), timeout=10)\n"
        "    return 'woken'\n"
        "print(__import__('json').dumps([cache.get('sentinel-check'), asyncio.run(roundtrip())]))\n"
    )
    env = child_process_env(
        REDIS_URL=watcher.url(0, with_a_dead_one=True),
        CACHE_URL=watcher.url(1, with_a_dead_one=True),
        EVENTS_WAKE_URL=watcher.url(2, with_a_dead_one=True),
        EVENTS_POLL_SECONDS="60",  # only the wake-up can wake the subscriber in time
        REDIS_SENTINEL_MASTER=MASTER,
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["cached", "woken"]
    direct = redis.Redis(port=master.port)
    assert direct.get("partyplanner:sentinel-check") == b"ours"
    assert any(redis.Redis(port=master.port, db=1).scan_iter(match="*sentinel-check*")), "the cache's key"
    assert direct.info("commandstats")["cmdstat_publish"]["calls"] >= 1, "the wake-up went to the master"


@pytest.mark.django_db(transaction=True)
def test_a_plan_completes_with_broker_results_and_breakers_behind_the_sentinel(sentinel, catalog, user, tmp_path):
    _, watcher = sentinel
    url = watcher.url(0)
    options = {
        "broker": dict(celery_app.conf.broker_transport_options),
        "result": dict(celery_app.conf.result_backend_transport_options),
    }
    from django.conf import settings

    previous = settings.REDIS_URL, settings.REDIS_SENTINEL_MASTER
    celery_app.conf.broker_transport_options = {**options["broker"], "master_name": MASTER}
    celery_app.conf.result_backend_transport_options = {**options["result"], "master_name": MASTER}
    settings.REDIS_SENTINEL_MASTER = MASTER
    celery_use(url)
    services = EmbeddedServices(concurrency=1, log_dir=tmp_path)
    try:
        env = child_process_env(
            REDIS_URL=url, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url, REDIS_SENTINEL_MASTER=MASTER
        )
        services.start_worker(env=env, name="sentinel")
        client = client_for(user)
        plan = wait_for_end(client, client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").json()["id"])
        assert plan["status"] == "complete", plan["result"]
        assert_gapless_events(plan["id"])
        assert any(key.startswith(b"partyplanner:breaker:") for key in redis_client().keys("partyplanner:*"))
    finally:
        services.stop()
        celery_app.conf.broker_transport_options = options["broker"]
        celery_app.conf.result_backend_transport_options = options["result"]
        settings.REDIS_URL, settings.REDIS_SENTINEL_MASTER = previous
        celery_use(previous[0])
        redis_client_reset()


def test_the_event_bus_publishes_and_consumes_through_the_sentinel(sentinel, settings):
    """The outbound event stream (Redis Streams) on a `sentinel://` URL reaches the master (the first
    Sentinel named is down: the client moves on)."""
    master, watcher = sentinel
    settings.REDIS_SENTINEL_MASTER = MASTER
    bus = RedisStreamsBus(
        url=watcher.url(3, with_a_dead_one=True), prefix="sentinel-bus", partitions=2, maxlen=1000,
        max_age_seconds=3600, claim_idle_seconds=30,
    )  # fmt: skip
    try:
        consumer = bus.consumer(group="check", name="one")
        event = {"v": 1, "plan_id": "0f6f1c36-3c1a-4a57-9d43-5d7a2d6f0b11", "seq": 1, "type": "plan.received"}
        bus.publish([event])
        deliveries = consumer.poll(timeout=2)
        assert [delivery.event for delivery in deliveries] == [event]
        consumer.ack(deliveries)
    finally:
        bus.close()
    assert any(redis.Redis(port=master.port, db=3).scan_iter(match="sentinel-bus:*")), "the streams are on the master"
