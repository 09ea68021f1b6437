"""Live plan events over WebSocket (`/ws/v1/plans/{id}/`) and Server-Sent Events (`/api/v1/plans/{id}/stream/`).

Both give the same guarantee: every event after the client's position (`?after=N`, or SSE's
`Last-Event-ID`), then live events, in order, with no gap and no duplicate, because every event sent
is read from the log by sequence number; a wake-up (Redis pub/sub, see events.hub) only says when to
read. The terminal event ends the stream. A client that cannot take a frame within
EVENTS_SEND_TIMEOUT_SECONDS is disconnected with a reason; each connection holds at most one page of
events in memory.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from planning.models import Plan

from . import selectors
from .auth import scope_user
from .hub import plan_hub
from .schema import HEARTBEAT

logger = logging.getLogger(__name__)

# WebSocket close codes (4000-4999 are the application's).
CLOSE_NORMAL = 1000
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_SLOW_CLIENT = 4408
SLOW_CLIENT_REASON = "slow client: a frame waited longer than the send timeout"


class StreamRefused(Exception):
    """The client may not open this stream; `kind` is unauthenticated, forbidden or bad_request."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class StreamRequest:
    plan_id: UUID
    after: int


@database_sync_to_async
def _plan_visible(user, plan_id: UUID) -> bool:
    try:
        selectors.plan_for_viewer(user=user, plan_id=plan_id)
    except Plan.DoesNotExist:
        return False
    return True


async def stream_authorize(scope: dict, *, after: str | None) -> StreamRequest:
    """Check who asks for which plan from where; raises StreamRefused."""
    user = await scope_user(scope)
    if user is None:
        raise StreamRefused("unauthenticated", "A valid access token or a signed-in session is required.")
    plan_id = scope["url_route"]["kwargs"]["plan_id"]
    if not await _plan_visible(user, plan_id):
        raise StreamRefused("forbidden", "No such plan among yours.")
    try:
        position = int(after or 0)
    except ValueError:
        position = -1
    if position < 0:
        raise StreamRefused("bad_request", "`after` must be a non-negative event number.")
    return StreamRequest(plan_id=plan_id, after=position)


async def plan_event_stream(request: StreamRequest) -> AsyncIterator[dict[str, Any]]:
    """The plan's events after the request's position, then live ones, ending after the terminal
    event; a heartbeat whenever nothing happened for EVENTS_HEARTBEAT_SECONDS."""
    hub = plan_hub()
    async with hub.subscription(request.plan_id) as waker:
        last = request.after
        while True:
            waker.clear()  # before reading, so a wake-up during the read is not lost
            events, ended = await hub.read(request.plan_id, after=last)
            for event in events:
                yield event
                last = event["seq"]
            if ended:
                return
            if events:
                continue
            try:
                await asyncio.wait_for(waker.wait(), timeout=settings.EVENTS_HEARTBEAT_SECONDS)
            except TimeoutError:
                yield HEARTBEAT


def _query_param(scope: dict, name: str) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else None


class PlanEventsConsumer(AsyncWebsocketConsumer):
    """`/ws/v1/plans/{id}/?after=N`: JSON text frames, one event each, or a heartbeat."""

    channel_layer_alias = "no-layer-per-connection"  # the process's hub holds the one subscription

    async def connect(self) -> None:
        # Accept first: a close code (4401, 4403) reaches the client only over an open WebSocket.
        await self.accept()
        try:
            request = await stream_authorize(self.scope, after=_query_param(self.scope, "after"))
        except StreamRefused as refused:
            code = {"unauthenticated": CLOSE_UNAUTHENTICATED, "forbidden": CLOSE_FORBIDDEN}.get(
                refused.kind, CLOSE_BAD_REQUEST
            )
            await self.close(code=code, reason=str(refused))
            return
        self.pump = asyncio.create_task(self._pump(request))

    async def disconnect(self, code: int) -> None:
        pump = getattr(self, "pump", None)
        if pump is not None:
            pump.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Clients have nothing to say; what they send is ignored (pings are answered by the server)."""

    async def _pump(self, request: StreamRequest) -> None:
        timeout = settings.EVENTS_SEND_TIMEOUT_SECONDS
        code, reason = CLOSE_NORMAL, "plan ended"
        try:
            async with contextlib.aclosing(plan_event_stream(request)) as frames:
                async for frame in frames:
                    await asyncio.wait_for(self.send(text_data=json.dumps(frame)), timeout=timeout)
        except TimeoutError:
            logger.info("Disconnecting a slow WebSocket client of plan %s", request.plan_id)
            code, reason = CLOSE_SLOW_CLIENT, SLOW_CLIENT_REASON
        except Exception:
            logger.exception("Event stream of plan %s failed", request.plan_id)
            code, reason = 1011, "server error"
        # The subscription is released by now; the close frame queues behind what the client has not
        # read yet, and this task waits (holding nothing else) until it can be written.
        await self.close(code=code, reason=reason)


def sse_frame(frame: dict[str, Any]) -> bytes:
    """One Server-Sent Events message: `id` is the event's seq (what `Last-Event-ID` resumes from)."""
    if frame.get("type") == "heartbeat":
        return b": heartbeat\n\n"
    return f"id: {frame['seq']}\nevent: {frame['type']}\ndata: {json.dumps(frame)}\n\n".encode()


class PlanEventsSse:
    """`GET /api/v1/plans/{id}/stream/?after=N` (or `Last-Event-ID: N`) as `text/event-stream`."""

    STATUS = {"unauthenticated": 401, "forbidden": 404, "bad_request": 400}
    CODES = {"unauthenticated": "not_authenticated", "forbidden": "not_found", "bad_request": "invalid"}

    async def __call__(self, scope: dict, receive, send) -> None:
        headers = dict(scope.get("headers", []))
        after = headers.get(b"last-event-id", b"").decode("latin-1") or _query_param(scope, "after")
        if scope["method"] not in ("GET", "HEAD"):
            await self._error(send, 405, "method_not_allowed", "Use GET.")
            return
        try:
            request = await stream_authorize(scope, after=after)
        except StreamRefused as refused:
            await self._error(send, self.STATUS[refused.kind], self.CODES[refused.kind], str(refused))
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache"),
                    (b"x-accel-buffering", b"no"),
                ],
            }
        )
        pump = asyncio.create_task(self._pump(request, send))
        gone = asyncio.create_task(self._disconnected(receive))
        await asyncio.wait({pump, gone}, return_when=asyncio.FIRST_COMPLETED)
        for task in (pump, gone):
            task.cancel()
        await asyncio.gather(pump, gone, return_exceptions=True)

    @staticmethod
    async def _disconnected(receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    @staticmethod
    async def _pump(request: StreamRequest, send) -> None:
        timeout = settings.EVENTS_SEND_TIMEOUT_SECONDS
        try:
            async with contextlib.aclosing(plan_event_stream(request)) as frames:
                async for frame in frames:
                    body = {"type": "http.response.body", "body": sse_frame(frame), "more_body": True}
                    await asyncio.wait_for(send(body), timeout=timeout)
        except TimeoutError:
            logger.info("Dropping a slow SSE client of plan %s", request.plan_id)
            return  # the server closes the connection when the application returns mid-body
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _error(send, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()  # the API's one error shape
        headers = [(b"content-type", b"application/json")]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="api"'))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
