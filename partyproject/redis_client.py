"""Redis clients: one connection pool per process for our own keys (breakers, fault injection), and
clients for any other Redis URL (the events' wake-ups).

A URL is a plain `redis://host:port/db` or, for a highly available Redis, a list of Sentinels in
Celery's form, `sentinel://host1:26379;sentinel://host2:26379/db`, with the master named by
REDIS_SENTINEL_MASTER: the client then asks the Sentinels for the current master on every reconnect.
"""

from functools import cache
from typing import Any
from urllib.parse import urlsplit

import redis
import redis.asyncio
import redis.asyncio.sentinel
from django.conf import settings
from redis.sentinel import Sentinel

TIMEOUTS = {"socket_timeout": 2, "socket_connect_timeout": 2}


def sentinel_addresses(url: str) -> tuple[list[tuple[str, int]], int]:
    """The (host, port) of each Sentinel in a `sentinel://a:26379;sentinel://b:26379/0` URL, and the db."""
    addresses, db = [], 0
    for part in url.split(";"):
        parsed = urlsplit(part.strip())
        addresses.append((parsed.hostname or "127.0.0.1", parsed.port or 26379))
        if parsed.path.strip("/"):
            db = int(parsed.path.strip("/"))
    return addresses, db


def _sentinel_options(options: dict[str, Any]) -> dict[str, Any]:
    """What the Sentinels' own clients take from a master client's options: timeouts and retries."""
    return {name: value for name, value in options.items() if name.startswith("socket_") or name == "retry"}


def redis_client_for(url: str, *, master: str | None = None, **options: Any) -> redis.Redis:
    """A new client for `url`, plain or Sentinel (`master` defaults to REDIS_SENTINEL_MASTER); `options`
    (timeouts, retry, client_name) apply to its connections and, for the timeouts and retry, to the
    Sentinels'."""
    if url.startswith("sentinel://"):
        addresses, db = sentinel_addresses(url)
        sentinel = Sentinel(addresses, sentinel_kwargs=_sentinel_options(options), **options)
        return sentinel.master_for(master or settings.REDIS_SENTINEL_MASTER, db=db)
    return redis.Redis.from_url(url, **options)


def redis_async_client_for(url: str, *, master: str | None = None, **options: Any) -> redis.asyncio.Redis:
    """As `redis_client_for`, an asyncio client bound to the running event loop; close it with
    `redis_async_close` (a `retry` option must be a `redis.asyncio.retry.Retry`)."""
    if url.startswith("sentinel://"):
        addresses, db = sentinel_addresses(url)
        sentinel = redis.asyncio.sentinel.Sentinel(addresses, sentinel_kwargs=_sentinel_options(options), **options)
        return sentinel.master_for(master or settings.REDIS_SENTINEL_MASTER, db=db)
    return redis.asyncio.Redis.from_url(url, **options)


async def redis_async_close(client: redis.asyncio.Redis) -> None:
    """Close an asyncio client's connections, and its Sentinels' when it has them."""
    await client.aclose(close_connection_pool=True)
    sentinel = getattr(client.connection_pool, "sentinel_manager", None)
    if sentinel is not None:
        await sentinel.aclose()


@cache
def _client(url: str, master: str) -> redis.Redis:
    return redis_client_for(url, master=master, **TIMEOUTS)


def redis_client() -> redis.Redis:
    """The client for settings.REDIS_URL (not decoding responses, as pybreaker's storage needs)."""
    return _client(settings.REDIS_URL, settings.REDIS_SENTINEL_MASTER)


def redis_client_reset() -> None:
    """Drop cached clients, e.g. after REDIS_URL changed."""
    _client.cache_clear()
