"""Readiness: can this instance serve plans right now? Liveness stays trivial (api.views.HealthApi).

Ready means the database answers, the broker answers, and at least one worker answers a ping
(asked with a short timeout; a positive answer is reused for READINESS_WORKER_CACHE seconds, so
probes do not flood the workers). Each agent's circuit breaker is reported too: an open breaker
makes the instance degraded (that agent's part of new plans will be missing), not unready.
"""

import time
from typing import Any

from django.conf import settings
from django.db import connection

from partyproject.metrics import agent_names, breaker_states

_workers_seen: dict[str, float] = {}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def database_check() -> dict[str, Any]:
    """The database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        connection.close_if_unusable_or_obsolete()
        return {"ok": False, "error": _describe(exc)}


def broker_check() -> dict[str, Any]:
    """The broker accepts a connection (one attempt, short timeouts)."""
    from partyproject.celery import app

    try:
        with app.connection_for_write(connect_timeout=1, transport_options={"socket_timeout": 1}) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, interval_max=0.2, timeout=1)
            conn.default_channel  # noqa: B018 - opening the channel is the check (Redis: PING)
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return {"ok": False, "error": _describe(exc)}


def workers_check() -> dict[str, Any]:
    """At least one worker answers a ping; a positive answer is reused for a few seconds."""
    from partyproject.celery import app

    seen = _workers_seen.get("at", 0.0)
    if time.monotonic() - seen < settings.READINESS_WORKER_CACHE:
        return {"ok": True, "answering": int(_workers_seen["count"]), "cached": True}
    try:
        replies = app.control.ping(timeout=settings.READINESS_WORKER_TIMEOUT) or []
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return {"ok": False, "answering": 0, "error": _describe(exc)}
    if replies:
        _workers_seen.update(at=time.monotonic(), count=len(replies))
    return {"ok": bool(replies), "answering": len(replies), "cached": False}


def workers_check_forget() -> None:
    """Drop the remembered worker answer (tests)."""
    _workers_seen.clear()


def agents_check() -> dict[str, str]:
    """Each agent's breaker state (closed, open, half-open; unknown when Redis cannot be read)."""
    try:
        return {provider.removeprefix("catalog."): state for provider, state in breaker_states().items()}
    except Exception:  # noqa: BLE001 - an unreadable breaker is reported, not raised
        return dict.fromkeys(agent_names(), "unknown")


def readiness_report() -> dict[str, Any]:
    """Every check, and the verdict: ready, degraded (ready, some breaker not closed) or not_ready."""
    checks = {"database": database_check(), "broker": broker_check()}
    checks["workers"] = workers_check() if checks["broker"]["ok"] else {"ok": False, "answering": 0}
    agents = agents_check()
    if not all(check["ok"] for check in checks.values()):
        status = "not_ready"
    elif any(state != "closed" for state in agents.values()):
        status = "degraded"
    else:
        status = "ready"
    return {"status": status, "checks": checks, "agents": agents}
