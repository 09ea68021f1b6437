"""Load shedding: refuse new plans while the broker's backlog is past PLAN_SHED_BACKLOG."""

import logging
import time

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException

from partyproject.metrics import PLANS_SHED
from planning import selectors

logger = logging.getLogger(__name__)

BACKLOG_TTL = 1.0
UNREADABLE_TTL = 10.0
_last_read: dict[str, float] = {}


class Overloaded(APIException):
    """503 with Retry-After: too much work is waiting; the caller should come back later."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "overloaded"
    default_detail = "Too many plans are waiting to be worked on; try again later."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


def backlog_now() -> int:
    """The broker's backlog, read at most once a second per process (one Redis round trip).

    A broker that cannot be read counts as no backlog for UNREADABLE_TTL seconds: new plans then wait
    in the dispatch outbox, and requests during an outage pay no connection timeout.
    """
    if time.monotonic() < _last_read.get("until", float("-inf")):
        return int(_last_read["backlog"])
    try:
        backlog, ttl = selectors.broker_backlog(), BACKLOG_TTL
    except Exception as exc:  # noqa: BLE001 - any broker failure: do not shed, the outbox holds the plan
        logger.warning("Could not read the broker's backlog: %s", exc)
        backlog, ttl = 0, UNREADABLE_TTL
    _last_read.update(until=time.monotonic() + ttl, backlog=backlog)
    return backlog


def backlog_forget() -> None:
    """Drop the remembered backlog (tests)."""
    _last_read.clear()


def plan_intake_check() -> None:
    """Raise Overloaded when the backlog is past the bound (a bound of 0 never sheds)."""
    bound = settings.PLAN_SHED_BACKLOG
    if bound and backlog_now() > bound:
        PLANS_SHED.inc()
        raise Overloaded(retry_after=settings.PLAN_SHED_RETRY_AFTER)
