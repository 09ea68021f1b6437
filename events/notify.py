"""The wake-up signal: after a plan's events commit, tell the processes that stream it to read the log.

A wake-up is one Redis `PUBLISH` of an empty message on the plan's channel (`wake_channel`), sent by the
committing thread on EVENTS_WAKE_URL. It carries no event, and Redis pub/sub delivers it at most once, to
whoever is subscribed at that moment; a lost one (Redis away, a subscriber reconnecting) only delays
delivery until the subscribers' next poll of the log, which is the only source of truth.

Sending never raises and is bounded by short timeouts; after a failure this process publishes nothing for
QUIET_SECONDS, so a Redis that is away costs one slow commit per quiet period rather than every commit.
"""

import logging
import threading
import time
from functools import cache
from uuid import UUID

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from partyproject.redis_client import redis_client_for

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "partyplanner:wake:"
TIMEOUT_SECONDS = 0.5  # connect, send and reply; a timeout is not retried
QUIET_SECONDS = 1.0

_quiet_until = 0.0
_quiet_lock = threading.Lock()


def wake_channel(plan_id: UUID | str) -> str:
    """The pub/sub channel of a plan's wake-ups (channels are per server: the URL's db plays no part)."""
    return f"{CHANNEL_PREFIX}{UUID(str(plan_id)).hex}"


@cache
def _client(url: str, master: str) -> redis.Redis:
    # One retry, at once, and only for a connection error: a pooled connection that Redis closed (a
    # restart) fails at once and a fresh one succeeds; a refused connection fails at once, twice. A timeout
    # is not retried, so a Redis that does not answer costs TIMEOUT_SECONDS, not twice that.
    retry = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
    return redis_client_for(
        url, master=master, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS, retry=retry
    )


def plan_wake(*, plan_id: UUID | str) -> bool:
    """Signal that a plan has new committed events; returns whether the signal went out. Never raises:
    a lost signal only delays delivery until the subscribers' next poll."""
    global _quiet_until
    url = settings.EVENTS_WAKE_URL
    if not url or time.monotonic() < _quiet_until:
        return False
    try:
        _client(url, settings.REDIS_SENTINEL_MASTER).publish(wake_channel(plan_id), b"")
    except Exception as error:  # noqa: BLE001 - a wake-up never fails the commit that sends it
        with _quiet_lock:
            first = time.monotonic() >= _quiet_until
            _quiet_until = time.monotonic() + QUIET_SECONDS
        if first:
            logger.warning(
                "Could not signal new events of plan %s (%s: %s); no wake-ups for %.1f s",
                plan_id,
                type(error).__name__,
                error,
                QUIET_SECONDS,
            )
        return False
    return True
