"""The WebSocket and SSE streams in-process (channels' communicators against the project's ASGI
application), the hub's cache, the credentials function and the wake-up signal."""

import asyncio
import datetime
import json
import threading
import time
from uuid import uuid4

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator, WebsocketCommunicator

from events import auth, notify
from events.hub import PlanFeed, PlanHub
from events.schema import HEARTBEAT, event_envelope, is_terminal
from events.streams import sse_frame
from partyproject.asgi import application
from tests.conftest import user_create
from tests.events_helpers import events_append, plan_end, plan_with_events, token_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _quick_streams(settings):
    settings.EVENTS_HEARTBEAT_SECONDS = 0.3
    settings.EVENTS_POLL_SECONDS = 0.2
    settings.EVENTS_SEND_TIMEOUT_SECONDS = 2


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
    settings.CHANNEL_LAYERS = {}  # no wake-ups at all: only the hub's poll of the plans' heads
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


def test_the_wake_up_never_raises_or_blocks_when_the_channel_layer_is_down(settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    sent = notify.plan_wake(plan_id=uuid4())
    assert sent is not None
    with pytest.raises(Exception):  # noqa: B017 - whatever the connection error, it stays in the sender
        sent.result(timeout=10)
    for _ in range(50):  # the sender logs from its own thread, just after the result is set
        if "Could not signal new events" in caplog.text:
            break
        time.sleep(0.05)
    assert "Could not signal new events" in caplog.text
    full = notify.WakeSender()
    full.pending = notify.MAX_PENDING
    assert full.send(object(), uuid4()) is None, "beyond the bound a wake-up is dropped"
    settings.CHANNEL_LAYERS = {}
    assert notify.plan_wake(plan_id=uuid4()) is None  # no layer configured: nothing to do


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


class CancelLosingLayer:
    """A channel layer whose blocking receive loses a cancellation, as redis-py and channels_redis can
    together: the first one comes back as a read timeout (`error=True`) or is retried away (the receive
    blocks again)."""

    def __init__(self, *, error: bool) -> None:
        self.error = error
        self.receives = 0

    async def receive(self, channel: str) -> dict:
        self.receives += 1
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            if self.error:
                raise TimeoutError("Timeout reading from 127.0.0.1:6379") from None
            await asyncio.sleep(60)  # blocks again; only a second cancellation ends it
        return {}


@pytest.mark.parametrize("error", [True, False], ids=["as-an-error", "retried-away"])
def test_the_hub_listener_ends_when_cancelled_even_if_the_layer_loses_the_cancellation(error):
    async def scenario() -> int:
        hub, layer = PlanHub(), CancelLosingLayer(error=error)
        hub._channel = "events.hub.test"
        listener = asyncio.create_task(hub._listen(layer))
        await asyncio.sleep(0.05)
        listener.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(listener, timeout=5)
        return layer.receives

    assert async_to_sync(scenario)() == 1, "no retry after the cancellation"


def test_the_channel_layer_socket_outlasts_its_blocking_receive(settings):
    from channels_redis.core import RedisChannelLayer

    (host,) = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
    assert host["socket_timeout"] > RedisChannelLayer.brpop_timeout
