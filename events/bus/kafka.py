"""Kafka adapter (confluent-kafka): one topic keyed by plan id, so a plan's events share a partition
and stay in order; consumer groups; offsets committed only after processing; `<topic>.dead` for
events a consumer cannot handle. The producer is idempotent with acks=all, so a retried send does not
duplicate or reorder within a partition.
"""

from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from . import BusConsumer, Delivery, EventBus, decode, encode


class KafkaBus(EventBus):
    def __init__(self, *, bootstrap: str, topic: str, flush_timeout: float = 30) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.dead_topic = f"{topic}.dead"
        self.flush_timeout = flush_timeout
        self._producer: Producer | None = None

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(
                {"bootstrap.servers": self.bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 5}
            )
        return self._producer

    def publish(self, events: list[dict[str, Any]]) -> None:
        errors: list[str] = []

        def delivered(error, _message) -> None:
            if error is not None:
                errors.append(str(error))

        for event in events:
            self.producer.produce(self.topic, key=event["plan_id"], value=encode(event), on_delivery=delivered)
        if self.producer.flush(self.flush_timeout) or errors:
            raise KafkaException(f"Kafka did not take every event: {errors or 'flush timed out'}")

    def produce_raw(self, topic: str, *, key: str, value: bytes, headers: dict[str, str] | None = None) -> None:
        self.producer.produce(topic, key=key, value=value, headers=headers or {})
        if self.producer.flush(self.flush_timeout):
            raise KafkaException(f"Kafka did not take the message for {topic}")

    def consumer(self, *, group: str, name: str) -> "KafkaConsumer":
        return KafkaConsumer(self, group=group, name=name)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(self.flush_timeout)


class KafkaConsumer(BusConsumer):
    def __init__(self, bus: KafkaBus, *, group: str, name: str) -> None:
        self.bus = bus
        self.consumer = Consumer(
            {
                "bootstrap.servers": bus.bootstrap,
                "group.id": group,
                "client.id": name,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
            }
        )
        self.consumer.subscribe([bus.topic])

    def poll(self, *, max_count: int = 100, timeout: float = 1.0) -> list[Delivery]:
        messages = self.consumer.consume(num_messages=max_count, timeout=timeout)
        deliveries = []
        for message in messages:
            if message.error():
                raise KafkaException(message.error())
            deliveries.append(Delivery(event=decode(message.value()), token=message))
        return deliveries

    def ack(self, deliveries: list[Delivery]) -> None:
        """Commit, per partition, the offset after the last processed message."""
        last: dict[int, int] = {}
        for delivery in deliveries:
            message = delivery.token
            last[message.partition()] = max(last.get(message.partition(), -1), message.offset())
        if last:
            offsets = [TopicPartition(self.bus.topic, partition, offset + 1) for partition, offset in last.items()]
            self.consumer.commit(offsets=offsets, asynchronous=False)

    def dead_letter(self, delivery: Delivery, *, error: str) -> None:
        self.bus.produce_raw(
            self.bus.dead_topic, key=delivery.event["plan_id"], value=encode(delivery.event), headers={"error": error}
        )
        self.ack([delivery])

    def close(self) -> None:
        self.consumer.close()
