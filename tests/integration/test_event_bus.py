"""The relay and the Redis Streams adapter on a real Redis: at least once, in order per plan, claims
of a dead consumer's entries, trimming; the relay killed mid-stream and restarted."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict

import pytest
from django.conf import settings
from django.core.management import call_command

from events.bus import Delivery, partition_for
from events.bus.redis_streams import RedisStreamsBus
from events.models import RelayCursor
from events.services import Deduplicator, relay_step
from planning.models import Plan, PlanEvent
from tests.conftest import child_process_env
from tests.events_helpers import events_append, plan_end, plan_with_events

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stream_prefix(settings):
    """A stream namespace of this test's own, removed afterwards."""
    prefix = f"test-events-{uuid.uuid4().hex[:8]}"
    settings.EVENT_BUS = "redis"
    settings.EVENT_BUS_STREAM_PREFIX = prefix
    settings.EVENT_BUS_REDIS_URL = settings.REDIS_URL
    yield prefix
    bus = redis_bus(prefix)
    for key in bus.client.scan_iter(match=f"{prefix}:*"):
        bus.client.delete(key)


def redis_bus(prefix: str, **options) -> RedisStreamsBus:
    defaults = {"partitions": 4, "maxlen": 100_000, "max_age_seconds": 3600, "claim_idle_seconds": 60}
    return RedisStreamsBus(url=settings.REDIS_URL, prefix=prefix, **{**defaults, **options})


def drain(consumer, *, idle_polls: int = 3) -> list[Delivery]:
    """Everything the consumer gets until it has been idle for a few polls, acknowledged."""
    got: list[Delivery] = []
    idle = 0
    while idle < idle_polls:
        batch = consumer.poll(max_count=500, timeout=0.3)
        idle = 0 if batch else idle + 1
        consumer.ack(batch)
        got.extend(batch)
    return got


def assert_exactly_the_log(deliveries: list[Delivery], plan_ids) -> None:
    """After deduplication: every committed event of every plan once, each plan's in seq order."""
    dedupe = Deduplicator()
    by_plan: dict[str, list[int]] = defaultdict(list)
    for delivery in deliveries:
        if dedupe.first_time(delivery.event):
            by_plan[delivery.event["plan_id"]].append(delivery.event["seq"])
    for plan_id in plan_ids:
        log = list(PlanEvent.objects.filter(plan_id=plan_id).order_by("seq").values_list("seq", flat=True))
        assert by_plan[str(plan_id)] == log, plan_id


def test_the_relay_publishes_each_plans_events_in_order_to_its_partition(user, stream_prefix):
    plans = [plan_with_events(user, 5, end=True) for _ in range(6)]
    bus = redis_bus(stream_prefix)
    consumer = bus.consumer(group="g", name="c1")
    assert relay_step(bus=bus) == 36
    assert relay_step(bus=bus) == 0, "the position is remembered"
    assert dict(RelayCursor.objects.values_list("plan_id", "seq")) == {plan.id: 6 for plan in plans}
    deliveries = drain(consumer)
    assert len(deliveries) == 36
    assert_exactly_the_log(deliveries, [plan.id for plan in plans])
    for delivery in deliveries:  # a plan's events live in one stream
        partition = int(delivery.token[0].rsplit(":", 1)[1])
        assert partition == partition_for(delivery.event["plan_id"], 4)


def test_a_dead_consumers_pending_entries_are_claimed_by_another(user, stream_prefix):
    plan = plan_with_events(user, 8, end=True)
    bus = redis_bus(stream_prefix, claim_idle_seconds=0.5)
    relay_step(bus=bus)
    dying = bus.consumer(group="g", name="dying")
    taken = dying.poll(max_count=100, timeout=1)
    assert len(taken) == 9
    del dying  # it dies without acknowledging anything
    survivor = bus.consumer(group="g", name="survivor")
    assert survivor.poll(max_count=100, timeout=0.1) == [], "not before the idle time"
    time.sleep(0.7)
    claimed = drain(survivor)
    assert sorted(d.event["seq"] for d in claimed) == list(range(1, 10))
    assert all(d.attempts == 2 for d in claimed)
    pending = bus.client.xpending(f"{stream_prefix}:{claimed[0].token[0].rsplit(':', 1)[1]}", "g")
    assert pending["pending"] == 0
    assert_exactly_the_log(claimed, [plan.id])


def test_streams_are_trimmed_by_length_and_age(stream_prefix):
    """Approximate trimming (`~`) removes whole stream nodes (100 entries each by default)."""
    stream = f"{stream_prefix}:0"
    plan_id = str(uuid.uuid4())
    by_length = redis_bus(stream_prefix, partitions=1, maxlen=100)
    by_length.publish([{"plan_id": plan_id, "seq": n, "type": "x"} for n in range(1, 1001)])
    kept = by_length.client.xlen(stream)
    assert 100 <= kept <= 300
    assert [int(fields[b"seq"]) for _, fields in by_length.client.xrevrange(stream, count=1)] == [1000]
    by_age = redis_bus(stream_prefix, partitions=1, max_age_seconds=0)
    time.sleep(0.01)
    by_age.publish([{"plan_id": plan_id, "seq": 1001, "type": "x"}])
    assert by_age.client.xlen(stream) < kept - 50, "entries older than the age limit are gone"


def test_an_event_the_consumer_cannot_handle_goes_to_the_dead_letter_stream(stream_prefix, capsys):
    bus = redis_bus(stream_prefix)
    plan_id = str(uuid.uuid4())
    bus.publish([{"v": 1, "plan_id": plan_id, "seq": 1, "type": "plan.received", "agent": ""}])
    bus.publish([{"v": 99, "plan_id": plan_id, "seq": 2, "type": "from.the.future", "agent": ""}])
    bus.publish([{"v": 1, "plan_id": plan_id, "seq": 1, "type": "plan.received", "agent": ""}])  # a duplicate
    settings.EVENT_BUS_PARTITIONS = 4
    call_command("consume_events", "--group", "example", "--idle-exit", "2")
    output = capsys.readouterr()
    assert output.out.splitlines() == [f"{plan_id} #1 plan.received"]
    assert "dead-lettered" in output.err
    dead = bus.client.xrange(f"{stream_prefix}:dead")
    assert len(dead) == 1 and b"unsupported event version 99" in dead[0][1][b"error"]
    assert (
        bus.client.xpending(f"{stream_prefix}:{__import__('events.bus').bus.partition_for(plan_id, 4)}", "example")[
            "pending"
        ]
        == 0
    )


def test_the_relay_killed_mid_stream_and_restarted_loses_nothing(user, stream_prefix, tmp_path):
    """Events keep committing while the relay process is SIGKILLed and started again: the consumer
    group ends with every event of every plan, exactly once after deduplication, in order per plan."""
    plans = [plan_with_events(user, 1) for _ in range(4)]
    env = {**os.environ, **child_process_env(EVENT_BUS_STREAM_PREFIX=stream_prefix, EVENT_BUS_PARTITIONS="4",
                                            EVENT_RELAY_INTERVAL_SECONDS="0.05")}  # fmt: skip
    command = [sys.executable, "manage.py", "relay_events"]

    def relay() -> subprocess.Popen:
        return subprocess.Popen(command, env=env, stdout=open(tmp_path / "relay.log", "ab"), stderr=subprocess.STDOUT)

    killed = threading.Event()

    def write() -> None:
        for round_ in range(15):
            if round_ == 5:
                killed.wait(timeout=30)  # the rest commits after the kill, whatever the machine's speed
            for plan in plans:
                events_append(plan.id, 2)
            time.sleep(0.05)
        for plan in plans:
            plan_end(plan.id)

    def relayed() -> int:
        return sum(RelayCursor.objects.values_list("seq", flat=True))

    writer = threading.Thread(target=write)
    first = relay()
    deadline = time.monotonic() + 30
    while relayed() < len(plans) and time.monotonic() < deadline:  # up, with the plans' first events out
        time.sleep(0.02)
    writer.start()
    while relayed() <= len(plans) and time.monotonic() < deadline:  # and some of the writer's too
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed.set()
    published_before = relayed()
    second = relay()
    writer.join()
    heads = {plan.id: Plan.objects.get(pk=plan.id).event_seq for plan in plans}
    deadline = time.monotonic() + 30
    while dict(RelayCursor.objects.values_list("plan_id", "seq")) != heads and time.monotonic() < deadline:
        time.sleep(0.1)
    second.terminate()
    assert second.wait(timeout=10) == 0, (tmp_path / "relay.log").read_text()
    assert 0 < published_before < sum(heads.values()), "the kill came mid-stream"
    deliveries = drain(redis_bus(stream_prefix).consumer(group="audit", name="a1"))
    assert_exactly_the_log(deliveries, [plan.id for plan in plans])
    counts = Counter((d.event["plan_id"], d.event["seq"]) for d in deliveries)
    assert len(counts) == sum(heads.values()) == 4 * 32
