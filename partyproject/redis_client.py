"""One Redis connection pool per process for our own keys (breakers, fault injection)."""

from functools import cache

import redis
from django.conf import settings


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def redis_client() -> redis.Redis:
    """The client for settings.REDIS_URL (not decoding responses, as pybreaker's storage needs)."""
    return _client(settings.REDIS_URL)


def redis_client_reset() -> None:
    """Drop cached clients, e.g. after REDIS_URL changed."""
    _client.cache_clear()
