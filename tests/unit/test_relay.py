"""The relay's loop, its position, the bus selection and the commands (the bus itself: integration tests)."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from events.bus import BusConsumer, Delivery, EventBus, bus_from_settings, partition_for
from events.models import RelayCursor
from events.selectors import plans_to_relay, plans_to_relay_query
from events.services import Deduplicator, RelayWindow, relay_cursor_advance, relay_run, relay_step
from planning.models import Plan
from tests.events_helpers import plan_with_events
from tests.query_plans import pages_read, queryset_plan

pytestmark = pytest.mark.django_db


class ListBus(EventBus):
    """An in-memory bus for the relay's own logic (the adapters are tested on real brokers)."""

    def __init__(self, failures: int = 0) -> None:
        self.published: list[dict] = []
        self.failures = failures

    def publish(self, events):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("bus down")
        self.published.extend(events)

    def consumer(self, *, group, name) -> BusConsumer:
        raise NotImplementedError


def test_relay_step_publishes_in_order_and_remembers(user):
    plan = plan_with_events(user, 3, end=True)
    bus = ListBus()
    assert relay_step(bus=bus, batch=2) == 2  # a batch is capped, the rest follows
    assert relay_step(bus=bus) == 2
    assert relay_step(bus=bus) == 0
    assert [event["seq"] for event in bus.published] == [1, 2, 3, 4]
    assert RelayCursor.objects.get(plan=plan).seq == 4


def test_a_failed_publish_leaves_the_position_where_it_was(user):
    plan_with_events(user, 2)
    with pytest.raises(ConnectionError):
        relay_step(bus=ListBus(failures=1))
    assert not RelayCursor.objects.exists()


def test_the_cursor_never_moves_backwards(user):
    plan = plan_with_events(user, 1)
    relay_cursor_advance(plan_id=plan.id, seq=5)
    relay_cursor_advance(plan_id=plan.id, seq=3)
    relay_cursor_advance(plan_id=plan.id, seq=6)
    assert RelayCursor.objects.get(plan=plan).seq == 6


@pytest.mark.django_db(transaction=True)
def test_relay_run_backs_off_on_failures_and_stops_when_asked(user):
    plan_with_events(user, 2)
    bus = ListBus(failures=2)
    stop = threading.Event()
    thread = threading.Thread(target=relay_run, kwargs={"bus": bus, "stop": stop, "interval": 0.01})
    thread.start()
    for _ in range(200):
        if len(bus.published) == 2:
            break
        threading.Event().wait(0.02)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(bus.published) == 2


def test_bus_selection(settings):
    settings.EVENT_BUS = "none"
    assert bus_from_settings() is None
    with pytest.raises(CommandError):
        call_command("relay_events", "--once")
    with pytest.raises(CommandError):
        call_command("consume_events")
    settings.EVENT_BUS = "kafka"
    assert type(bus_from_settings()).__name__ == "KafkaBus"
    settings.EVENT_BUS = "redis"
    assert type(bus_from_settings()).__name__ == "RedisStreamsBus"
    settings.EVENT_BUS = "rabbit"
    with pytest.raises(ValueError, match="EVENT_BUS"):
        bus_from_settings()


def test_relay_once_command_on_redis(user, settings, capsys):
    settings.EVENT_BUS = "redis"
    settings.EVENT_BUS_REDIS_URL = settings.REDIS_URL
    settings.EVENT_BUS_STREAM_PREFIX = prefix = f"test-relay-{uuid.uuid4().hex[:8]}"
    plan_with_events(user, 2, end=True)
    call_command("relay_events", "--once")
    assert "Relayed 3 events." in capsys.readouterr().out
    bus = bus_from_settings()
    for key in bus.client.scan_iter(match=f"{prefix}:*"):
        bus.client.delete(key)


def test_deduplicator_and_partitions():
    seen = Deduplicator(size=2)
    a, b, c = ({"plan_id": "p", "seq": n} for n in (1, 2, 3))
    assert seen.first_time(a) and not seen.first_time(a) and seen.first_time(b) and seen.first_time(c)
    assert seen.first_time(a), "forgotten beyond the window"
    assert partition_for("plan-x", 8) == partition_for("plan-x", 8) and 0 <= partition_for("plan-x", 8) < 8
    assert Delivery(event=a, token=None).attempts == 1


def plans_of_history(user, *, count: int, changed: str, relayed: bool = False) -> None:
    """Insert `count` ended plans (three events each), the n-th last changed at the SQL expression `changed`
    (of `step`), optionally all relayed; then vacuum, so that rows other tests rolled back leave no dead
    index entries for the query plans to read (the test is transactional, so VACUUM can run)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO planning_plan (id, owner_id, request_text, request_fields, status, version, event_seq,"
            " revision, constraints, error, selection_arm, created_at, updated_at)"
            " SELECT gen_random_uuid(), %s, '', '{}', 'complete', 1, 3, 1, '{}', '', '', changed, changed"
            f" FROM generate_series(1, %s) AS step, LATERAL (SELECT {changed}) AS history (changed)",
            [user.pk, count],
        )
        if relayed:
            cursor.execute(
                "INSERT INTO events_relaycursor (plan_id, seq, updated_at)"
                " SELECT id, event_seq, now() FROM planning_plan"
            )
        for table in ("planning_plan", "events_relaycursor"):
            cursor.execute(f"VACUUM ANALYZE {table}")


@pytest.mark.django_db(transaction=True)
def test_a_relay_step_reads_the_plans_changed_within_its_lookback_not_the_whole_history(user):
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    plans_of_history(user, count=5000, changed="now() - interval '3 days' - step * interval '1 s'")
    recent = plan_with_events(user, 2)

    read = pages_read(queryset_plan(plans_to_relay_query(lookback=timedelta(hours=24))))

    assert plans_to_relay(lookback=timedelta(hours=24), limit=10) == [(recent.id, 0)]
    assert read <= 12, read  # the recent plan's index and table pages, not those of 5,000 plans of history


def test_a_relay_window_narrows_after_a_drained_step_and_widens_at_each_sweep():
    window = RelayWindow(margin=timedelta(seconds=30), sweep_every=timedelta(seconds=60))
    began = timezone.now()
    assert window.step_since(now=began) is None, "the first step sweeps the whole lookback"
    window.drained(began=began, since=None)
    assert window.step_since(now=began + timedelta(seconds=1)) == began - timedelta(seconds=30)
    later = began + timedelta(seconds=20)
    window.drained(began=later, since=window.step_since(now=later))
    assert window.step_since(now=later + timedelta(seconds=1)) == later - timedelta(seconds=30)
    assert window.step_since(now=began + timedelta(seconds=60)) is None, "a sweep is due a minute after the last"


def test_a_narrow_step_leaves_an_older_change_to_the_next_sweep_and_a_full_batch_keeps_the_window(user):
    bus, window = ListBus(), RelayWindow(margin=timedelta(seconds=30), sweep_every=timedelta(seconds=60))
    assert relay_step(bus=bus, window=window) == 0 and window.since is not None
    late = plan_with_events(user, 2)  # committed now, stamped five minutes ago (a long transaction)
    Plan.objects.filter(pk=late.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert relay_step(bus=bus, window=window) == 0, "outside the narrow window"
    window.swept_at -= timedelta(seconds=60)
    assert relay_step(bus=bus, window=window) == 2, "the sweep finds it"
    narrowed = window.since
    plan_with_events(user, 3)
    plan_with_events(user, 3)
    assert relay_step(bus=bus, window=window, batch=2) == 4
    assert window.since == narrowed, "a step that filled its batch does not move the window"
    assert relay_step(bus=bus, window=window, batch=2) == 2 and window.since == narrowed, "two plans read: a full batch"
    assert relay_step(bus=bus, window=window, batch=2) == 0
    assert window.since > narrowed, "drained: the window moves up to this step"


@pytest.mark.django_db(transaction=True)
def test_a_narrow_relay_step_reads_the_plans_changed_since_its_window_not_the_whole_lookback(user):
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    plans_of_history(user, count=5000, changed="now() - interval '5 minutes' - step * interval '0.5 s'", relayed=True)
    lookback = timedelta(hours=24)

    swept = pages_read(queryset_plan(plans_to_relay_query(lookback=lookback)))
    narrow = pages_read(
        queryset_plan(plans_to_relay_query(lookback=lookback, since=timezone.now() - timedelta(minutes=1)))
    )

    assert narrow <= 6 < 100 <= swept, (narrow, swept)
