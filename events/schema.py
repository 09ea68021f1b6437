"""The wire format of a plan event, shared by the history API, WebSocket, SSE and the event bus.

Version 1: {"v", "plan_id", "seq", "revision", "type", "agent", "payload", "at"} (`revision` added with
plan revisions; 1 for every event before them). Fields are only ever added
within a version; a renamed or removed field means a new `v`.
"""

import datetime
from typing import Any
from uuid import UUID

SCHEMA_VERSION = 1
TERMINAL_TYPES = frozenset({"plan.complete", "plan.partial", "plan.failed", "plan.cancelled"})
HEARTBEAT = {"v": SCHEMA_VERSION, "type": "heartbeat"}


def event_envelope(
    *,
    plan_id: UUID | str,
    seq: int,
    type: str,
    agent: str,
    payload: dict,
    created_at: datetime.datetime,
    revision: int = 1,
) -> dict[str, Any]:
    """One event in the versioned wire format."""
    return {
        "v": SCHEMA_VERSION,
        "plan_id": str(plan_id),
        "seq": seq,
        "revision": revision,
        "type": type,
        "agent": agent,
        "payload": payload,
        "at": created_at.isoformat(),
    }


def is_terminal(envelope: dict[str, Any]) -> bool:
    """True for the event that ends a plan (the last one of its stream)."""
    return envelope.get("type") in TERMINAL_TYPES
