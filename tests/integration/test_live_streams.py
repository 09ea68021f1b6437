"""Live event streams on a real ASGI server (uvicorn subprocess) with real WebSocket and SSE clients."""

import base64
import contextlib
import json
import os
import socket
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agents.faults import fault_set
from partyproject.embedded import EmbeddedServices, free_port, port_in_use, wait_until
from planning.models import PlanEvent
from tests.conftest import child_process_env, client_for, user_create
from tests.events_helpers import (
    events_append,
    plan_end,
    plan_with_events,
    small_receive_buffer_socket,
    sse_events,
    sse_open,
    token_for,
    ws_connect,
    ws_frames,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def close_code(ws) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    return closed.value.rcvd.code, closed.value.rcvd.reason


def seqs(frames) -> list[int]:
    return [frame["seq"] for frame in frames]


def test_websocket_refuses_a_missing_or_bad_token_with_4401_and_another_users_plan_with_4403(asgi_server, user):
    plan = plan_with_events(user, 2)
    other = user_create("mallory")
    for token in (None, "not-a-jwt", token_for(user)[:-4] + "AAAA"):
        with ws_connect(asgi_server, plan.id, token=token) as ws:
            assert close_code(ws)[0] == 4401
    with ws_connect(asgi_server, plan.id, token=token_for(other)) as ws:
        assert close_code(ws)[0] == 4403
    with ws_connect(asgi_server, plan.id, token=token_for(user), after="-3") as ws:
        assert close_code(ws)[0] == 4400


def test_websocket_refuses_other_sites_pages_but_not_token_clients_without_an_origin(asgi_server, user):
    plan = plan_with_events(user, 1, end=True)
    with pytest.raises(InvalidStatus):
        ws_connect(asgi_server, plan.id, token=token_for(user), origin="https://evil.example")
    with ws_connect(asgi_server, plan.id, token=token_for(user), origin="http://127.0.0.1") as ws:
        assert seqs(ws_frames(ws)) == [1, 2]


def test_staff_may_watch_any_plan(asgi_server, user):
    plan = plan_with_events(user, 3, end=True)
    staff = user_create("operator", is_staff=True)
    with ws_connect(asgi_server, plan.id, token=token_for(staff)) as ws:
        assert seqs(ws_frames(ws)) == [1, 2, 3, 4]


def test_a_subscriber_that_joins_after_the_plan_ended_gets_everything_then_a_normal_close(asgi_server, user):
    plan = plan_with_events(user, 5, end=True)
    with ws_connect(asgi_server, plan.id, token=token_for(user)) as ws:
        frames = ws_frames(ws)
        assert ws.close_code == 1000
    assert seqs(frames) == [1, 2, 3, 4, 5, 6]
    assert frames[-1]["type"] == "plan.complete" and frames[0]["v"] == 1 and frames[0]["plan_id"] == str(plan.id)
    with ws_connect(asgi_server, plan.id, token=token_for(user), after=4) as ws:
        assert seqs(ws_frames(ws)) == [5, 6]
    with ws_connect(asgi_server, plan.id, token=token_for(user), after=6) as ws:
        assert ws_frames(ws) == [] and ws.close_code == 1000


def test_catch_up_while_events_are_committed_has_no_gap_and_no_duplicate(asgi_server, user):
    """Events keep committing while several clients replay from different positions: each one ends with
    exactly the rest of the log, in order."""
    plan = plan_with_events(user, 150)
    writer = threading.Thread(target=lambda: (events_append(plan.id, 150), plan_end(plan.id)))
    with contextlib.ExitStack() as stack:
        clients = [
            stack.enter_context(ws_connect(asgi_server, plan.id, token=token_for(user), after=after))
            for after in (0, 40, 149)
        ]
        writer.start()
        results = [ws_frames(ws) for ws in clients]
        writer.join()
    for after, frames in zip((0, 40, 149), results, strict=True):
        assert seqs(frames) == list(range(after + 1, 302))


def test_heartbeats_flow_while_a_plan_is_quiet(asgi_server, user):
    plan = plan_with_events(user, 1)
    with ws_connect(asgi_server, plan.id, token=token_for(user)) as ws:
        assert json.loads(ws.recv(timeout=5))["seq"] == 1
        assert json.loads(ws.recv(timeout=5))["type"] == "heartbeat"
        plan_end(plan.id)
        assert seqs(ws_frames(ws)) == [2]


def test_each_live_event_arrives_on_its_wake_up_well_before_the_poll(asgi_server, user):
    """A commit in this process PUBLISHes a wake-up that the server's hub receives at once. Without it,
    events committed 0.4 s apart (so at every phase of the server's 1 s poll) would wait up to 1 s."""
    plan = plan_with_events(user, 1)
    with ws_connect(asgi_server, plan.id, token=token_for(user), after=1) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "heartbeat"  # subscribed, and waiting
        delays = []
        for seq in range(2, 7):
            committing = time.monotonic()
            events_append(plan.id, 1)
            while (frame := json.loads(ws.recv(timeout=5)))["type"] == "heartbeat":
                pass
            delays.append(time.monotonic() - committing)
            assert frame["seq"] == seq
            time.sleep(0.4)
        plan_end(plan.id)
        assert seqs(ws_frames(ws)) == [7]
    assert max(delays) < 0.5, delays


def test_permessage_deflate_is_negotiated(asgi_server, user):
    plan = plan_with_events(user, 1, end=True)
    with ws_connect(asgi_server, plan.id, token=token_for(user)) as ws:
        assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")
        ws_frames(ws)


def test_a_slow_client_is_disconnected_with_a_reason_and_does_not_hold_up_others(asgi_server, user):
    plan = plan_with_events(user, 1)
    token = token_for(user)
    slow_socket = small_receive_buffer_socket(asgi_server)
    with (
        ws_connect(asgi_server, plan.id, token=token, sock=slow_socket, compression=None) as slow,
        ws_connect(asgi_server, plan.id, token=token) as fast,
    ):
        fast_frames: list[dict] = []
        reader = threading.Thread(target=lambda: fast_frames.extend(ws_frames(fast)))
        reader.start()
        events_append(plan.id, 400, payload_bytes=16_000)  # ~6 MB the slow client never reads
        plan_end(plan.id)
        started = time.monotonic()
        reader.join(timeout=60)
        assert seqs(fast_frames) == list(range(1, 403))
        assert time.monotonic() - started < 20, "the fast client kept up while the slow one stalled"
        time.sleep(3)  # longer than the server's send timeout (2 s in tests)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                slow.recv(timeout=30)
    # The close frame arrives after what was buffered for the client before it fell behind.
    assert closed.value.rcvd.code == 4408 and "slow client" in closed.value.rcvd.reason
    assert PlanEvent.objects.filter(plan_id=plan.id).count() == 402


def test_a_client_that_stops_answering_pings_is_disconnected(user, tmp_path):
    """A dead peer (no pong within the ping timeout: 1 s on this server of its own, 20 s in the demo) is closed."""
    plan = plan_with_events(user, 1)
    port = free_port()
    with EmbeddedServices(log_dir=tmp_path) as services:
        services.start_server(port=port, env=child_process_env(), ping_seconds=1)
        wait_until(lambda: port_in_use(port), timeout=30, what="the ASGI server")
        sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            f"GET /ws/v1/plans/{plan.id}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token_for(user)}\r\n\r\n".encode()
        )
        started = time.monotonic()
        received = b""
        while chunk := sock.recv(65536):  # the client reads but never answers a ping
            received += chunk
        elapsed = time.monotonic() - started
        sock.close()
    assert received.startswith(b"HTTP/1.1 101") and b"keepalive ping timeout" in received
    assert 1 <= elapsed < 15, "closed by the keepalive, not at once and not never"


def test_sse_answers_401_without_a_token_and_404_for_another_users_plan(asgi_server, user):
    plan = plan_with_events(user, 1, end=True)
    missing = sse_open(asgi_server, plan.id)
    assert missing.status == 401 and json.loads(missing.read())["error"]["code"] == "not_authenticated"
    assert sse_open(asgi_server, plan.id, token="garbage").status == 401
    other = sse_open(asgi_server, plan.id, token=token_for(user_create("eve")))
    assert other.status == 404 and json.loads(other.read())["error"]["code"] == "not_found"


def test_sse_replays_resumes_from_last_event_id_and_ends_with_the_plan(asgi_server, user):
    plan = plan_with_events(user, 4)
    token = token_for(user)
    writer = threading.Timer(0.5, lambda: (events_append(plan.id, 3), plan_end(plan.id)))
    writer.start()
    response = sse_open(asgi_server, plan.id, token=token)
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(response)
    writer.join()
    assert [int(event["id"]) for event in events] == list(range(1, 9))
    assert events[-1]["event"] == "plan.complete" and events[-1]["data"]["seq"] == 8
    resumed = sse_events(sse_open(asgi_server, plan.id, token=token, headers={"Last-Event-ID": "5"}))
    assert [int(event["id"]) for event in resumed] == [6, 7, 8]
    by_query = sse_events(sse_open(asgi_server, plan.id, token=token, query="?after=7"))
    assert [int(event["id"]) for event in by_query] == [8]


def test_a_real_plan_streamed_with_a_reconnect_in_the_middle_ends_with_exactly_its_log(
    asgi_server, catalog, user, worker
):
    """A real plan on the worker (slowed down a little): the client drops the connection after a few
    events and reconnects with `after`; together it has seen every event exactly once, in order."""
    fault_set("venue", latency_ms=300)
    fault_set("budget", latency_ms=300)
    client = client_for(user)
    token = token_for(user)
    plan_id = client.post("/api/v1/plans/", {"text": "Birthday for 25 kids in Austin, $1200"}, format="json").json()[
        "id"
    ]
    with ws_connect(asgi_server, plan_id, token=token) as ws:
        first = [json.loads(ws.recv(timeout=30)) for _ in range(4)]
    with ws_connect(asgi_server, plan_id, token=token, after=first[-1]["seq"]) as ws:
        rest = ws_frames(ws)
    frames = first + rest
    log = list(PlanEvent.objects.filter(plan_id=plan_id).order_by("seq").values_list("seq", "type"))
    assert [(frame["seq"], frame["type"]) for frame in frames] == log
    assert frames[-1]["type"] in ("plan.complete", "plan.partial")
    agent_types = {frame["type"] for frame in frames if frame["agent"]}
    assert {"agent.started", "agent.succeeded"} <= agent_types
