"""Helpers for the event-stream tests: plans with hand-written event logs, and stream clients."""

import json
import os
import socket
import urllib.error
import urllib.request
from uuid import UUID

from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

from planning.models import Plan, PlanStatus
from planning.services import event_append, events_announce


def without_wake_ups(callbacks: list) -> list:
    """The on-commit callbacks other than the event wake-ups (`event_append` adds one per transaction and plan)."""
    return [callback for callback in callbacks if getattr(callback, "func", None) is not events_announce]


def token_for(user) -> str:
    return str(AccessToken.for_user(user))


def plan_with_events(owner, count: int, *, end: bool = False, payload_bytes: int = 0) -> Plan:
    """A running plan with `count` committed events (and a terminal one when `end`)."""
    plan = Plan.objects.create(owner=owner, status=PlanStatus.RUNNING, request_text="test")
    events_append(plan.id, count, payload_bytes=payload_bytes)
    if end:
        plan_end(plan.id)
    return plan


def events_append(plan_id: UUID, count: int, *, payload_bytes: int = 0) -> None:
    """Commit `count` progress events, each in its own transaction (as the agents do)."""
    for _ in range(count):
        with transaction.atomic():
            pad = os.urandom(payload_bytes // 2).hex()
            event_append(plan_id=plan_id, type="agent.started", agent="venue", payload={"pad": pad})


def plan_end(plan_id: UUID) -> None:
    with transaction.atomic():
        Plan.objects.filter(pk=plan_id).update(status=PlanStatus.COMPLETE)
        event_append(plan_id=plan_id, type="plan.complete", payload={"total_cost": 1})


def ws_connect(server: str, plan_id, *, token: str | None = None, after: int | None = None, **options):
    query = f"?after={after}" if after is not None else ""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return connect(
        f"ws://{server}/ws/v1/plans/{plan_id}/{query}", additional_headers=headers, open_timeout=10, **options
    )


def ws_frames(ws, *, timeout: float = 30) -> list[dict]:
    """Every frame until the server closes the connection (heartbeats left out)."""
    frames = []
    while True:
        try:
            frame = json.loads(ws.recv(timeout=timeout))
        except ConnectionClosedOK:
            return frames
        if frame["type"] != "heartbeat":
            frames.append(frame)


def sse_open(server: str, plan_id, *, token: str | None = None, headers: dict | None = None, query: str = ""):
    request = urllib.request.Request(f"http://{server}/api/v1/plans/{plan_id}/stream/{query}", headers=headers or {})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        return urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        return error


def sse_events(response) -> list[dict]:
    """Parse a whole event-stream body into (id, event, data) dicts; comments (heartbeats) left out."""
    events, current = [], {}
    for raw in response:
        line = raw.decode().rstrip("\n")
        if not line:
            if current:
                events.append(current)
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            current[name] = json.loads(value) if name == "data" else value
    return events


def small_receive_buffer_socket(server: str) -> socket.socket:
    """A connected socket with a tiny receive window, for a client that reads slowly."""
    host, port = server.split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    return sock
