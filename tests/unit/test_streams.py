"""The WebSocket and SSE streams in-process (channels' communicators against the project's ASGI
application), the hub's cache, the credentials function, and the wake-ups (Redis pub/sub) on the test
Redis: the sender's PUBLISH, the hub's subscriptions, its reconnects and its shutdown."""

import asyncio
import contextlib
import datetime
import json
import logging
import os
import socket
import threading
import time
from uuid import uuid4

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.conf import settings as django_settings

from bench.cluster import TcpProxy as FreezingProxy
from events import auth, notify
from events.hub import PlanFeed, PlanHub, plan_hub
from events.notify import plan_wake, wake_channel
from events.schema import HEARTBEAT, event_envelope, is_terminal
from events.streams import sse_frame
from partyproject.asgi import application
from partyproject.embedded import free_port
from tests.conftest import user_create
from tests.events_helpers import events_append, plan_end, plan_with_events, token_for
from tests.proxy import TcpProxy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _quick_streams(settings, monkeypatch):
    settings.EVENTS_HEARTBEAT_SECONDS = 0.3
    settings.EVENTS_POLL_SECONDS = 0.2
    settings.EVENTS_SEND_TIMEOUT_SECONDS = 2
    monkeypatch.setattr(notify, "_quiet_until", 0.0)  # no quiet period left over from another test's failure


def bearer(user) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {token_for(user)}".encode())]


async def ws_session(path: str, headers, *, until_close: bool = True, during=None):
    """Connect, optionally run `during` in a thread, and collect frames until the server closes."""
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    if during is not None:
        await asyncio.get_running_loop().run_in_executor(None, during)
    frames, close = [], None
    while until_close:
        message = await communicator.receive_output(timeout=10)
        if message["type"] == "websocket.close":
            close = message
            break
        frames.append(json.loads(message["text"]))
    await communicator.disconnect()
    return frames, close


def test_websocket_replays_then_closes_normally_after_the_terminal_event(user):
    plan = plan_with_events(user, 3, end=True)
    frames, close = async_to_sync(ws_session)(f"/ws/v1/plans/{plan.id}/?after=1", bearer(user))
    assert [frame["seq"] for frame in frames] == [2, 3, 4] and close["code"] == 1000
    assert frames[-1]["type"] == "plan.complete"


@pytest.mark.parametrize(
    ("who", "query", "code"),
    [("nobody", "", 4401), ("stranger", "", 4403), ("owner", "?after=x", 4400), ("owner", "?after=-1", 4400)],
)
def test_websocket_refusals_carry_their_close_code(user, who, query, code):
    plan = plan_with_events(user, 1)
    headers = {"nobody": [], "stranger": bearer(user_create("eve")), "owner": bearer(user)}[who]
    frames, close = async_to_sync(ws_session)(f"/ws/v1/plans/{plan.id}/{query}", headers)
    assert frames == [] and close["code"] == code


def test_websocket_live_events_after_the_replay_with_heartbeats_in_between(user):
    plan = plan_with_events(user, 2)

    def later() -> None:
        events_append(plan.id, 3)
        plan_end(plan.id)

    frames, close = async_to_sync(ws_session)(f"/ws/v1/plans/{plan.id}/", bearer(user), during=later)
    assert [frame["seq"] for frame in frames if frame["type"] != "heartbeat"] == [1, 2, 3, 4, 5, 6]
    assert close["code"] == 1000


def test_websocket_idle_plan_gets_heartbeats(user):
    plan = plan_with_events(user, 1)

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/v1/plans/{plan.id}/?after=1", headers=bearer(user))
        await communicator.connect(timeout=5)
        first = json.loads(await communicator.receive_from(timeout=5))
        await communicator.send_to(text_data="ignored")
        await communicator.disconnect()
        return first

    assert async_to_sync(scenario)() == HEARTBEAT


def test_a_lost_wake_up_is_made_good_by_the_poll(user, settings):
    settings.EVENTS_WAKE_URL = ""  # no wake-ups at all: only the hub's poll of the plans' heads
    plan = plan_with_events(user, 1)
    frames, close = async_to_sync(ws_session)(
        f"/ws/v1/plans/{plan.id}/?after=1", bearer(user), during=lambda: plan_end(plan.id)
    )
    assert [frame["seq"] for frame in frames if frame["type"] != "heartbeat"] == [2] and close["code"] == 1000


def sse(path: str, headers, method: str = "GET"):
    communicator = HttpCommunicator(application, method, path, headers=headers)
    return async_to_sync(communicator.get_response)(timeout=10)


def test_sse_stream_of_an_ended_plan_and_its_refusals(user):
    plan = plan_with_events(user, 2, end=True)
    response = sse(f"/api/v1/plans/{plan.id}/stream/", bearer(user))
    assert response["status"] == 200
    assert dict(response["headers"])[b"content-type"].startswith(b"text/event-stream")
    body = response["body"].decode()
    assert body.count("id: ") == 3 and "event: plan.complete" in body
    resumed = sse(f"/api/v1/plans/{plan.id}/stream/", [*bearer(user), (b"last-event-id", b"2")])
    assert resumed["body"].decode().count("id: ") == 1
    assert sse(f"/api/v1/plans/{plan.id}/stream/", [])["status"] == 401
    assert sse(f"/api/v1/plans/{plan.id}/stream/", bearer(user_create("eve")))["status"] == 404
    assert sse(f"/api/v1/plans/{plan.id}/stream/?after=nope", bearer(user))["status"] == 400
    assert sse(f"/api/v1/plans/{plan.id}/stream/", bearer(user), method="POST")["status"] == 405


def test_sse_frames():
    assert sse_frame(HEARTBEAT) == b": heartbeat\n\n"
    event = event_envelope(
        plan_id=uuid4(),
        seq=7,
        type="plan.complete",
        agent="",
        payload={},
        created_at=datetime.datetime.now(tz=datetime.UTC),
    )
    assert sse_frame(event).startswith(b"id: 7\nevent: plan.complete\ndata: {") and is_terminal(event)


def test_credentials_map_to_an_active_user_or_none(user):
    token = token_for(user)
    assert auth.user_for_token(token) == user
    assert auth.user_for_token("") is None and auth.user_for_token("x.y.z") is None
    assert auth.scope_token({"headers": [(b"authorization", b"Bearer abc")]}) == "abc"
    assert auth.scope_token({"headers": [(b"authorization", b"Basic abc")], "query_string": b""}) == ""
    assert auth.scope_token({"headers": [], "query_string": b"access_token=xyz"}) == "xyz"
    user.is_active = False
    user.save()
    assert auth.user_for_token(token) is None


def test_the_session_user_is_used_when_no_token_is_given(user):
    from django.contrib.auth.models import AnonymousUser

    assert async_to_sync(auth.scope_user)({"headers": [], "user": user}) == user
    assert async_to_sync(auth.scope_user)({"headers": [], "user": AnonymousUser()}) is None


def test_the_feed_cache_answers_only_what_it_holds():
    feed = PlanFeed(plan_id=uuid4())
    assert feed.cached(0, 10) is None, "nothing read yet"
    feed.remember([{"seq": s} for s in (1, 2, 3)], head=3, ended=False)
    feed.read_generation = feed.generation
    assert [e["seq"] for e in feed.cached(1, 10)] == [2, 3]
    assert [e["seq"] for e in feed.cached(0, 2)] == [1, 2]
    assert feed.cached(3, 10) == [], "at the head and no wake-up since the read"
    feed.wake()
    assert feed.cached(3, 10) is None, "a wake-up since the read: ask the log"
    feed.remember([{"seq": s} for s in range(4, 600)], head=599, ended=True)
    assert feed.cached(0, 10) is None, "evicted from the bounded tail"


def test_a_client_thread_writing_during_replay(user):
    """Events committed by another thread while the replay runs come through once each."""
    plan = plan_with_events(user, 30)
    writer = threading.Thread(target=lambda: (events_append(plan.id, 30), plan_end(plan.id)))

    def start() -> None:
        writer.start()

    frames, _ = async_to_sync(ws_session)(f"/ws/v1/plans/{plan.id}/", bearer(user), during=start)
    writer.join()
    assert [frame["seq"] for frame in frames if frame["type"] != "heartbeat"] == list(range(1, 62))


# --- Wake-ups: one PUBLISH per commit, received by the hub's subscription -------------------------------


def shared_redis() -> redis.Redis:
    """The test Redis, straight (pub/sub channels are per server: the db in a URL plays no part)."""
    return redis.Redis.from_url(django_settings.REDIS_URL, socket_timeout=5)


def redis_port() -> int:
    return shared_redis().connection_pool.connection_kwargs["port"]


def subscribers(plan_id) -> int:
    return shared_redis().pubsub_numsub(wake_channel(plan_id))[0][1]


@contextlib.contextmanager
def watching(plan_id):
    """A subscriber of the plan's wake-ups on the test Redis, its subscription confirmed."""
    listener = shared_redis().pubsub()
    listener.subscribe(wake_channel(plan_id))
    assert listener.get_message(timeout=2)["type"] == "subscribe"
    try:
        yield listener
    finally:
        listener.close()


def received(listener, *, seconds: float) -> list[tuple[bytes, bytes]]:
    """The (channel, data) of every message the listener gets within `seconds`."""
    messages, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        message = listener.get_message(timeout=min(left, 0.1))
        if message is not None and message["type"] == "message":
            messages.append((message["channel"], message["data"]))
    return messages


async def until(check, *, what: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def eventually(check, *, what: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def quick_hub() -> PlanHub:
    """A hub that reads for 0.2 s at a time (so it finds a silent connection dead after 0.6 s) and tries
    Redis again after 0.2 s."""
    hub = PlanHub()
    hub.read_seconds, hub.retry_seconds = 0.2, 0.2
    return hub


def test_each_wake_up_is_one_publish_on_its_plans_channel():
    plan, other = uuid4(), uuid4()
    with watching(plan) as listener:
        assert [plan_wake(plan_id=plan) for _ in range(3)] == [True, True, True]
        assert plan_wake(plan_id=str(other)), "published even when nobody listens (it then reaches no one)"
        assert received(listener, seconds=0.5) == [(wake_channel(plan).encode(), b"")] * 3


def test_a_wake_up_never_raises_and_gives_up_quickly_when_redis_is_unreachable(settings, caplog, monkeypatch):
    settings.EVENTS_WAKE_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: refused
    started = time.monotonic()
    assert plan_wake(plan_id=uuid4()) is False
    assert time.monotonic() - started < 0.5
    assert "Could not signal new events" in caplog.text
    monkeypatch.setattr(notify, "_quiet_until", 0.0)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # connections are accepted, nothing ever answers
        settings.EVENTS_WAKE_URL = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        started = time.monotonic()
        assert plan_wake(plan_id=uuid4()) is False
        assert time.monotonic() - started < 2 * notify.TIMEOUT_SECONDS + 0.5
    settings.EVENTS_WAKE_URL = ""
    assert plan_wake(plan_id=uuid4()) is False  # no Redis configured: nothing to do


def test_after_a_failure_wake_ups_pause_for_a_moment(settings, caplog):
    plan = uuid4()
    with watching(plan) as listener:
        settings.EVENTS_WAKE_URL = f"redis://127.0.0.1:{free_port()}/0"
        assert plan_wake(plan_id=plan) is False
        failed_at = time.monotonic()
        settings.EVENTS_WAKE_URL = settings.REDIS_URL  # Redis is back, but the quiet period is not over
        caplog.clear()
        started = time.monotonic()
        assert not any(plan_wake(plan_id=plan) for _ in range(100)), "not even tried"
        assert time.monotonic() - started < 0.1 and "Could not signal" not in caplog.text
        assert time.monotonic() - failed_at < notify.QUIET_SECONDS, "the calls above fell in the quiet period"
        assert received(listener, seconds=0.2) == []
        time.sleep(max(0.0, failed_at + notify.QUIET_SECONDS - time.monotonic()) + 0.05)
        assert plan_wake(plan_id=plan) is True
        assert received(listener, seconds=0.5) == [(wake_channel(plan).encode(), b"")]


def test_the_hub_subscribes_a_plan_once_while_it_has_subscribers(caplog):
    plan, other = uuid4(), uuid4()

    async def scenario() -> None:
        hub = quick_hub()
        async with hub.subscription(plan) as first:
            assert subscribers(plan) == 1, "subscribed (and confirmed) before the first read of the log"
            async with hub.subscription(plan) as second:
                assert subscribers(plan) == 1, "one subscription per plan and process"
                async with hub.subscription(other) as third:
                    assert subscribers(other) == 1
                    assert plan_wake(plan_id=plan)
                    await asyncio.wait_for(asyncio.gather(first.wait(), second.wait()), timeout=2)
                    assert not third.is_set(), "only the plan's own subscribers are woken"
                await until(lambda: subscribers(other) == 0, what="the unsubscribe after the last one left")
            assert subscribers(plan) == 1, "a subscriber is left"
        await until(lambda: subscribers(plan) == 0, what="the unsubscribe after the last one left")
        # Subscribed to nothing, the hub goes on reading (and PINGing) without an error, and takes new plans.
        await asyncio.sleep(hub.read_seconds * hub.silent_reads * 2)
        async with hub.subscription(plan) as again:
            assert plan_wake(plan_id=plan)
            await asyncio.wait_for(again.wait(), timeout=2)

    with caplog.at_level(logging.INFO, logger="events.hub"):
        async_to_sync(scenario)()
    assert "Wake-ups unavailable" not in caplog.text


def test_the_hub_subscribes_again_after_a_reconnect_and_the_sender_retries_on_a_fresh_connection(settings):
    port = free_port()
    proxy = TcpProxy(("127.0.0.1", redis_port()), port).start()
    settings.EVENTS_WAKE_URL = f"redis://127.0.0.1:{port}/0"
    plan = uuid4()

    async def scenario() -> None:
        hub = quick_hub()
        async with hub.subscription(plan) as waker:
            assert plan_wake(plan_id=plan)
            await asyncio.wait_for(waker.wait(), timeout=2)
            proxy.stop()  # both connections are cut
            await until(lambda: subscribers(plan) == 0, what="Redis to see the hub's connection go")
            proxy.start()
            await until(lambda: subscribers(plan) == 1, what="the hub to connect and subscribe again")
            waker.clear()
            assert plan_wake(plan_id=plan), "the sender's pooled connection was cut: one retry on a new one"
            await asyncio.wait_for(waker.wait(), timeout=2)

    try:
        async_to_sync(scenario)()
    finally:
        proxy.stop()


def test_a_stream_that_starts_while_redis_is_away_is_polled_then_subscribed_once_it_is_back(settings, caplog):
    port = free_port()
    proxy = TcpProxy(("127.0.0.1", redis_port()), port)  # not listening yet: Redis is away
    settings.EVENTS_WAKE_URL = f"redis://127.0.0.1:{port}/0"
    plan = uuid4()

    async def scenario() -> None:
        hub = quick_hub()
        started = time.monotonic()
        async with hub.subscription(plan) as waker:
            assert time.monotonic() - started < hub.subscribe_seconds, "the stream does not wait for Redis"
            assert "No wake-ups for plan" in caplog.text
            proxy.start()
            await until(lambda: subscribers(plan) == 1, what="the hub to subscribe once Redis is back")
            shared_redis().publish(wake_channel(plan), b"")
            await asyncio.wait_for(waker.wait(), timeout=2)

    try:
        async_to_sync(scenario)()
    finally:
        proxy.stop()


def test_the_hub_reconnects_when_its_connection_goes_silent(settings, caplog):
    """A half-open connection (the network, not Redis, went away) looks alive: the hub PINGs an idle
    connection and takes one that stays silent for `silent_reads` reads as dead. Meanwhile a plan's first
    subscriber waits (a little) for Redis to confirm its SUBSCRIBE, is polled without it, and is subscribed
    once the hub has reconnected."""
    proxy = FreezingProxy(redis_port())
    settings.EVENTS_WAKE_URL = f"redis://127.0.0.1:{proxy.port}/0"
    plan, later = uuid4(), uuid4()

    async def woken(plan_id, waker) -> bool:
        deadline = time.monotonic() + 5
        while not waker.is_set() and time.monotonic() < deadline:
            shared_redis().publish(wake_channel(plan_id), b"")
            await asyncio.sleep(0.1)
        return waker.is_set()

    async def scenario() -> None:
        hub = quick_hub()
        hub.subscribe_seconds, hub.socket_timeout = 0.3, 1.0
        async with hub.subscription(plan) as waker:
            proxy.blackhole()  # the hub's connection stays open and silent for good
            started = time.monotonic()
            async with hub.subscription(later) as later_waker:
                assert time.monotonic() - started >= hub.subscribe_seconds, "waited for a confirmation"
                assert f"No wake-ups for plan {later}" in caplog.text
                proxy.heal()  # new connections get through
                assert await woken(plan, waker), "subscribed again over a new connection"
                assert await woken(later, later_waker), "subscribed at last"

    try:
        async_to_sync(scenario)()
    finally:
        proxy.close()


def test_the_hub_closes_its_connection_when_its_event_loop_ends(settings):
    """Its tasks are cancelled while the listener blocks in a read and a stream holds a subscription:
    `asyncio.run` returns at once, and the hub's connection is closed."""
    settings.EVENTS_POLL_SECONDS = 60  # no database session in the loop's own threads
    plan, name = uuid4(), f"partyplanner:hub:{os.getpid()}"

    def hub_connections() -> int:
        return sum(client["name"] == name for client in shared_redis().client_list())

    async def scenario() -> None:
        hub = plan_hub()
        entered = asyncio.Event()

        async def watch() -> None:
            async with hub.subscription(plan):
                entered.set()
                await asyncio.sleep(60)

        watcher = asyncio.create_task(watch())
        await asyncio.wait_for(entered.wait(), timeout=5)
        assert hub._pubsub.connection.socket_timeout == hub.socket_timeout > hub.read_seconds
        assert hub_connections() == 1 and subscribers(plan) == 1
        assert not watcher.done()

    ended_within(10, scenario)
    eventually(lambda: hub_connections() == 0 and subscribers(plan) == 0, what="the hub's connection to close")


class CancelLosingPubSub:
    """In place of redis-py's PubSub, a read that loses a cancellation, as redis-py's can: the first one comes
    back as a read timeout (`error=True`) or is retried away (the read blocks again)."""

    connection = None

    def __init__(self, *, error: bool) -> None:
        self.error = error
        self.reads = 0

    async def connect(self) -> None:
        pass

    async def get_message(self, timeout: float) -> dict | None:
        self.reads += 1
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            if self.error:
                raise redis.exceptions.TimeoutError("Timeout reading from 127.0.0.1:6379") from None
            await asyncio.sleep(60)  # blocks again; only a second cancellation ends it
        return None

    async def aclose(self) -> None:
        pass


def ended_within(seconds: float, scenario):
    """`asyncio.run(scenario())` in a thread of its own, and its result. Fails when that (the loop's shutdown
    included) has not ended within `seconds`, as it never would with a task that outlives its
    cancellation; the thread is then left behind."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = asyncio.run(scenario())
        except BaseException as error:  # noqa: BLE001 - handed over to the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="ended-within", daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"asyncio.run still running after {seconds} s: a task outlived its cancellation"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


@pytest.mark.parametrize("error", [True, False], ids=["as-an-error", "retried-away"])
def test_the_hub_listener_ends_when_cancelled_even_if_the_read_loses_the_cancellation(error):
    async def scenario() -> int:
        hub, pubsub = PlanHub(), CancelLosingPubSub(error=error)
        hub._pubsub = pubsub
        listener = asyncio.create_task(hub._listen(pubsub))
        await asyncio.sleep(0.05)
        listener.cancel()
        await asyncio.wait({listener}, timeout=3)
        assert listener.cancelled(), "the listener ended, as cancelled"
        assert hub._pubsub is None, "and closed the hub's connection"
        return pubsub.reads

    assert ended_within(10, scenario) == 1, "no read after the cancellation"
