"""The two kinds of agent error: worth retrying, or not."""

import pybreaker
import redis
from django.db import InterfaceError, OperationalError


class TransientAgentError(Exception):
    """A dependency failed in a way that may pass (timeout, connection, a provider's 5xx)."""


class PermanentAgentError(Exception):
    """Retrying cannot help (bad data, a bug, a provider's 4xx)."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientAgentError,
    pybreaker.CircuitBreakerError,
    OperationalError,
    InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
    ConnectionError,
    TimeoutError,
)
