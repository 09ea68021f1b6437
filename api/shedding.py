"""Load shedding: refuse new plans while the broker's backlog is past PLAN_SHED_BACKLOG."""

import time

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException

from partyproject.metrics import PLANS_SHED
from planning import selectors

BACKLOG_TTL = 1.0
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
    """The broker's backlog, read at most once a second per process (one Redis round trip)."""
    if time.monotonic() - _last_read.get("at", float("-inf")) >= BACKLOG_TTL:
        _last_read.update(at=time.monotonic(), backlog=selectors.broker_backlog())
    return int(_last_read["backlog"])


def backlog_forget() -> None:
    """Drop the remembered backlog (tests)."""
    _last_read.clear()


def plan_intake_check() -> None:
    """Raise Overloaded when the backlog is past the bound (a bound of 0 never sheds)."""
    bound = settings.PLAN_SHED_BACKLOG
    if bound and backlog_now() > bound:
        PLANS_SHED.inc()
        raise Overloaded(retry_after=settings.PLAN_SHED_RETRY_AFTER)
